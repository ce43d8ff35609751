"""Phase 3, drain: turn the buffered events after the plan's position into records, in order, with a state
message after each batch of DRAIN_BATCH events, so an interrupted sync resumes where it stopped.

A full payload is the record as is; a partial one is replaced by the record fetched by id; a delete becomes
`{id, _ab_cdc_deleted_at}` so Airbyte's dedup destinations delete the row. The drain stops early, leaving the
healing to the next sync, when retention prunes events it has not read yet."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional

from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

from source_zoho_desk.incremental.plan import StreamPlan, first_possible_loss
from source_zoho_desk.incremental.state import iso, parse_time, state_message, utc_now
from source_zoho_desk.incremental.streams import (
    CURSOR_FIELD,
    DELETED_AT_FIELD,
    IncrementalStream,
)
from zoho_desk_webhooks.buffer import EventBuffer
from zoho_desk_webhooks.coverage import COVERAGE_GRACE
from zoho_desk_webhooks.models import StoredEvent

logger = logging.getLogger("airbyte")

DRAIN_BATCH = 1000
ZOHO_ID = re.compile(r"[0-9]+")
RECYCLE_BIN_PAGE = 100


def event_time_iso(event: StoredEvent) -> str:
    """Zoho sends eventTime as epoch milliseconds in a string; ISO has been seen too. Anything else falls back to
    when the receiver stored the event, so one odd event cannot stall every later sync."""
    text = str(event.event_time).strip()
    try:
        if text.isdigit():
            return iso(datetime.fromtimestamp(int(text) / 1000, tz=timezone.utc))
        return iso(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except (ValueError, OverflowError, OSError):
        logger.warning(
            f"Unreadable eventTime {text[:40]!r} at buffer position {event.position}; using the time it was received."
        )
        return iso(event.received_at)


class EventRecords:
    """Turns a batch of buffered events into records, fetching a record by id only when its payload is partial."""

    def __init__(self, plan: StreamPlan, fetch_by_id: Callable[[str, str], Optional[Dict[str, Any]]]) -> None:
        self._stream = plan.stream
        self._fetch_by_id = fetch_by_id
        self._cursor = plan.cursor
        # Events up to this position are older than the snapshot: their updates are superseded by it (and would
        # bring back a record deleted since), their deletes are not.
        self._deletes_only_through = plan.deletes_only_through
        # Mode `both`: ids the poll before the drain listed. Their updates up to the head noted before that poll are
        # older than the polled row (which carries the head's cursor), so only their deletes still count.
        self._polled_through = plan.snapshot_position if plan.poll_since is not None else 0
        self._polled: set = set()
        # What this drain emitted per id: a payload older than that arrived out of order (a retried or concurrent
        # delivery stored after a newer one) and would win by its later position, so the record is fetched instead.
        self._newest_modified: Dict[str, datetime] = {}
        self._deleted: set = set()

    def records(self, events: List[StoredEvent]) -> Iterator[Dict[str, Any]]:
        fetched: Dict[str, Optional[Dict[str, Any]]] = {}
        for event in events:
            record_id = str(event.payload.get("id") or "")
            if not ZOHO_ID.fullmatch(record_id):
                # The id becomes part of a URL below: `../organizations` would fetch (and emit) another resource.
                what = f"whose id {record_id[:40]!r} is not a Zoho record id (digits)" if record_id else "without an id"
                logger.warning(
                    f"{self._stream.name}: skipped a {event.event_type} event {what} (buffer position {event.position})."
                )
                continue
            if self._is_delete(event):
                self._deleted.add(record_id)
                yield {
                    "id": record_id,
                    DELETED_AT_FIELD: event_time_iso(event),
                    CURSOR_FIELD: self._cursor(event.position),
                }
                continue
            if event.position <= self._deletes_only_through:
                continue
            if event.position <= self._polled_through and record_id in self._polled:
                continue
            if all(key in event.payload for key in self._stream.complete_when) and not self._out_of_order(
                record_id, event.payload
            ):
                record = dict(event.payload)
            else:
                if record_id not in fetched:
                    fetched[record_id] = self._fetch(record_id)
                if fetched[record_id] is None:
                    continue  # gone since the event; its delete event follows
                record = dict(fetched[record_id])  # type: ignore[arg-type]
            record[CURSOR_FIELD] = self._cursor(event.position)
            self.note_emitted(record_id, record)
            yield record

    def _fetch(self, record_id: str) -> Optional[Dict[str, Any]]:
        record = self._fetch_by_id(self._stream.detail_path, record_id)
        if record is not None and str(record.get("id")) != record_id:
            logger.warning(
                f"{self._stream.name}: skipped record {record_id}: Zoho Desk answered its fetch with a record "
                f"whose id is {str(record.get('id'))[:40]!r}."
            )
            return None
        return record

    def _out_of_order(self, record_id: str, payload: Mapping[str, Any]) -> bool:
        if record_id in self._deleted:
            return True  # an update stored after the delete: only Zoho knows whether it was restored since
        modified, newest = parse_time(payload.get("modifiedTime")), self._newest_modified.get(record_id)
        return modified is not None and newest is not None and modified < newest

    def note_polled(self, record_id: str, record: Mapping[str, Any]) -> None:
        self._polled.add(record_id)
        self.note_emitted(record_id, record)

    def note_emitted(self, record_id: str, record: Mapping[str, Any]) -> None:
        """Remember a version emitted in this sync, to spot older payloads that arrive later."""
        self._deleted.discard(record_id)
        modified = parse_time(record.get("modifiedTime"))
        if modified is not None and (
            record_id not in self._newest_modified or modified > self._newest_modified[record_id]
        ):
            self._newest_modified[record_id] = modified

    @staticmethod
    def _is_delete(event: StoredEvent) -> bool:
        payload = event.payload
        return event.event_type.endswith("_Delete") or payload.get("isDeleted") is True or payload.get("IsDel") is True


def recycle_bin_deletes(
    list_page: Callable[[int], List[Dict[str, Any]]],
    stream: IncrementalStream,
    since: datetime,
    cursor_of: Callable[[datetime], int],
) -> Iterator[Dict[str, Any]]:
    """Delete records for the stream's entries in Zoho's recycle bin deleted at or after `since`; `cursor_of` gives
    a delete's `_ab_cdc_cursor` from its deletion time.

    `list_page` lists the bin newest deletion first (`sortBy=-deletedTime`), filtered to the stream's module where
    Zoho has the filter, so the read stops at the first page that reaches back past `since`. Rows of other types
    are skipped here too, whatever the filter did. Zoho's spec shows `type` as a list (`["Tickets"]`); a plain
    string is accepted too. The bin keeps deleted records for 60 days (BEHAVIOR.md)."""
    if not stream.recycle_bin_type:
        return
    cutoff = since - COVERAGE_GRACE
    offset = 0
    while True:
        rows = list_page(offset)
        reached_back = False
        for row in rows:
            deleted = parse_time(row.get("deletedTime"))
            if deleted is None:
                continue
            if deleted < cutoff:
                reached_back = True
                continue
            kind = row.get("type")
            kinds = kind if isinstance(kind, list) else [kind]
            if stream.recycle_bin_type in kinds:
                yield {"id": str(row["id"]), DELETED_AT_FIELD: iso(deleted), CURSOR_FIELD: cursor_of(deleted)}
        if reached_back or len(rows) < RECYCLE_BIN_PAGE:
            return
        offset += len(rows)


def drain(
    plan: StreamPlan,
    buffer: EventBuffer,
    org_id: str,
    converter: EventRecords,
    started: Optional[datetime] = None,
) -> Iterator[AirbyteMessage]:
    """Emits the records of every event after the plan's position, with a state message after each batch.
    `started` is in the buffer's clock (its default), like every coverage time."""
    started = started or buffer.clock()
    loss = first_possible_loss(buffer, org_id, plan.coverage_since, started)
    # A possible loss during this sync leaves `covered_until` at its start, so the next sync heals it.
    covered_until = loss[0] if loss else started
    if loss:
        logger.warning(f"{plan.stream.name}: {loss[1]}; the next sync re-reads the stream.")
    head = buffer.head_position(org_id)
    position = plan.drain_from
    emitted = 0
    while position < head:
        events = buffer.read(org_id, after=position, event_types=plan.stream.event_types, limit=DRAIN_BATCH)
        if buffer.pruned_through(org_id) > position:
            # Retention ran while we read: events after `position` may be gone. Keep the state here; the next
            # sync sees the pruned position and heals with a snapshot.
            logger.warning(
                f"{plan.stream.name}: the buffer's retention removed events after position {position:,} "
                "while this sync read them; the next sync re-reads the stream."
            )
            yield state_message(plan, position, covered_until)
            return
        events = [event for event in events if event.position <= head]
        if not events:
            break
        for record in converter.records(events):
            emitted += 1
            yield AirbyteMessage(
                type=Type.RECORD,
                record=AirbyteRecordMessage(
                    stream=plan.stream.name, data=record, emitted_at=int(utc_now().timestamp() * 1000)
                ),
            )
        position = events[-1].position
        yield state_message(plan, position, covered_until)
    # Events of other modules may lie between the last one of ours and the head: skip past them too.
    yield state_message(plan, max(position, head), covered_until)
    logger.info(
        f"{plan.stream.name}: {emitted:,} records from webhook events up to buffer position {max(position, head):,}."
    )

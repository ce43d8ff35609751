"""Incremental sync from the webhook buffer: which streams, from where, and how events become records.

A stream's state is `{"position": N, "covered_until": ISO}`: every buffered event up to position N was emitted,
and the receiver was known to be up from the last look at the buffer until `covered_until`. Two optional keys:
`cursor_offset` (added to positions in `_ab_cdc_cursor`, so cursors keep growing after the buffer is replaced) and
`deletes_only_through` (the snapshot boundary, kept while an interrupted drain has not passed it). A read:

1. drains from `position` when the buffer still holds everything after it (not pruned) and a receiver was up since
   `covered_until`; otherwise (first sync, receiver down, events pruned) it notes the buffer's head position
   *before* taking a full API snapshot, and drains afterwards, so a change made while the snapshot runs is still
   delivered (an older version replayed later is harmless: `_ab_cdc_cursor` orders them). A snapshot that heals a
   gap also replays the buffered events after the saved position and reads the recycle bin, for the deletes a
   snapshot cannot show;
2. turns each event into a record: a full payload as is, a partial one by fetching the record by id, a delete into
   `{id, _ab_cdc_deleted_at}` so Airbyte's dedup destinations delete the row;
3. checkpoints state every DRAIN_BATCH events, so an interrupted sync resumes where it stopped; it stops early,
   leaving the healing to the next sync, when retention prunes events it has not read yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    FailureType,
    StreamDescriptor,
    Type,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from zoho_desk_webhooks.buffer import EventBuffer
from zoho_desk_webhooks.coverage import COVERAGE_GRACE
from zoho_desk_webhooks.models import StoredEvent

logger = logging.getLogger("airbyte")

CURSOR_FIELD = "_ab_cdc_cursor"
DELETED_AT_FIELD = "_ab_cdc_deleted_at"
DRAIN_BATCH = 1000
RECYCLE_BIN_PAGE = 100


@dataclass(frozen=True)
class WebhookStream:
    """How one stream's Zoho webhook events map to its records (from the manifest's `webhook_streams`)."""

    name: str
    event_types: Tuple[str, ...]
    detail_path: str
    complete_when: Tuple[str, ...]
    recycle_bin_type: Optional[str] = None

    @classmethod
    def from_manifest(cls, name: str, definition: Mapping[str, Any]) -> "WebhookStream":
        return cls(
            name=name,
            event_types=tuple(definition["events"]),
            detail_path=definition["detail_path"],
            complete_when=tuple(definition["complete_when"]),
            recycle_bin_type=definition.get("recycle_bin_type"),
        )


@dataclass(frozen=True)
class StreamPlan:
    stream: WebhookStream
    drain_from: int
    needs_snapshot: bool
    coverage_since: datetime
    # The buffer head noted before the snapshot: the snapshot's rows carry it as their cursor, and of the events up
    # to it (older than the snapshot) only deletes are emitted, which the snapshot cannot show. A drain interrupted
    # before passing it resumes with it from the state.
    snapshot_position: int = 0
    # Set when a snapshot heals a gap after an earlier sync: deletes since then must reach the destination too.
    deletes_since: Optional[datetime] = None
    # Added to buffer positions to make `_ab_cdc_cursor`: raised past every earlier cursor when the buffer is
    # replaced, since a new buffer counts from 1 again and dedup destinations keep the highest cursor.
    cursor_offset: int = 0

    def cursor(self, position: int) -> int:
        return self.cursor_offset + position

    @property
    def snapshot_cursor(self) -> int:
        return self.cursor(self.snapshot_position)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_time_iso(event: StoredEvent) -> str:
    """Zoho sends eventTime as epoch milliseconds in a string; ISO has been seen too. Anything else falls back to
    when the receiver stored the event, so one odd event cannot stall every later sync."""
    text = str(event.event_time).strip()
    try:
        if text.isdigit():
            return iso(datetime.fromtimestamp(int(text) / 1000, tz=timezone.utc))
        return iso(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except (ValueError, OverflowError, OSError):
        logger.warning(f"Unreadable eventTime {text[:40]!r} at buffer position {event.position}; using the time it was received.")
        return iso(event.received_at)


def plan_stream(
    stream: WebhookStream, state: Optional[Mapping[str, Any]], buffer: EventBuffer, org_id: str, now: datetime
) -> StreamPlan:
    """Drain from the saved position when nothing can have been missed since; otherwise snapshot first."""
    state = state or {}
    position = _state_int(state, "position")
    covered_until = _parse_time(state.get("covered_until"))
    cursor_offset = _state_int(state, "cursor_offset") or 0
    head, pruned_through = buffer.head_position(org_id), buffer.pruned_through(org_id)
    reason = None
    if position is None or covered_until is None:
        reason = "no saved webhook position yet"
    elif pruned_through > position:
        reason = f"the buffer's retention removed events after the saved position {position}"
    elif position > head:
        reason = f"the saved position {position} lies beyond the buffer's newest event (was the buffer replaced?)"
        cursor_offset += position + 1  # the new buffer's cursors must rank above every one emitted from the old
    else:
        loss = first_possible_loss(buffer, org_id, min(covered_until, now), now)
        if loss:
            reason = f"{loss[1]}, so events may be missing"
    if reason is None:
        return StreamPlan(stream, drain_from=position, needs_snapshot=False, coverage_since=covered_until,  # type: ignore[arg-type]
                          snapshot_position=_state_int(state, "deletes_only_through") or 0, cursor_offset=cursor_offset)
    if position is None:
        logger.info(f"{stream.name}: {reason}; taking a full snapshot before following webhook events.")
        return StreamPlan(stream, drain_from=head, needs_snapshot=True, coverage_since=now, snapshot_position=head,
                          cursor_offset=cursor_offset)
    logger.warning(f"{stream.name}: {reason}; re-reading the whole stream from the Zoho API to heal the gap.")
    # A snapshot cannot show what was deleted, so the heal also replays the deletes still buffered after the saved
    # position and reads the recycle bin for deletes whose events were lost.
    replay_from = max(position, pruned_through) if position <= head else pruned_through  # a new buffer: all of it
    return StreamPlan(stream, drain_from=replay_from, needs_snapshot=True, coverage_since=now, snapshot_position=head,
                      deletes_since=covered_until, cursor_offset=cursor_offset)


def first_possible_loss(buffer: EventBuffer, org_id: str, since: datetime, until: datetime) -> Optional[Tuple[datetime, str]]:
    """The earliest moment in [since, until] when a Zoho delivery may have been lost, and why: no receiver was up,
    or a receiver refused a delivery with a server error."""
    losses = []
    gaps = buffer.uncovered_intervals(since, until, COVERAGE_GRACE) if since < until else []
    if gaps:
        start, end = gaps[0]
        losses.append((start, f"no webhook receiver was running between {iso(start)} and {iso(end)}"))
    refusal = buffer.first_refusal(org_id, since, until)
    if refusal:
        losses.append((refusal[0], f"the webhook receiver could not store a delivery at {iso(refusal[0])} ({refusal[1]})"))
    return min(losses) if losses else None


def _state_int(state: Mapping[str, Any], key: str) -> Optional[int]:
    """A non-negative integer from the saved state; a hand-edited state gets a clear error, not a stack trace."""
    if state.get(key) is None:
        return None
    try:
        value = int(state[key])
    except (TypeError, ValueError):
        value = -1
    if value < 0:
        raise AirbyteTracedException(
            message=f"The saved state has an invalid `{key}` ({str(state[key])[:40]!r}); expected a whole number of 0 "
            "or more. Reset the stream's state in Airbyte (or remove the key) to start over with a full snapshot.",
            failure_type=FailureType.config_error,
        )
    return value


def _parse_time(value: Any) -> Optional[datetime]:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class EventRecords:
    """Turns a batch of buffered events into records, fetching a record by id only when its payload is partial."""

    def __init__(self, plan: StreamPlan, fetch_by_id: Callable[[str, str], Optional[Dict[str, Any]]]) -> None:
        self._stream = plan.stream
        self._fetch_by_id = fetch_by_id
        self._cursor = plan.cursor
        # Events up to this position are older than the snapshot: their updates are superseded by it (and would
        # bring back a record deleted since), their deletes are not.
        self._deletes_only_through = plan.snapshot_position
        # What this drain emitted per id: a payload older than that arrived out of order (a retried or concurrent
        # delivery stored after a newer one) and would win by its later position, so the record is fetched instead.
        self._newest_modified: Dict[str, datetime] = {}
        self._deleted: set = set()

    def records(self, events: List[StoredEvent]) -> Iterator[Dict[str, Any]]:
        fetched: Dict[str, Optional[Dict[str, Any]]] = {}
        for event in events:
            record_id = str(event.payload.get("id", ""))
            if not record_id:
                logger.warning(f"{self._stream.name}: skipped a {event.event_type} event without an id (position {event.position}).")
                continue
            if self._is_delete(event):
                self._deleted.add(record_id)
                yield {"id": record_id, DELETED_AT_FIELD: event_time_iso(event), CURSOR_FIELD: self._cursor(event.position)}
                continue
            if event.position <= self._deletes_only_through:
                continue
            if all(key in event.payload for key in self._stream.complete_when) and not self._out_of_order(record_id, event.payload):
                record = dict(event.payload)
            else:
                if record_id not in fetched:
                    fetched[record_id] = self._fetch_by_id(self._stream.detail_path, record_id)
                if fetched[record_id] is None:
                    continue  # gone since the event; its delete event follows
                record = dict(fetched[record_id])  # type: ignore[arg-type]
            record[CURSOR_FIELD] = self._cursor(event.position)
            self._note_emitted(record_id, record)
            yield record

    def _out_of_order(self, record_id: str, payload: Mapping[str, Any]) -> bool:
        if record_id in self._deleted:
            return True  # an update stored after the delete: only Zoho knows whether it was restored since
        modified, newest = _parse_time(payload.get("modifiedTime")), self._newest_modified.get(record_id)
        return modified is not None and newest is not None and modified < newest

    def _note_emitted(self, record_id: str, record: Mapping[str, Any]) -> None:
        self._deleted.discard(record_id)
        modified = _parse_time(record.get("modifiedTime"))
        if modified is not None and (record_id not in self._newest_modified or modified > self._newest_modified[record_id]):
            self._newest_modified[record_id] = modified

    @staticmethod
    def _is_delete(event: StoredEvent) -> bool:
        payload = event.payload
        return event.event_type.endswith("_Delete") or payload.get("isDeleted") is True or payload.get("IsDel") is True


def recycle_bin_deletes(
    list_page: Callable[[int], List[Dict[str, Any]]], stream: WebhookStream, since: datetime, cursor: int
) -> Iterator[Dict[str, Any]]:
    """Delete records for the stream's entries in Zoho's recycle bin deleted at or after `since`.

    The bin keeps deleted tickets for 60 days. Its sort parameters are not certain, so every page is read (the bin
    is small next to the tickets) and filtered here."""
    if not stream.recycle_bin_type:
        return
    offset = 0
    while True:
        rows = list_page(offset)
        for row in rows:
            deleted = _parse_time(row.get("deletedTime"))
            if row.get("type") == stream.recycle_bin_type and deleted is not None and deleted >= since - COVERAGE_GRACE:
                yield {"id": str(row["id"]), DELETED_AT_FIELD: iso(deleted), CURSOR_FIELD: cursor}
        if len(rows) < RECYCLE_BIN_PAGE:
            return
        offset += len(rows)


def state_message(plan: StreamPlan, position: int, covered_until: datetime) -> AirbyteMessage:
    blob: Dict[str, Any] = {"position": position, "covered_until": iso(covered_until)}
    if plan.cursor_offset:
        blob["cursor_offset"] = plan.cursor_offset
    if position < plan.snapshot_position:
        blob["deletes_only_through"] = plan.snapshot_position
    return AirbyteMessage(
        type=Type.STATE,
        state=AirbyteStateMessage(
            type=AirbyteStateType.STREAM,
            stream=AirbyteStreamState(stream_descriptor=StreamDescriptor(name=plan.stream.name), stream_state=AirbyteStateBlob(**blob)),
        ),
    )


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
            logger.warning(f"{plan.stream.name}: the buffer's retention removed events after position {position:,} "
                           "while this sync read them; the next sync re-reads the stream.")
            yield state_message(plan, position, covered_until)
            return
        events = [event for event in events if event.position <= head]
        if not events:
            break
        for record in converter.records(events):
            emitted += 1
            yield AirbyteMessage(
                type=Type.RECORD,
                record=AirbyteRecordMessage(stream=plan.stream.name, data=record, emitted_at=int(utc_now().timestamp() * 1000)),
            )
        position = events[-1].position
        yield state_message(plan, position, covered_until)
    # Events of other modules may lie between the last one of ours and the head: skip past them too.
    yield state_message(plan, max(position, head), covered_until)
    logger.info(f"{plan.stream.name}: {emitted:,} records from webhook events up to buffer position {max(position, head):,}.")

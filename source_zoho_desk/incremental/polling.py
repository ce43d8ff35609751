"""Polling by modified time: the rows a Zoho `/search` endpoint lists as modified since a moment, complete, without
deep offsets.

Zoho's search takes `modifiedTimeRange`, sorts by `modifiedTime` and stops at `from` 999. So every request starts
its range at the newest `modifiedTime` read so far ("keyset" paging): `from` only ever skips rows that share one
millisecond, however many rows changed, and a row deleted or modified while the read runs cannot push another one
past a page boundary. Rows at the boundary millisecond are asked again and dropped when already read. A millisecond
holding more rows than `from` reaches (a mass update) is read the same way by `createdTime` within it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Set, Tuple

from airbyte_cdk.models import AirbyteMessage, FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.incremental.children import PARENT_KEY
from source_zoho_desk.incremental.drain import recycle_bin_deletes
from source_zoho_desk.incremental.state import iso, parse_time, state_int, stream_state_message
from source_zoho_desk.incremental.streams import CURSOR_FIELD, IncrementalStream
from source_zoho_desk.messages import record

logger = logging.getLogger("airbyte")

SEARCH_PAGE = 100
MAX_FROM = 999  # Zoho's search refuses a larger `from`
# A first poll with no start_date lists everything Zoho has.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)

# One page of a search: ({field: (range start, range end)}, sort field, from, limit) -> rows sorted by that field
# ascending, each range (`modifiedTimeRange`, `createdTimeRange`) inclusive.
SearchPage = Callable[[Mapping[str, Tuple[datetime, datetime]], str, int, int], List[Dict[str, Any]]]


def modified_rows(search: SearchPage, since: datetime, until: datetime, what: str) -> Iterator[Dict[str, Any]]:
    """Every row with `since <= modifiedTime <= until`, once, in modifiedTime order (ties in Zoho's order)."""
    return _keyset_rows(search, "modifiedTime", since, until, {}, set(), what)


def _keyset_rows(
    search: SearchPage,
    field: str,
    since: datetime,
    until: datetime,
    fixed: Mapping[str, Tuple[datetime, datetime]],
    already: Set[str],
    what: str,
) -> Iterator[Dict[str, Any]]:
    """The rows with `since <= field <= until` (and within the `fixed` ranges), once, skipping the ids `already`
    read. A millisecond of modifiedTime with more rows than `from` can page (a mass update) is read by createdTime
    within it; only more than 1,000 rows sharing both times are beyond Zoho's search."""
    start, skip = since, 0
    read_at_start: Set[str] = set()  # ids already read whose `field` equals `start`
    while True:
        if skip > MAX_FROM:
            if field != "modifiedTime":
                raise AirbyteTracedException(
                    message=f"More than {MAX_FROM + 1:,} {what} share the modification time "
                    f"{iso(fixed['modifiedTime'][0])} and the creation time {iso(start)}, more than Zoho's search "
                    "can page through. The next sync tries again; if this persists, reset the stream to read it in "
                    "full.",
                    failure_type=FailureType.transient_error,
                )
            logger.info(f"{what}: more than {MAX_FROM + 1:,} modified at {iso(start)}; reading them by creation time.")
            crowded = {**fixed, "modifiedTime": (start, start)}
            yield from _keyset_rows(search, "createdTime", EARLIEST, until, crowded, read_at_start, what)
            start, skip, read_at_start = start + timedelta(milliseconds=1), 0, set()
            if start > until:
                return
            continue
        rows = search({**fixed, field: (start, until)}, field, skip, SEARCH_PAGE)
        newest = start
        for row in rows:
            record_id, moment = str(row.get("id")), parse_time(row.get(field))
            if moment is None:
                logger.warning(f"{what}: Zoho's search listed record {record_id} without a {field}; kept as is.")
                yield row
                continue
            if moment == start and record_id in read_at_start:
                continue
            newest = max(newest, moment)
            if record_id not in already:
                yield row
        if len(rows) < SEARCH_PAGE:
            return
        at_newest = {str(r.get("id")) for r in rows if parse_time(r.get(field)) == newest}
        if newest > start:
            # Restart the range at the newest millisecond read: its rows come again first and are dropped.
            start, skip, read_at_start = newest, 0, at_newest
        else:
            # A whole page in one millisecond: only an offset moves on (Zoho keeps ties in a stable order).
            skip += len(rows)
            read_at_start |= at_newest


def version_cursor(record: Dict[str, Any], floor: int, time_field: str = "modifiedTime") -> int:
    """`_ab_cdc_cursor` of a polled version: its time in epoch milliseconds, so a newer version of a record always
    ranks higher, but never below `floor` (one more than any cursor emitted before, e.g. by the webhook drain)."""
    moment: Optional[datetime] = parse_time(record.get(time_field))
    return max(int(moment.timestamp() * 1000) if moment else 0, floor)


# Each poll starts this long before the last one ended: Zoho's search index may lag a little behind writes, and the
# connector's clock may differ from Zoho's. Rows read twice carry the same cursor, so a destination keeps one.
POLL_LOOKBACK = timedelta(minutes=10)
# A checkpoint after every search page: a sync stopped anywhere (credits, a failure) resumes from its last page.
STATE_EVERY_RECORDS = SEARCH_PAGE
# A per-ticket stream reads the child lists of this many changed tickets between checkpoints.
CHILD_PARENTS_PER_BATCH = 100


@dataclass(frozen=True)
class PollPlan:
    stream: IncrementalStream
    since: datetime  # the first modification time to list, lookback included
    deletes_since: Optional[datetime]  # None on a first poll: the destination holds nothing to delete yet
    cursor_floor: int  # one more than any cursor emitted by another mode before

    def state(self, modified_since: datetime) -> Dict[str, Any]:
        blob: Dict[str, Any] = {"modified_since": iso(modified_since)}
        if self.cursor_floor:
            blob["cursor_floor"] = self.cursor_floor
        return blob


def plan_poll(
    stream: IncrementalStream, state: Optional[Mapping[str, Any]], start_date: Optional[datetime]
) -> PollPlan:
    """From the last poll's end; or, after webhook syncs, from the last moment the webhook state covered."""
    state = state or {}
    polled_until = parse_time(state.get("modified_since"))
    if polled_until is not None:
        since = polled_until - POLL_LOOKBACK
        return PollPlan(stream, since, since, state_int(state, "cursor_floor") or 0)
    covered_until, position = parse_time(state.get("covered_until")), state_int(state, "position")
    if covered_until is not None and position is not None:
        since = covered_until - POLL_LOOKBACK
        logger.info(f"{stream.name}: switching from webhook events to polling; listing changes since {iso(since)}.")
        # Webhook cursors were buffer positions (plus an offset): polled versions must rank above all of them.
        return PollPlan(stream, since, since, (state_int(state, "cursor_offset") or 0) + position + 1)
    return PollPlan(stream, start_date or EARLIEST, None, 0)


def poll(
    plan: PollPlan,
    search: SearchPage,
    recycle_bin_page: Callable[[int], List[Dict[str, Any]]],
    now: datetime,
    children: Optional[Callable[[List[Dict[str, Any]]], Iterable[Dict[str, Any]]]] = None,
) -> Iterator[AirbyteMessage]:
    """The deletes since the plan's moment, then every row modified since it, with checkpoints on the way. With
    `children` (a per-ticket stream), the search lists the parents and each batch of parents becomes the rows of
    their child lists, each ranked by its parent's version."""
    name = plan.stream.name
    if plan.deletes_since is not None:
        for deleted in recycle_bin_deletes(
            recycle_bin_page,
            plan.stream,
            plan.deletes_since,
            lambda moment: max(int(moment.timestamp() * 1000), plan.cursor_floor),
        ):
            yield record(name, deleted)
    emitted, listed = 0, 0
    batch_size = STATE_EVERY_RECORDS if children is None else CHILD_PARENTS_PER_BATCH
    for batch in _batches(modified_rows(search, plan.since, now, name), batch_size):
        listed += len(batch)
        if children is None:
            for row in batch:
                row[CURSOR_FIELD] = version_cursor(row, plan.cursor_floor)
                yield record(name, row)
            emitted += len(batch)
        else:
            parents = {str(parent.get("id")): version_cursor(parent, plan.cursor_floor) for parent in batch}
            for row in children(batch):
                row[CURSOR_FIELD] = parents[str(row.get(PARENT_KEY))]
                yield record(name, row)
                emitted += 1
        modified = parse_time(batch[-1].get("modifiedTime"))
        if modified is not None:
            # Rows come in modification order: everything before this one is read. A resumed sync starts here.
            yield stream_state_message(name, plan.state(modified + POLL_LOOKBACK))
    yield stream_state_message(name, plan.state(now))
    what = "records" if children is None else f"records of {listed:,} tickets"
    logger.info(f"{name}: {emitted:,} {what} modified since {iso(plan.since)}, from Zoho's search.")


def _batches(rows: Iterable[Dict[str, Any]], size: int) -> Iterator[List[Dict[str, Any]]]:
    batch: List[Dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch

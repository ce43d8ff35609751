"""Polling by modified time: the rows a Zoho `/search` endpoint lists as modified since a moment, complete, without
deep offsets.

Zoho's search takes `modifiedTimeRange`, sorts by `modifiedTime` and stops at `from` 999. So every request starts
its range at the newest `modifiedTime` read so far ("keyset" paging): `from` only ever skips rows that share one
millisecond, however many rows changed, and a row deleted or modified while the read runs cannot push another one
past a page boundary. Rows at the boundary millisecond are asked again and dropped when already read.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable, Dict, Iterator, List, Optional, Set

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.incremental.state import iso, parse_time

logger = logging.getLogger("airbyte")

SEARCH_PAGE = 100
MAX_FROM = 999  # Zoho's search refuses a larger `from`

# One page of a search: (range start, range end, from, limit) -> rows sorted by modifiedTime ascending.
SearchPage = Callable[[datetime, datetime, int, int], List[Dict[str, Any]]]


def modified_rows(search: SearchPage, since: datetime, until: datetime, what: str) -> Iterator[Dict[str, Any]]:
    """Every row with `since <= modifiedTime <= until`, once, in modifiedTime order (ties in Zoho's order)."""
    start, skip = since, 0
    read_at_start: Set[str] = set()  # ids already read whose modifiedTime equals `start`
    while True:
        if skip > MAX_FROM:
            raise AirbyteTracedException(
                message=f"More than {MAX_FROM + 1:,} {what} share the modification time {iso(start)}, more than Zoho's "
                "search can page through. The next sync tries again; if this persists (a mass update), reset the "
                "stream to read it in full.",
                failure_type=FailureType.transient_error,
            )
        rows = search(start, until, skip, SEARCH_PAGE)
        newest = start
        for row in rows:
            record_id, modified = str(row.get("id")), parse_time(row.get("modifiedTime"))
            if modified is None:
                logger.warning(f"{what}: Zoho's search listed record {record_id} without a modifiedTime; kept as is.")
                yield row
                continue
            if modified == start and record_id in read_at_start:
                continue
            newest = max(newest, modified)
            yield row
        if len(rows) < SEARCH_PAGE:
            return
        at_newest = {str(r.get("id")) for r in rows if parse_time(r.get("modifiedTime")) == newest}
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

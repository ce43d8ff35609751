"""Which tickets a per-ticket stream (threads, comments, time entries, attachments, tags, activities) asks about.

Zoho has no org-wide list of a ticket's children, so a full refresh asks each ticket's list. The parent list carries
the ticket's counters (`threadCount`, `commentCount`, `attachmentCount`, `timeEntryCount`, `tagCount`); a ticket
whose counter for the stream is "0" has nothing to list and is not asked (a missing counter is asked). Pages of the
parent list overlap by a few rows (components/pagination.py), so a ticket already passed on is not passed again (the
CDK builds the streams, and so this filter, anew for each read).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.types import StreamSlice, StreamState


@dataclass
class TicketsWithChildren(RecordFilter):
    """Passes each ticket once, unless its `counter` (the stream's `$parameters`) says it has no such children."""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._counter = (parameters or {}).get("counter")
        self._seen: set = set()
        self._lock = threading.Lock()

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        for record in records:
            if self._counter and str(record.get(self._counter)) == "0":
                continue
            with self._lock:
                if record.get("id") in self._seen:
                    continue
                self._seen.add(record.get("id"))
            yield record

"""`from`/`limit` paging: pages that overlap a little, judged by what was actually sent.

Rows each page re-reads from the end of the previous one: lists are sorted by createdTime, so new rows land at the
end, but a row deleted during the read shifts later rows one place forward and a plain offset would skip one. The
repeated rows are dropped again by the record selector's `DropRepeatedRows`, before the CDK counts them. The requester may shrink `limit`
(components/requester.py) and the tickets requester may move `from` back (components/whole_pages.py); the strategy
below continues from what was sent.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Deque, Iterable, Mapping, Optional, Set, Tuple, cast
from urllib.parse import parse_qs, urlparse

import requests
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.offset_increment import OffsetIncrement
from airbyte_cdk.sources.types import Record, StreamSlice, StreamState

PAGE_OVERLAP = 3
# Per list being paged: ids of its last rows, far more than pages overlap or a page is re-read from further back.
REMEMBERED_ROWS = 300
# Lists paged at once: partitions in flight (at most num_workers, 25) times `fields` chunks, with room to spare.
REMEMBERED_LISTS = 512


def page_overlap(limit: Optional[int]) -> int:
    return min(PAGE_OVERLAP, (limit or 0) // 4)  # a tiny page must still move forward


def sent_url(response: requests.Response) -> str:
    """The URL `response` answers. requests types PreparedRequest.url Optional (it is None until prepared); the
    request of a response was prepared and sent."""
    return cast(str, response.request.url)


def _sent_int(response: requests.Response, name: str) -> Optional[int]:
    values = parse_qs(urlparse(sent_url(response)).query).get(name)
    return int(values[0]) if values else None


def sent_limit(response: requests.Response) -> Optional[int]:
    return _sent_int(response, "limit")


def sent_offset(response: requests.Response) -> Optional[int]:
    return _sent_int(response, "from")


@dataclass
class SentLimitOffsetIncrement(OffsetIncrement):
    """OffsetIncrement that judges a page 'short' against the `limit` actually sent, continues from the `from`
    actually sent, and starts each next page PAGE_OVERLAP rows early."""

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any] = None,
        page_size_override: Optional[int] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> Optional[Any]:
        limit = sent_limit(response) or page_size_override
        offset = sent_offset(response)
        if offset is not None and last_page_token_value is not None:
            last_page_token_value = offset
        token = super().next_page_token(
            response,
            last_page_size,
            last_record,
            last_page_token_value,
            page_size_override=limit,
            stream_slice=stream_slice,
        )
        if token is None:
            return None
        return token - page_overlap(limit)


Scope = Tuple[Tuple[Tuple[str, str], ...], Tuple[str, ...]]


@dataclass
class DropRepeatedRows(RecordFilter):
    """Drops a row the same list already gave: one partition's pages (a window, a ticket, a department...), and one
    `fields` chunk of them (each chunk is paged on its own and merged by id afterwards, so a row repeated by the
    overlap is dropped from every chunk alike). Keyed by `id`; memory stays bounded (REMEMBERED_*)."""

    _seen: "OrderedDict[Scope, Tuple[Deque[str], Set[str]]]" = field(default_factory=OrderedDict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        for record in records:
            if self.is_new(record, stream_slice):
                yield record

    def is_new(self, record: Mapping[str, Any], stream_slice: Optional[StreamSlice]) -> bool:
        """Whether the record's list has not given its `id` yet (noting it); a row without `id` always is (lists
        keyed otherwise, channels by code, are not paged)."""
        if record.get("id") is None:
            return True
        key, scope = str(record.get("id")), _scope(stream_slice)
        with self._lock:
            order, members = self._seen.setdefault(scope, (deque(), set()))
            self._seen.move_to_end(scope)  # the most recently paged list last
            while len(self._seen) > REMEMBERED_LISTS:
                self._seen.popitem(last=False)
            if key in members:
                return False
            order.append(key)
            members.add(key)
            if len(order) > REMEMBERED_ROWS:
                members.discard(order.popleft())
            return True


def _scope(stream_slice: Optional[StreamSlice]) -> Scope:
    if stream_slice is None:
        return ((), ())
    partition = tuple(sorted((str(k), str(v)) for k, v in stream_slice.partition.items()))
    chunk = tuple(str(name) for name in (stream_slice.extra_fields or {}).get("query_properties") or ())
    return partition, chunk

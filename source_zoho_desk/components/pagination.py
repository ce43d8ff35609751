"""`from`/`limit` paging: pages that overlap a little, judged by what was actually sent.

Rows each page re-reads from the end of the previous one: lists are sorted by createdTime, so new rows land at the
end, but a row deleted during the read shifts later rows one place forward and a plain offset would skip one. The
repeated rows are dropped again by the source (see source._drop_repeats). The requester may shrink `limit`
(components/requester.py) and the tickets requester may move `from` back (components/whole_pages.py); the strategy
below continues from what was sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, cast
from urllib.parse import parse_qs, urlparse

import requests
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.offset_increment import OffsetIncrement
from airbyte_cdk.sources.types import Record, StreamSlice

PAGE_OVERLAP = 3


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

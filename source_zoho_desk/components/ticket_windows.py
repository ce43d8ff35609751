"""The tickets snapshot in createdTime windows: complete rows from `/tickets/search`, no deep offsets, read in parallel.

Zoho's `GET /tickets` charges more credits the deeper `from` goes, and its rows need two `fields=` chunks each. Its
`/tickets/search` takes `createdTimeRange` and `sortBy=createdTime`, answers a `count`, and its rows are complete;
but it pages only to `from` 999. So the stream's partitions are createdTime windows of at most `max_rows` tickets
(one `limit=1` search per window tells its count), each paged with `from` < 1,000, and the CDK's concurrent read
runs the windows in parallel. Three small pieces, each named by the manifest (`definitions.streams.tickets`):

* `CreatedTimeWindows` (partition router): the windows. `split_windows` is the splitting rule, pure and unit-tested.
* `WindowPageRequester`: keeps each window's pages joined while tickets are deleted during the read (whole_pages'
  PageContinuity, per window) and stops a window that holds more rows than its offsets can reach.

Windows are half-open in effect: Zoho's range bounds are inclusive milliseconds, and window i ends one millisecond
before window i+1 starts, so a row whose createdTime is a window edge belongs to exactly one window.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import InitVar, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, Iterable, Iterator, Mapping, Optional, Tuple, Union

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.declarative.requesters.requester import Requester
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.components.credits import ledger_of
from source_zoho_desk.components.pagination import SentLimitOffsetIncrement, page_overlap, sent_limit, sent_offset
from source_zoho_desk.components.requester import ZohoDeskRequester
from source_zoho_desk.components.whole_pages import PageContinuity, listed_rows
from source_zoho_desk.zoho_errors import json_body

LOGGER = logging.getLogger("airbyte")

# A window is sized for this share of `max_rows`, so that a density guess a little off still fits.
FILL = 0.9
# The newest window reaches this far past the read's start: a Zoho clock ahead of ours must not hide new tickets.
CLOCK_MARGIN = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

Window = Tuple[int, int, int]  # first ms, last ms (both inclusive), tickets counted in it


class CrowdedMillisecond(AirbyteTracedException):
    """More tickets share one createdTime millisecond than Zoho's search can page through."""


def to_ms(value: str) -> int:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int((moment - EPOCH) / timedelta(milliseconds=1))


def to_iso(ms: int) -> str:
    """Zoho's range format, yyyy-MM-ddTHH:mm:ss.SSSZ."""
    return (EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def split_windows(
    count: Callable[[int, int], int], first: int, last: int, total: int, max_rows: int
) -> Iterator[Window]:
    """Consecutive windows covering [first, last] (inclusive ms), each with 1..max_rows tickets, oldest first.

    `total` is the count of the whole range. Each window's count is asked (`count(lo, hi)`) before it is yielded, so a
    window never holds more than it was measured to. The width of the next window is guessed from the density seen
    so far (the last window measured, else the whole range), aiming at FILL * max_rows; a window found too full is
    narrowed by its own density and asked again. Empty windows are skipped. One millisecond holding more than
    max_rows raises CrowdedMillisecond."""
    aim = max(1, int(max_rows * FILL))
    lo, remaining = first, total
    width = max(1, (last - first + 1) * aim // max(total, 1))
    while lo <= last and remaining > 0:
        hi = last if remaining <= aim else min(last, lo + width - 1)
        n = count(lo, hi)
        if n > max_rows:
            if hi == lo:
                raise CrowdedMillisecond(
                    message=(
                        f"{n:,} tickets share the createdTime {to_iso(lo)}, more than Zoho's ticket search can page "
                        f"through ({max_rows:,}). The sync stops rather than skip some of them; the next sync tries "
                        "again."
                    ),
                    failure_type=FailureType.transient_error,
                )
            span = hi - lo + 1
            width = max(1, min(span // 2, span * aim // n))  # always narrower than the window just asked
            continue
        if n > 0:
            yield lo, hi, n
        remaining -= n
        seen = hi - lo + 1
        lo = hi + 1
        width = max(1, seen * aim // n) if n else width * 2


def search_count(response: Optional[requests.Response]) -> int:
    """The `count` of a search answer: required, an integer in Zoho's examples and typed string-or-integer [U]. An
    empty result is a 204 without a body: no tickets."""
    if response is None or response.status_code == 204 or not response.content.strip():
        return 0
    raw = json_body(response).get("count")
    try:
        return int(str(raw).strip())
    except ValueError:
        raise AirbyteTracedException(
            message="Zoho Desk's ticket search answered without a usable `count`; the sync cannot size its windows.",
            internal_message=f"count={raw!r}: {response.text[:300]}",
            failure_type=FailureType.system_error,
        ) from None


@dataclass
class CreatedTimeWindows(PartitionRouter):
    """Partitions {"start", "end"} (ISO, inclusive) of at most `max_rows` tickets each, by `split_windows`; counts come
    from `counter`, a manifest requester for `/tickets/search` with `limit=1` whose `createdTimeRange` reads the slice
    it is sent with. Windows are yielded as they are found, so the first ones are read while later ones are counted."""

    counter: Requester
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    max_rows: Union[int, str] = 1000
    earliest: str = "1970-01-01T00:00:00.000Z"
    stream_name: str = "tickets"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.max_rows = int(self.max_rows)
        self.stream_name = str(parameters.get("name") or parameters.get("stream_name") or self.stream_name)

    def _search(self, lo: int, hi: int) -> Optional[requests.Response]:
        window = StreamSlice(partition={"start": to_iso(lo), "end": to_iso(hi)}, cursor_slice={})
        response = self.counter.send_request(stream_slice=window)
        if response is not None:
            ledger_of(self.config).observe(self.stream_name, response)
        return response

    def stream_slices(self) -> Iterable[StreamSlice]:
        last = to_ms(to_iso_now()) + int(CLOCK_MARGIN / timedelta(milliseconds=1))
        whole = self._search(to_ms(self.earliest), last)
        total = search_count(whole)
        rows = listed_rows(whole)
        if total == 0 or not rows or not rows[0].get("createdTime"):
            return
        first = to_ms(str(rows[0]["createdTime"]))  # sorted by createdTime: the oldest ticket
        windows = 0
        max_rows = int(self.max_rows)
        for lo, hi, _ in split_windows(lambda a, b: search_count(self._search(a, b)), first, last, total, max_rows):
            windows += 1
            yield StreamSlice(partition={"start": to_iso(lo), "end": to_iso(hi)}, cursor_slice={})
        LOGGER.info(f"{self.stream_name}: {total:,} tickets read in {windows:,} createdTime windows.")

    def get_request_params(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_headers(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_body_data(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_body_json(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_stream_state(self) -> Optional[Mapping[str, StreamState]]:
        return None


def to_iso_now() -> str:
    return to_iso(int((datetime.now(timezone.utc) - EPOCH) / timedelta(milliseconds=1)))


def window_of(stream_slice: Optional[StreamSlice]) -> Tuple[str, str]:
    partition = stream_slice.partition if stream_slice is not None else {}
    return str(partition.get("start")), str(partition.get("end"))


@dataclass
class WindowOffsetIncrement(SentLimitOffsetIncrement):
    """The offset paginator of a window, which never sends `from` above `max_from`: a window that turns out to hold
    more rows than its offsets reach (it was counted before tickets were moved into it) fails the read rather than
    leave rows out."""

    max_from: Union[int, str] = 999

    def next_page_token(self, response: requests.Response, *args: Any, **kwargs: Any) -> Optional[Any]:
        token = super().next_page_token(response, *args, **kwargs)
        if token is not None and int(token) > int(self.max_from):
            raise AirbyteTracedException(
                message=(
                    "A createdTime window of Zoho Desk's ticket search grew beyond what its offsets reach while it was "
                    "read; stopping rather than leave tickets out. The next sync counts the windows again."
                ),
                internal_message=sent_url_of(response),
                failure_type=FailureType.transient_error,
            )
        return token


def sent_url_of(response: requests.Response) -> str:
    return str(getattr(response.request, "url", ""))


@dataclass
class WindowPageRequester(ZohoDeskRequester):
    """The search requester of the windows. A window's pages overlap (SentLimitOffsetIncrement); when more of its
    tickets were deleted between two pages than they overlap, the next page no longer starts at a row already read,
    and it is asked again from an earlier offset (whole_pages.PageContinuity, kept per window). Tickets created during
    the read land after every row read so far (the list is sorted by createdTime), so they cannot push a row past
    a page boundary."""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._continuity: Dict[Tuple[str, str], PageContinuity] = {}
        self._continuity_lock = threading.Lock()

    def _window_continuity(self, stream_slice: Optional[StreamSlice]) -> PageContinuity:
        with self._continuity_lock:
            return self._continuity.setdefault(window_of(stream_slice), PageContinuity(sort_field="createdTime"))

    def send_request(
        self, *args: Any, request_params: Optional[Mapping[str, Any]] = None, **kwargs: Any
    ) -> Optional[requests.Response]:
        stream_slice: Optional[StreamSlice] = kwargs.get("stream_slice")
        continuity = self._window_continuity(stream_slice)
        params = dict(request_params or {})
        while True:
            response = super().send_request(*args, request_params=params, **kwargs)
            if response is None or response.status_code >= 400:
                return response
            offset = sent_offset(response)
            offset = int(params.get("from", 0)) if offset is None else offset
            limit = sent_limit(response) or int(params.get("limit", 1))
            rows = listed_rows(response)
            if page_overlap(limit) == 0 or continuity.joins(offset, rows):
                continuity.keep(rows)
                return response
            earlier = max(0, offset - (limit - page_overlap(limit)))
            start, end = window_of(stream_slice)
            LOGGER.info(
                f"{self.name}: the page at offset {offset} of the window {start}..{end} does not start at a row "
                f"already read (more tickets were deleted meanwhile than pages overlap); reading from offset "
                f"{earlier} instead."
            )
            ledger_of(self.config).observe(self.name, response)  # discarded, but Zoho charged for it
            params["from"] = earlier

"""The createdTime windows of the tickets snapshot (components/ticket_windows.py): how a range is split, counted and
paged, without HTTP."""

from __future__ import annotations

import bisect
import random
from typing import List

import pytest
import requests
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.components.pagination import DropRepeatedRows
from source_zoho_desk.components.ticket_windows import (
    CrowdedMillisecond,
    WindowOffsetIncrement,
    search_count,
    split_windows,
    to_iso,
    to_ms,
)


class Portal:
    """Sorted createdTime milliseconds; counts windows like Zoho's inclusive createdTimeRange, and logs each count."""

    def __init__(self, times: List[int]) -> None:
        self.times = sorted(times)
        self.asked: List[tuple] = []

    def count(self, lo: int, hi: int) -> int:
        self.asked.append((lo, hi))
        return bisect.bisect_right(self.times, hi) - bisect.bisect_left(self.times, lo)


def windows_of(portal: Portal, max_rows: int = 1000, last: int = 0) -> list:
    first, last = portal.times[0], max(last, portal.times[-1])
    return list(split_windows(portal.count, first, last, portal.count(first, last), max_rows))


def assert_partition(portal: Portal, windows: list, max_rows: int) -> None:
    """Windows are consecutive, disjoint, oldest first, each within max_rows, and together hold every ticket once."""
    assert all(0 < n <= max_rows for _, _, n in windows)
    assert all(a[1] < b[0] for a, b in zip(windows, windows[1:], strict=False))
    covered = [t for t in portal.times if any(lo <= t <= hi for lo, hi, _ in windows)]
    assert covered == portal.times
    assert sum(n for _, _, n in windows) == len(portal.times)
    for lo, hi, n in windows:
        assert n == Portal(portal.times).count(lo, hi)


def test_uniform_tickets_fill_windows_with_about_one_count_each():
    portal = Portal([1_600_000_000_000 + i * 60_000 for i in range(100_000)])
    windows = windows_of(portal)
    assert_partition(portal, windows, 1000)
    assert 100 <= len(windows) <= 125  # windows about 90% full
    assert len(portal.asked) <= len(windows) + 5  # one count per window, and a few misses


@pytest.mark.parametrize("seed", range(5))
def test_bursty_tickets_are_split_until_every_window_fits(seed):
    rng = random.Random(seed)
    times = [rng.randrange(1_500_000_000_000, 1_700_000_000_000) for _ in range(3000)]
    burst = rng.randrange(1_500_000_000_000, 1_700_000_000_000)
    times += [burst + rng.randrange(0, 5_000) for _ in range(4000)]  # 4,000 tickets within five seconds
    portal = Portal(times)
    windows = windows_of(portal, max_rows=500)
    assert_partition(portal, windows, 500)
    # the density guess misses around the burst: a few counts per window there, and some small windows after it
    assert len(portal.asked) <= 3 * len(windows) + 10
    assert len(windows) <= 3 * (7000 // 500)


def test_tickets_sharing_one_millisecond_at_a_window_edge_land_in_one_window_only():
    shared = 1_650_000_000_000
    times = [shared - 1000 + i for i in range(150)] + [shared] * 80 + [shared + 1 + i for i in range(150)]
    portal = Portal(times)
    windows = windows_of(portal, max_rows=100)
    assert_partition(portal, windows, 100)
    holding = [w for w in windows if w[0] <= shared <= w[1]]
    assert len(holding) == 1 and holding[0][2] >= 80


def test_more_tickets_in_one_millisecond_than_a_window_holds_fail_transiently():
    shared = 1_650_000_000_000
    portal = Portal([shared - 5, shared - 4] + [shared] * 101 + [shared + 7])
    with pytest.raises(CrowdedMillisecond) as failure:
        windows_of(portal, max_rows=100)
    assert failure.value.failure_type.value == "transient_error"
    assert to_iso(shared) in failure.value.message


def test_an_open_end_far_past_the_newest_ticket_adds_no_empty_window():
    portal = Portal([1_650_000_000_000 + i * 1000 for i in range(2500)])
    windows = windows_of(portal, max_rows=1000, last=portal.times[-1] + 86_400_000)
    assert_partition(portal, windows, 1000)
    assert len(windows) == 3


def test_range_bounds_round_trip_in_zohos_format():
    assert to_iso(to_ms("2024-03-05T10:11:12.345Z")) == "2024-03-05T10:11:12.345Z"
    assert to_iso(0) == "1970-01-01T00:00:00.000Z"


def answer(status: int, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    return response


@pytest.mark.parametrize("raw", [b'{"data": [], "count": 1234}', b'{"data": [], "count": "1234"}'])
def test_the_count_is_read_as_an_integer_or_a_string(raw):
    assert search_count(answer(200, raw)) == 1234


def test_an_empty_search_counts_nothing_and_a_missing_count_fails():
    assert search_count(answer(204, b"")) == 0
    with pytest.raises(AirbyteTracedException):
        search_count(answer(200, b'{"data": [{"id": "1"}]}'))


def page(offset: int) -> requests.Response:
    response = answer(200, b'{"data": []}')
    response.request = requests.Request(
        "GET", f"https://desk.test/api/v1/tickets/search?from={offset}&limit=100"
    ).prepare()
    return response


def test_a_window_is_never_paged_past_max_from():
    strategy = WindowOffsetIncrement(config={}, page_size=100, parameters={}, max_from=999)
    assert strategy.next_page_token(page(873), 100, None, 873) == 970
    with pytest.raises(AirbyteTracedException) as failure:
        strategy.next_page_token(page(970), 100, None, 970)
    assert failure.value.failure_type.value == "transient_error"


def test_repeats_are_dropped_per_window_however_windows_interleave():
    keep = DropRepeatedRows(config={}, parameters={})
    a = StreamSlice(partition={"start": "a", "end": "b"}, cursor_slice={})
    b = StreamSlice(partition={"start": "c", "end": "d"}, cursor_slice={})
    first = [{"id": str(i)} for i in range(100)]
    assert len(list(keep.filter_records(first, {}, a))) == 100
    for _ in range(20):  # other windows' rows in between, far more than the source's 1,000 recent rows
        list(keep.filter_records([{"id": f"x{i}"} for i in range(100)], {}, b))
    again = [{"id": str(i)} for i in range(97, 197)]
    assert [r["id"] for r in keep.filter_records(again, {}, a)] == [str(i) for i in range(100, 197)]

"""Keyset polling over Zoho's search: every changed row once, `from` never deep, ties and edits during the read."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.incremental.polling import MAX_FROM, modified_rows, version_cursor
from source_zoho_desk.incremental.state import iso, parse_time

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
END = T0 + timedelta(days=30)


class FakeSearch:
    """Zoho's search as far as polling relies on it: inclusive modifiedTimeRange, sorted by modifiedTime (ties in a
    stable order), `from` at most 999. `between_pages` runs after each answer, to change the data mid-read."""

    def __init__(self, rows, between_pages=None):
        self.rows = {r["id"]: r for r in rows}
        self.offsets = []
        self.between_pages = between_pages or (lambda fake: None)

    def __call__(self, ranges, sort_by, offset, limit):
        assert offset <= MAX_FROM, "Zoho answers 422 to a from above 999"
        self.offsets.append(offset)
        matching = sorted(
            (
                r
                for r in self.rows.values()
                if all(start <= parse_time(r[field]) <= end for field, (start, end) in ranges.items())
            ),
            key=lambda r: (r[sort_by], r["id"]),
        )
        page = [dict(r) for r in matching[offset : offset + limit]]
        self.between_pages(self)
        return page


def rows_at(times, created=None):
    return [
        {"id": str(1000 + i), "modifiedTime": iso(t), "createdTime": iso(created(i) if created else T0)}
        for i, t in enumerate(times)
    ]


def read_ids(fake, since=T0, until=END):
    return [r["id"] for r in modified_rows(fake, since, until, "tickets")]


def test_thousands_of_rows_are_read_once_with_shallow_offsets():
    rng = random.Random(3)
    rows = rows_at(T0 + timedelta(seconds=rng.randrange(86400 * 20)) for _ in range(2500))
    fake = FakeSearch(rows)
    ids = read_ids(fake)
    assert sorted(ids) == sorted(r["id"] for r in rows) and len(ids) == len(set(ids))
    assert max(fake.offsets) == 0  # every page restarts its range at the newest time read


def test_many_rows_sharing_one_millisecond_are_paged_by_offset_within_it():
    shared = T0 + timedelta(hours=5)
    rows = rows_at(
        [T0 + timedelta(minutes=i) for i in range(40)] + [shared] * 250 + [shared + timedelta(seconds=1)] * 3
    )
    fake = FakeSearch(rows)
    ids = read_ids(fake)
    assert sorted(ids) == sorted(r["id"] for r in rows) and len(ids) == len(set(ids))
    assert max(fake.offsets) == 200


def test_more_rows_in_one_millisecond_than_search_can_page_are_read_by_creation_time_within_it():
    mass = T0 + timedelta(hours=1)
    rows = rows_at(
        [T0 + timedelta(minutes=i) for i in range(30)] + [mass] * 2500 + [mass + timedelta(milliseconds=1)] * 5,
        created=lambda i: T0 - timedelta(days=1) + timedelta(seconds=i // 3),  # 3 rows share each creation time
    )
    fake = FakeSearch(rows)
    ids = read_ids(fake)
    assert sorted(ids) == sorted(r["id"] for r in rows) and len(ids) == len(set(ids))
    assert max(fake.offsets) <= MAX_FROM


def test_more_rows_sharing_both_times_than_search_can_page_is_a_clear_error():
    fake = FakeSearch(rows_at([T0 + timedelta(hours=1)] * 1200))
    with pytest.raises(AirbyteTracedException, match="More than 1,000 tickets share the modification time .* and the"):
        read_ids(fake)


def test_rows_deleted_or_modified_during_the_read_push_no_other_row_past_a_page():
    rows = rows_at(T0 + timedelta(minutes=i) for i in range(450))
    changed = []

    def edit(fake):
        if len(fake.offsets) in (1, 3):  # after the first and third page: delete an early row, move another
            early = sorted(fake.rows.values(), key=lambda r: r["modifiedTime"])[len(fake.offsets)]
            del fake.rows[early["id"]]
            moved = sorted(fake.rows.values(), key=lambda r: r["modifiedTime"])[len(fake.offsets) * 50]
            moved["modifiedTime"] = iso(END + timedelta(days=1))  # modified now: beyond this read's range
            changed.extend([early["id"], moved["id"]])

    fake = FakeSearch(rows, between_pages=edit)
    ids = read_ids(fake)
    untouched = {r["id"] for r in rows} - set(changed)
    assert untouched <= set(ids) and len(ids) == len(set(ids))


def test_the_range_bounds_are_inclusive_and_respected():
    rows = rows_at([T0 - timedelta(milliseconds=1), T0, END, END + timedelta(milliseconds=1)])
    assert read_ids(FakeSearch(rows)) == ["1001", "1002"]


def test_a_polled_version_ranks_by_its_time_but_never_below_the_floor():
    record = {"modifiedTime": "2026-11-01T00:00:01.500Z"}
    assert version_cursor(record, floor=0) == int(T0.timestamp() * 1000) + 1500
    assert version_cursor(record, floor=10**15) == 10**15

"""The tickets snapshot against the simulator: createdTime windows of `/tickets/search`, read in parallel, complete,
never paged past `from` 999 (components/ticket_windows.py, BEHAVIOR.md "The tickets snapshot").

5,000 tickets make several windows of at most 1,000 with Zoho's limits; the 100,000-ticket figures are the
benchmark's (`python -m benchmarks.tickets 100000`), the splitting rule is the same.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read

from integration_tests.simulator import TICKET_SEARCH_FIELDS, ZohoDeskSimulator
from source_zoho_desk.source import SourceZohoDesk

SEARCH = "/api/v1/tickets/search"
LIST = "/api/v1/tickets"
TICKETS = 5000
# Fields of the schema that the old list rows lacked without `fields=`: the search rows must carry them.
COMPLETE_ONLY_WITH_FIELDS = ("modifiedTime", "cf", "modifiedBy", "category", "accountId", "isDeleted")


def read_tickets(simulator, **config_overrides):
    config = simulator.config(**config_overrides)
    catalog = CatalogBuilder().with_stream("tickets", SyncMode.full_refresh).build()
    return read(SourceZohoDesk(config=config, catalog=catalog), config, catalog)


def ticket_calls(simulator) -> list:
    return [r for r in simulator.desk_requests() if r.path in (SEARCH, LIST)]


def is_page(request) -> bool:
    return request.path == SEARCH and request.query.get("limit") != "1"


def assert_every_ticket_once_and_complete(simulator, output, ids=None):
    assert not output.errors, output.errors
    emitted = [m.record.data for m in output.records]
    counts = Counter(t["id"] for t in emitted)
    repeated = sorted(i for i, n in counts.items() if n > 1)
    assert not repeated, f"tickets emitted more than once: {repeated[:10]}"
    expected = set(simulator.store["tickets"]) if ids is None else set(ids)
    missing = expected - set(counts)
    assert not missing, f"{len(missing)} tickets were never emitted"
    for ticket in emitted:
        stored = simulator.store["tickets"].get(ticket["id"])
        if stored is None:
            continue  # deleted during the read
        absent = [n for n in TICKET_SEARCH_FIELDS if stored.get(n) is not None and ticket.get(n) != stored[n]]
        assert not absent, f"ticket {ticket['id']} differs from Zoho's in {absent}"
        assert all(ticket.get(n) == stored.get(n) for n in COMPLETE_ONLY_WITH_FIELDS)
        typed = [key for key, value in (stored.get("cf") or {}).items() if value is not None]
        assert all(key in ticket for key in typed), f"a custom field of {ticket['id']} is not a typed column"


def assert_bounded_offsets(simulator, max_from: int = 999) -> None:
    calls = ticket_calls(simulator)
    assert calls and all(r.path == SEARCH for r in calls), "the snapshot reads the search only"
    assert max(int(r.query.get("from", 0)) for r in calls) <= max_from
    assert all(r.status < 400 for r in calls)


@pytest.fixture(scope="module")
def portal():
    with ZohoDeskSimulator(seed=11, tickets=TICKETS) as sim:
        yield sim


@pytest.mark.parametrize("count_type", ["int", "string"])
@pytest.mark.parametrize("search_credits", [3, 9], ids=["search_as_dear_as_a_list_page", "search_three_times_dearer"])
def test_a_full_read_is_complete_and_never_pages_past_from_999(portal, count_type, search_credits):
    portal.settings.search_count_type = count_type
    portal.settings.credit_costs = dict(portal.settings.credit_costs, search=search_credits)
    portal.reset_requests()
    try:
        output = read_tickets(portal)
    finally:
        portal.settings.search_count_type = "int"
        portal.settings.credit_costs = dict(portal.settings.credit_costs, search=3)
    assert_every_ticket_once_and_complete(portal, output)
    assert_bounded_offsets(portal)
    calls = ticket_calls(portal)
    pages = [r for r in calls if is_page(r)]
    windows = {r.query["createdTimeRange"] for r in pages}
    assert len(windows) >= TICKETS // 1000, "the range was split into windows of at most 1,000 tickets"
    # one request per 100 tickets (pages overlap by 3 rows) plus about one count per window, whatever a page costs
    assert len(pages) <= TICKETS // 97 + len(windows)
    assert len(calls) - len(pages) <= 2 * len(windows) + 2
    charged = sum(r.credits for r in calls)
    assert charged == search_credits * len(calls), "every request stayed below from 1,000, where credits go up"


def test_windows_are_read_in_parallel(portal):
    """Two windows' pages are in flight at once: each of the first two page requests waits (a condition, with a
    generous timeout that only a serial read reaches) until the other arrived."""
    both_in = threading.Barrier(2, timeout=60)
    first_pages = []
    lock = threading.Lock()

    def hook(method, path, query):
        if path == SEARCH and query.get("limit") != "1" and query.get("from", "0") == "0":
            with lock:
                first_pages.append(query["createdTimeRange"])
                mine = len(first_pages)
            if mine <= 2:
                both_in.wait()

    portal.reset_requests()
    portal.request_hooks.append(hook)
    try:
        output = read_tickets(portal, num_workers=4)
    finally:
        portal.request_hooks.remove(hook)
    assert not both_in.broken, "the second window's first page never arrived while the first one waited"
    assert len(set(first_pages[:2])) == 2
    assert_every_ticket_once_and_complete(portal, output)


def share_created_time(sim, ids, moment: str) -> None:
    for ticket_id in ids:  # before the read starts
        sim.store["tickets"][ticket_id]["createdTime"] = moment


def by_created_time(sim) -> list:
    return [t["id"] for t in sorted(sim.store["tickets"].values(), key=lambda t: (t["createdTime"], int(t["id"])))]


def test_tickets_sharing_one_created_time_are_read_once_across_window_edges():
    with ZohoDeskSimulator(seed=5, tickets=3000) as sim:
        ordered = by_created_time(sim)
        # blocks of one millisecond where windows of ~900 would split: 950 (a window of one millisecond), and 150
        for block, moment in ((ordered[850:1800], None), (ordered[2500:2650], None)):
            share_created_time(sim, block, moment or sim.store["tickets"][block[0]]["createdTime"])
        output = read_tickets(sim)
        assert_every_ticket_once_and_complete(sim, output)
        assert_bounded_offsets(sim)
        ranges = {r.query["createdTimeRange"] for r in ticket_calls(sim) if is_page(r)}
        shared = sim.store["tickets"][ordered[850]]["createdTime"]
        assert sum(1 for r in ranges if r.split(",")[0] <= shared <= r.split(",")[1]) == 1


def test_more_tickets_in_one_millisecond_than_the_search_pages_through_fail_with_a_transient_message():
    with ZohoDeskSimulator(seed=5, tickets=1500) as sim:
        ordered = by_created_time(sim)
        share_created_time(sim, ordered[100:1101], sim.store["tickets"][ordered[100]]["createdTime"])
        output = read_tickets(sim)
        traces = [m.trace.error for m in output.errors if m.trace and m.trace.error]
        assert traces and traces[0].failure_type.value == "transient_error"
        assert "share the createdTime" in traces[0].message
        assert_bounded_offsets(sim)


def test_creates_and_deletes_during_the_read_skip_and_repeat_no_ticket():
    """Before the second page of each of the first windows, ten earlier tickets of that window are deleted (more
    than the pages overlap) and five tickets created: no ticket that lived through the read is missed or repeated."""
    with ZohoDeskSimulator(seed=9, tickets=TICKETS) as sim:
        before = set(sim.store["tickets"])
        deleted, created, hit = set(), [], set()
        lock = threading.Lock()

        def hook(method, path, query):
            if path != SEARCH or query.get("limit") == "1" or query.get("from") in (None, "0"):
                return
            window = query["createdTimeRange"]
            lo, hi = window.split(",")
            with lock:
                if window in hit or len(hit) >= 3:
                    return
                hit.add(window)
                inside = [t for t in by_created_time(sim) if lo <= sim.store["tickets"][t]["createdTime"] <= hi]
                for ticket_id in inside[10:20]:
                    sim.delete_ticket(ticket_id)
                    deleted.add(ticket_id)
                created.extend(sim.create_ticket(subject=f"created during the read {i}")["id"] for i in range(5))

        sim.before_request(hook)
        output = read_tickets(sim)
        assert len(hit) == 3, "the read reached the second page of three windows"
        assert_every_ticket_once_and_complete(sim, output, ids=before - deleted)
        assert_bounded_offsets(sim)


def test_a_token_without_the_search_scope_is_told_which_scope_the_tickets_need():
    with ZohoDeskSimulator(seed=3, tickets=50) as sim:
        config = sim.config()
        config["credentials"]["refresh_token"] = sim.refresh_token(
            scopes=["Desk.tickets.READ", "Desk.basic.READ", "Desk.settings.READ"]
        )
        output = read_tickets_with(config)
        messages = [m.trace.error.message for m in output.errors if m.trace and m.trace.error]
        assert any("Desk.tickets.READ and Desk.search.READ" in m for m in messages), messages
        assert not output.records


def read_tickets_with(config):
    catalog = CatalogBuilder().with_stream("tickets", SyncMode.full_refresh).build()
    return read(SourceZohoDesk(config=config, catalog=catalog), config, catalog)

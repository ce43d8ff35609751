"""Polling for every stream Zoho's search lists by modified time (contacts, accounts, tasks, calls, events,
products, articles, tickets), against the simulator: the first poll gives the same records, column for column, as a
full refresh (custom fields as typed columns, E.164 phones); later polls give exactly what changed, and the deletes
from each module's recycle bin entries. Replayed like an append + dedup destination, they equal the store."""

from __future__ import annotations

import random
from typing import List, Optional

import pytest
from airbyte_cdk.models import AirbyteStateMessageSerializer, SyncMode

from integration_tests.reads import read_streams, records_by_stream
from integration_tests.simulator import ZohoDeskSimulator
from integration_tests.webhook_harness import DedupDestination
from source_zoho_desk.incremental.streams import DELETED_AT_FIELD

SEARCHED = ("tickets", "contacts", "accounts", "tasks", "calls", "events", "products", "articles")
MUTABLE = ("contacts", "accounts", "tasks", "calls", "events", "articles")


def sync(simulator, streams, mode: SyncMode, state: Optional[List[dict]] = None):
    """One read; returns ({stream: [record data]}, the final state messages as dicts)."""
    output = read_streams(simulator.config(), streams, mode, state)
    assert not output.errors, [e.trace.error.message for e in output.errors]
    records = records_by_stream(output)
    final = {}
    for message in output.state_messages:
        final[message.state.stream.stream_descriptor.name] = AirbyteStateMessageSerializer.dump(message.state)
    return records, list(final.values())


def test_a_first_poll_gives_each_stream_the_columns_and_values_of_a_full_refresh(simulator):
    full, _ = sync(simulator, SEARCHED, SyncMode.full_refresh)
    polled, state = sync(simulator, SEARCHED, SyncMode.incremental)
    assert {s["stream"]["stream_descriptor"]["name"] for s in state} == set(SEARCHED)
    for stream in SEARCHED:
        full_rows = {r["id"]: r for r in full[stream]}
        polled_rows = {r["id"]: r for r in polled[stream]}
        assert full_rows and set(polled_rows) == set(full_rows), stream
        for record_id, full_row in full_rows.items():
            polled_row = polled_rows[record_id]
            for column, value in full_row.items():
                if column == "cf":
                    # Search rows are complete: they also carry the multi-line custom fields a list never gives.
                    assert {k: v for k, v in polled_row["cf"].items() if k in value} == value, (stream, record_id)
                else:
                    assert polled_row.get(column, "absent") == value, (stream, record_id, column)
    # The typed columns come from the manifest's transformations, as in a full refresh.
    assert any(isinstance(r.get("phone_e164"), str) for r in polled["contacts"])
    assert any(k.startswith("cf_") for r in polled["tickets"] for k in r)


@pytest.mark.parametrize("type_format", ["string", "list"])
def test_a_later_poll_of_each_module_returns_exactly_its_changes_and_deletes(simulator, type_format):
    simulator.settings.recycle_bin_type_format = type_format
    streams = MUTABLE + ("products",)
    destination = DedupDestination()
    records, state = sync(simulator, streams, SyncMode.incremental)
    destination.apply((name, row) for name, rows in records.items() for row in rows)

    rng = random.Random(5)
    expected_changes, expected_deletes = {}, {}
    for module in MUTABLE:
        ids = sorted(simulator.store[module])
        picked = rng.sample(ids, 5)
        updated, deleted = picked[:3], picked[3:]
        for record_id in updated:
            if module == "contacts":
                simulator.update_contact(record_id, lastName=f"Renamed {record_id}")
            elif module == "accounts":
                simulator.update_account(record_id, accountName=f"Renamed {record_id}")
            else:
                field = "title" if module == "articles" else "subject"
                simulator.update_record(module, record_id, **{field: f"Renamed {record_id}"})
        for record_id in deleted:
            if module == "contacts":
                simulator.delete_contact(record_id)
            elif module == "accounts":
                simulator.delete_account(record_id)
            else:
                simulator.delete_record(module, record_id)
        expected_changes[module], expected_deletes[module] = set(updated), set(deleted)
    expected_changes["contacts"].add(simulator.create_contact(lastName="New")["id"])
    expected_changes["products"], expected_deletes["products"] = set(), set()
    before = len(simulator.desk_requests())

    records, _ = sync(simulator, streams, SyncMode.incremental, state)
    destination.apply((name, row) for name, rows in records.items() for row in rows)
    for module in streams:
        changed = {r["id"] for r in records[module] if DELETED_AT_FIELD not in r}
        deletes = {r["id"] for r in records[module] if DELETED_AT_FIELD in r}
        assert (changed, deletes) == (expected_changes[module], expected_deletes[module]), module
        kept = destination.rows(module)
        with simulator.lock:
            store = {i: r["modifiedTime"] for i, r in simulator.store[module].items()}
        assert {i: r["modifiedTime"] for i, r in kept.items()} == store, module
    # Each stream asks the recycle bin for its own module, newest deletion first: one page here.
    bin_requests = [r for r in simulator.desk_requests()[before:] if r.path == "/api/v1/recycleBin"]
    assert sorted(r.query.get("module") for r in bin_requests) == sorted(
        ["contacts", "accounts", "tasks", "calls", "events", "solutions", "products"]
    )
    assert {r.query.get("sortBy") for r in bin_requests} == {"-deletedTime"}


CHILDREN = {
    "ticket_threads": "threads",
    "ticket_comments": "comments",
    "ticket_time_entries": "timeEntry",
    "ticket_attachments": "attachments",
    "ticket_tags": "tags",
}


def test_per_ticket_streams_follow_only_the_tickets_that_changed():
    with ZohoDeskSimulator(seed=7, tickets=60) as simulator:
        _per_ticket_streams_follow_only_the_tickets_that_changed(simulator)


def _per_ticket_streams_follow_only_the_tickets_that_changed(simulator):
    streams = tuple(CHILDREN)
    full, _ = sync(simulator, streams, SyncMode.full_refresh)
    first, state = sync(simulator, streams, SyncMode.incremental)
    for stream in streams:  # the first poll lists every ticket: the same rows as a full refresh, ticket_id included
        key = lambda r: (r["ticket_id"], r["id"])  # noqa: E731
        assert sorted(map(key, first[stream])) == sorted(map(key, full[stream])), stream
        assert {key(r): {k: v for k, v in r.items() if k != "_ab_cdc_cursor"} for r in first[stream]} == {
            key(r): r for r in full[stream]
        }

    tickets = simulator.store["tickets"]
    with_threads = [i for i in sorted(tickets) if tickets[i]["threadCount"] != "0"][:2]
    without_threads = [i for i in sorted(tickets) if tickets[i]["threadCount"] == "0"][:1]
    for ticket_id in with_threads + without_threads:
        simulator.update_ticket(ticket_id, status="Closed")
    before = len(simulator.desk_requests())
    second, _ = sync(simulator, streams, SyncMode.incremental, state)

    changed = set(with_threads + without_threads)
    asked = {}
    for request in simulator.desk_requests()[before:]:
        parts = request.path.split("/")  # /api/v1/tickets/{id}/{list}
        if len(parts) == 6 and parts[3] == "tickets" and parts[4].isdigit():
            asked.setdefault(parts[5], set()).add(parts[4])
    for stream, endpoint in CHILDREN.items():
        counter = {"threads": "threadCount", "comments": "commentCount", "timeEntry": "timeEntryCount"}.get(
            endpoint, {"attachments": "attachmentCount", "tags": "tagCount"}.get(endpoint)
        )
        with_children = {i for i in changed if tickets[i][counter] != "0"}
        assert asked.get(endpoint, set()) == with_children, stream  # no other ticket's list, none with a "0"
        assert {r["ticket_id"] for r in second[stream]} == with_children, stream
        expected = [(r["ticket_id"], r["id"]) for r in first[stream] if r["ticket_id"] in with_children]
        assert sorted((r["ticket_id"], r["id"]) for r in second[stream]) == sorted(expected), stream
        before_cursor = {(r["ticket_id"], r["id"]): r["_ab_cdc_cursor"] for r in first[stream]}
        # A ticket's new version ranks its rows above the ones the first sync emitted.
        assert all(r["_ab_cdc_cursor"] > before_cursor[(r["ticket_id"], r["id"])] for r in second[stream]), stream
    assert asked.get("threads") == set(with_threads) and len(with_threads) == 2

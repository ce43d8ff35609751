"""Incremental sync by polling Zoho's search, against the simulator: no webhooks, no buffer (Free/Standard editions).

The first sync lists every ticket from `/tickets/search` (complete rows, no deep offsets); later syncs list what
changed since, plus the deletes in the recycle bin. Replayed like an append + dedup destination (highest
`_ab_cdc_cursor` wins, `_ab_cdc_deleted_at` deletes), the records equal the simulator's tickets exactly."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from airbyte_cdk.models import AirbyteStateMessageSerializer, SyncMode

from integration_tests.reads import read_streams
from source_zoho_desk.incremental.streams import CURSOR_FIELD, DELETED_AT_FIELD


class Destination:
    """Append + dedup, as Airbyte's destinations apply it: per id the highest cursor wins; a delete removes."""

    def __init__(self):
        self.rows, self.cursors = {}, {}

    def apply(self, records):
        for data in records:
            record_id, cursor = data["id"], data[CURSOR_FIELD]
            if record_id in self.cursors and cursor < self.cursors[record_id]:
                continue
            self.cursors[record_id] = cursor
            if data.get(DELETED_AT_FIELD):
                self.rows.pop(record_id, None)
            else:
                self.rows[record_id] = data


def run(simulator, destination, state=None, **config):
    output = read_streams(simulator.config(**config), ["tickets"], SyncMode.incremental, state)
    assert not output.errors, [e.trace.error.message for e in output.errors]
    records = [m.record.data for m in output.records]
    destination.apply(records)
    final_state = [AirbyteStateMessageSerializer.dump(output.state_messages[-1].state)] if output.state_messages else []
    return records, final_state, output


def searched(simulator, since_request=0):
    return [r for r in simulator.desk_requests()[since_request:] if r.path == "/api/v1/tickets/search"]


def assert_equals_store(destination, simulator):
    store = simulator.store["tickets"]
    assert set(destination.rows) == set(store)
    for ticket_id, row in destination.rows.items():
        assert row["modifiedTime"] == store[ticket_id]["modifiedTime"], ticket_id


def test_the_first_poll_lists_every_ticket_complete_with_shallow_offsets(simulator):
    destination = Destination()
    records, state, _ = run(simulator, destination)
    assert sorted(r["id"] for r in records) == sorted(simulator.store["tickets"])
    assert all("cf" in r and r["modifiedTime"] and r[CURSOR_FIELD] > 0 for r in records)
    assert max(int(r.query.get("from", 0)) for r in searched(simulator)) == 0
    assert "modified_since" in state[0]["stream"]["stream_state"]
    assert not [r for r in simulator.desk_requests() if r.path.startswith("/api/v1/tickets/") and r.path[16:].isdigit()]
    assert_equals_store(destination, simulator)


def test_a_later_poll_returns_exactly_the_changes_and_the_deletes(simulator):
    destination = Destination()
    _, state, _ = run(simulator, destination)
    rng = random.Random(11)
    ids = sorted(simulator.store["tickets"])
    updated = rng.sample(ids, 6)
    for ticket_id in updated:
        simulator.update_ticket(ticket_id, status="Closed")
    deleted = [i for i in rng.sample(ids, 4) if i not in updated][:2]
    for ticket_id in deleted:
        simulator.delete_ticket(ticket_id)
    created = [simulator.create_ticket(subject=f"new {n}")["id"] for n in range(3)]
    # A mass update: 150 tickets that share one modification time, more than a search page holds.
    shared = iso_now()
    mass = [i for i in ids if i not in updated and i not in deleted][:150]
    for ticket_id in mass:
        simulator.store["tickets"][ticket_id] = dict(
            simulator.store["tickets"][ticket_id], modifiedTime=shared, priority="High"
        )
    before = len(simulator.desk_requests())

    records, _, _ = run(simulator, destination, state)
    changed = [r for r in records if DELETED_AT_FIELD not in r]
    deletes = [r for r in records if DELETED_AT_FIELD in r]
    assert sorted(r["id"] for r in changed) == sorted(set(updated) | set(created) | set(mass))
    assert sorted(r["id"] for r in deletes) == sorted(deleted)
    assert max(int(r.query.get("from", 0)) for r in searched(simulator, before)) == 100  # within one millisecond
    assert_equals_store(destination, simulator)


def test_start_date_bounds_the_first_poll(simulator):
    times = sorted(t["modifiedTime"] for t in simulator.store["tickets"].values())
    start = times[len(times) // 2]
    records, _, _ = run(simulator, Destination(), start_date=start)
    assert sorted(r["id"] for r in records) == sorted(
        i for i, t in simulator.store["tickets"].items() if t["modifiedTime"] >= start
    )


def test_polling_after_webhook_syncs_ranks_above_every_webhook_cursor(simulator):
    webhook_state = [
        {
            "type": "STREAM",
            "stream": {
                "stream_descriptor": {"name": "tickets"},
                "stream_state": {"position": 5000, "covered_until": iso_now(), "cursor_offset": 10**13},
            },
        }
    ]
    ticket_id = sorted(simulator.store["tickets"])[0]
    simulator.update_ticket(ticket_id, status="On Hold")
    records, state, _ = run(simulator, Destination(), webhook_state)
    assert [r["id"] for r in records] == [ticket_id]
    assert records[0][CURSOR_FIELD] == 10**13 + 5001
    assert state[0]["stream"]["stream_state"]["cursor_floor"] == 10**13 + 5001


def iso_now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

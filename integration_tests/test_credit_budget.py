"""`max_credits_per_sync`: a sync stops before it spends more Zoho API credits than its budget, says so, and keeps
what it read; an incremental sync stopped that way goes on from its saved state."""

from __future__ import annotations

from airbyte_cdk.models import AirbyteStateMessageSerializer, SyncMode

from integration_tests.reads import read_streams
from integration_tests.simulator import ZohoDeskSimulator
from source_zoho_desk.incremental.streams import DELETED_AT_FIELD


def test_a_full_refresh_stops_at_its_budget_with_a_message_naming_it():
    with ZohoDeskSimulator(seed=7, contacts=600) as simulator:
        _a_full_refresh_stops_at_its_budget(simulator)


def _a_full_refresh_stops_at_its_budget(simulator):
    unbounded = read_streams(simulator.config(), ["contacts"])
    spent = sum(r.credits for r in simulator.desk_requests())
    assert not unbounded.errors and spent > 12
    before = len(simulator.desk_requests())

    output = read_streams(simulator.config(max_credits_per_sync=6, num_workers=1), ["contacts"])
    charged = sum(r.credits for r in simulator.desk_requests()[before:])
    messages = [e.trace.error.message for e in output.errors]
    assert any("Credit budget per sync" in m and "6" in m for m in messages), messages
    # One request at a time: the last one started below the budget, none after it was reached.
    assert 6 <= charged < 6 + 4
    assert 0 < len(output.records) < len(unbounded.records)


def test_a_polling_sync_stopped_by_its_budget_goes_on_from_its_state():
    with ZohoDeskSimulator(seed=7, tickets=600) as sim:
        first = read_streams(sim.config(max_credits_per_sync=10, num_workers=1), ["tickets"], SyncMode.incremental)
        assert any("Credit budget per sync" in e.trace.error.message for e in first.errors)
        assert first.state_messages, "the rows read before the stop are checkpointed"
        read_ids = {m.record.data["id"] for m in first.records}
        assert 0 < len(read_ids) < 600
        state = [AirbyteStateMessageSerializer.dump(first.state_messages[-1].state)]

        second = read_streams(sim.config(), ["tickets"], SyncMode.incremental, state)
        assert not second.errors
        # (the deletes from the recycle bin since the checkpoint come too)
        second_ids = {m.record.data["id"] for m in second.records if DELETED_AT_FIELD not in m.record.data}
        assert read_ids | second_ids == set(sim.store["tickets"])
        # It resumed: most of what the first sync read is not read again.
        assert len(read_ids & second_ids) < len(read_ids) / 2

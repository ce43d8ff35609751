"""Mode `both`: webhooks for latency, Zoho's search to reconcile on every sync. A receiver outage is caught up by a
poll of the gap instead of a full snapshot, and a delivery Zoho dropped while the receiver was up still arrives."""

from __future__ import annotations

from integration_tests.test_webhook_incremental import (
    drop_queued_events,
    outage_longer_than_the_grace,
    tickets_by_creation,
)


def both(rig):
    rig.config["incremental_mode"] = "both"
    return rig


def test_the_first_sync_polls_tickets_instead_of_listing_them(rig):
    first = both(rig).sync()
    assert "/api/v1/tickets/search" in first.list_calls and "/api/v1/tickets" not in first.list_calls
    assert "/api/v1/departments" in first.list_calls  # no search for departments: a snapshot, as in mode webhooks
    assert "modified_since" in first.state["tickets"] and "position" in first.state["tickets"]
    rig.assert_exact()


def test_an_outage_is_caught_up_by_polling_the_gap_not_by_a_full_snapshot(rig, monkeypatch):
    sim = both(rig).sim
    order = tickets_by_creation(sim)
    created = {}

    def while_down():
        sim.update_ticket(order[0], subject="changed while nobody listened")
        created.update(sim.create_ticket(subject="created while nobody listened"))
        sim.delete_ticket(order[1])

    outage_longer_than_the_grace(rig, monkeypatch, while_down)
    sim.update_ticket(order[2], subject="changed after the restart")
    rig.deliver()

    healing = rig.sync()
    assert any("catching up from Zoho's search since" in w for w in healing.warnings)
    assert "/api/v1/tickets" not in healing.list_calls and "/api/v1/tickets/search" in healing.list_calls
    polled = [r for r in healing.records_of("tickets") if r["id"] in (order[0], created["id"])]
    assert {r["id"] for r in polled} == {order[0], created["id"]}
    rig.assert_exact()

    after = rig.sync()
    assert after.warnings == [] and "/api/v1/tickets" not in after.list_calls
    rig.assert_exact()


def test_a_delivery_dropped_while_the_receiver_was_up_arrives_by_the_next_poll(rig):
    sim = both(rig).sim
    rig.sync()
    order = tickets_by_creation(sim)
    sim.update_ticket(order[3], subject="Zoho never delivered this change")
    sim.delete_ticket(order[4])
    drop_queued_events(sim)  # Zoho gave up on these deliveries; the receiver never saw them
    sim.update_ticket(order[5], subject="this one was delivered")
    rig.deliver()

    second = rig.sync()
    assert second.warnings == []
    assert rig.destination.rows("tickets")[order[3]]["subject"] == "Zoho never delivered this change"
    assert order[4] not in rig.destination.rows("tickets")
    # The delivered change came with the poll, which shows it as new as its event: the event adds no second copy.
    assert [r["subject"] for r in second.records_of("tickets") if r["id"] == order[5]] == ["this one was delivered"]
    rig.assert_exact()

"""Planning and draining incremental reads from a real (SQLite) webhook buffer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.incremental.drain import EventRecords, drain, event_time_iso
from source_zoho_desk.incremental.plan import StreamPlan, plan_stream
from source_zoho_desk.incremental.streams import CURSOR_FIELD, DELETED_AT_FIELD, IncrementalStream
from zoho_desk_webhooks.buffer import open_buffer

ORG = "60053464097"
TICKETS = IncrementalStream(
    "tickets",
    ("Ticket_Add", "Ticket_Update", "Ticket_Delete"),
    "tickets",
    ("id", "modifiedTime", "subject", "status"),
    "Tickets",
)
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def ticket_event(event_type, ticket_id, when_ms="1793534400000", **payload):
    body = {"id": ticket_id, **payload}
    return {"eventType": event_type, "orgId": ORG, "eventTime": when_ms, "payload": body}


def full(ticket_id, subject="Printer on fire", modified="2026-11-01T12:00:00.000Z"):
    return {"modifiedTime": modified, "subject": subject, "status": "Open"}


@pytest.fixture
def buffer(tmp_path):
    with open_buffer(f"sqlite:///{tmp_path / 'buffer.db'}") as opened:
        yield opened


def up(buffer, since, until):
    buffer.record_heartbeat("receiver-1", since, since)
    buffer.record_heartbeat("receiver-1", since, until)


def test_first_sync_notes_the_head_before_its_snapshot(buffer):
    buffer.append(ORG, [ticket_event("Ticket_Add", "1", **full("1"))])
    plan = plan_stream(TICKETS, None, buffer, ORG, T0)
    assert plan.needs_snapshot and plan.drain_from == 1 and plan.coverage_since == T0


def seven_events(buffer):
    buffer.append(ORG, [ticket_event("Ticket_Update", str(i), **full(str(i))) for i in range(1, 8)])


def test_a_saved_position_with_a_receiver_up_all_along_drains_only(buffer):
    seven_events(buffer)
    up(buffer, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    plan = plan_stream(TICKETS, {"position": 5, "covered_until": "2026-11-01T11:30:00.000Z"}, buffer, ORG, T0)
    assert not plan.needs_snapshot and plan.drain_from == 5


def test_a_receiver_outage_since_the_last_sync_forces_a_healing_snapshot(buffer, caplog):
    seven_events(buffer)
    buffer.record_heartbeat("receiver-1", T0 - timedelta(hours=3), T0 - timedelta(hours=2))
    plan = plan_stream(TICKETS, {"position": 5, "covered_until": "2026-11-01T09:30:00.000Z"}, buffer, ORG, T0)
    assert plan.needs_snapshot
    assert "no webhook receiver was running between" in caplog.text
    # The heal replays what is still buffered after the saved position (its deletes matter) and asks the recycle
    # bin for deletes since the last covered moment.
    assert plan.drain_from == 5
    assert plan.deletes_since == datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc)


def test_pruned_events_after_the_position_force_a_healing_snapshot(buffer, caplog):
    up(buffer, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    buffer.append(ORG, [ticket_event("Ticket_Update", str(i), **full(str(i))) for i in range(1, 11)])
    buffer.prune(ORG, before_position=8)
    plan = plan_stream(TICKETS, {"position": 3, "covered_until": "2026-11-01T11:30:00.000Z"}, buffer, ORG, T0)
    assert plan.needs_snapshot and "retention removed events" in caplog.text


def test_an_event_id_that_is_not_digits_never_reaches_a_url(buffer, caplog):
    buffer.append(
        ORG,
        [
            ticket_event("Ticket_Update", "../organizations"),
            ticket_event("Ticket_Delete", "1?x=2"),
            ticket_event("Ticket_Update", "5"),
        ],
    )
    fetched = []

    def fetch(path, record_id):
        fetched.append(record_id)
        return {"id": record_id, "subject": "s", "status": "Open", "modifiedTime": "2026-11-01T12:05:00.000Z"}

    plan = StreamPlan(TICKETS, drain_from=0, needs_snapshot=False, coverage_since=T0)
    records = [m.record.data for m in drain(plan, buffer, ORG, EventRecords(plan, fetch)) if m.record]
    assert fetched == ["5"] and [r["id"] for r in records] == ["5"]
    assert "skipped a Ticket_Update event whose id '../organizations' is not a Zoho record id (digits)" in caplog.text
    assert "skipped a Ticket_Delete event whose id '1?x=2' is not a Zoho record id (digits)" in caplog.text


def test_a_fetched_record_with_another_id_is_not_emitted(buffer, caplog):
    buffer.append(ORG, [ticket_event("Ticket_Update", "5")])
    plan = StreamPlan(TICKETS, drain_from=0, needs_snapshot=False, coverage_since=T0)
    records = [
        m.record.data
        for m in drain(plan, buffer, ORG, EventRecords(plan, lambda *_: {"id": None, "name": "org"}))
        if m.record
    ]
    assert records == []
    assert "skipped record 5: Zoho Desk answered its fetch with a record whose id is 'None'" in caplog.text


def test_events_become_records_updates_deletes_and_fetched_partials(buffer):
    buffer.append(
        ORG,
        [
            ticket_event("Ticket_Add", "1", **full("1")),
            ticket_event("Ticket_Update", "2", subject="only the subject changed"),
            ticket_event("Ticket_Delete", "3", when_ms="1793534400123"),
            ticket_event("Ticket_Update", "4", isDeleted=True, **full("4")),
            ticket_event("Ticket_Update", "2", status="Closed"),
            {"eventType": "Contact_Update", "orgId": ORG, "eventTime": "1", "payload": {"id": "77"}},
        ],
    )
    fetched = []

    def fetch(path, record_id):
        fetched.append((path, record_id))
        return {
            "id": record_id,
            "subject": "from the API",
            "modifiedTime": "2026-11-01T12:05:00.000Z",
            "status": "Closed",
        }

    plan = StreamPlan(TICKETS, drain_from=0, needs_snapshot=False, coverage_since=T0)
    up(buffer, T0 - timedelta(minutes=1), datetime.now(timezone.utc))
    messages = list(drain(plan, buffer, ORG, EventRecords(plan, fetch)))
    records = [m.record.data for m in messages if m.record]
    states = [m.state.stream.stream_state.__dict__ for m in messages if m.state]

    assert [r["id"] for r in records] == ["1", "2", "3", "4", "2"]
    assert records[0]["subject"] == "Printer on fire" and records[0][CURSOR_FIELD] == 1
    assert records[1]["subject"] == "from the API" and records[1][CURSOR_FIELD] == 2
    assert records[2] == {"id": "3", DELETED_AT_FIELD: "2026-11-01T12:00:00.123Z", CURSOR_FIELD: 3}
    assert DELETED_AT_FIELD in records[3] and records[3][CURSOR_FIELD] == 4
    assert fetched == [("tickets", "2")], "a partial payload fetches its record once per batch"
    assert states[-1]["position"] == 6, "the state moves past other modules' events too"


def test_drain_checkpoints_every_batch(buffer, monkeypatch):
    monkeypatch.setattr("source_zoho_desk.incremental.drain.DRAIN_BATCH", 4)
    buffer.append(ORG, [ticket_event("Ticket_Update", str(i), **full(str(i))) for i in range(1, 11)])
    plan = StreamPlan(TICKETS, drain_from=0, needs_snapshot=False, coverage_since=T0)
    messages = list(drain(plan, buffer, ORG, EventRecords(plan, lambda *_: None)))
    positions = [m.state.stream.stream_state.__dict__["position"] for m in messages if m.state]
    assert positions[:3] == [4, 8, 10]
    kinds = [m.type.value for m in messages]
    assert kinds.index("STATE") == 4, "state follows the first batch of four records"


def stored(event_time):
    from zoho_desk_webhooks.models import StoredEvent

    return StoredEvent(7, ORG, "Ticket_Delete", event_time, {"id": "1"}, None, T0)


def test_event_times_in_epoch_milliseconds_or_iso_or_else_the_receipt_time(caplog):
    assert event_time_iso(stored("1793534400123")) == "2026-11-01T12:00:00.123Z"
    assert event_time_iso(stored("2026-11-01T12:00:00.123Z")) == "2026-11-01T12:00:00.123Z"
    assert event_time_iso(stored("1795431854.517")) == "2026-11-01T12:00:00.000Z"
    assert "Unreadable eventTime" in caplog.text


def test_a_position_beyond_the_buffer_head_heals_with_a_snapshot(buffer, caplog):
    up(buffer, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    buffer.append(ORG, [ticket_event("Ticket_Add", "1", **full("1"))])
    plan = plan_stream(TICKETS, {"position": 900, "covered_until": "2026-11-01T11:30:00.000Z"}, buffer, ORG, T0)
    assert plan.needs_snapshot and plan.drain_from == 0, "the new buffer's own deletes are replayed too"
    assert plan.snapshot_position == 1
    assert "beyond the buffer's newest event" in caplog.text


def test_a_covered_until_in_the_future_is_not_an_error(buffer):
    up(buffer, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    plan = plan_stream(TICKETS, {"position": 0, "covered_until": "2099-01-01T00:00:00.000Z"}, buffer, ORG, T0)
    assert not plan.needs_snapshot and plan.drain_from == 0


def test_the_recycle_bin_yields_recent_deletes_of_the_stream_type_only():
    from source_zoho_desk.incremental.drain import recycle_bin_deletes

    # Newest deletion first, as `sortBy=-deletedTime` lists them: 150 recent entries (one of another type, one in
    # the spec's list shape), then older ones on a third page that must not be asked for.
    recent = [{"id": str(i), "type": "Tickets", "deletedTime": "2026-11-01T12:00:00.000Z"} for i in range(150)]
    recent[7]["type"] = ["Tickets"]  # the shape of Zoho's spec example; a string is seen too
    recent[9]["type"] = "Contacts"  # a bin that ignored the module filter
    old = [{"id": str(1000 + i), "type": "Tickets", "deletedTime": "2026-10-01T12:00:00.000Z"} for i in range(120)]
    listing = recent + old
    asked = []

    def page(offset):
        asked.append(offset)
        return listing[offset : offset + 100]

    deletes = list(recycle_bin_deletes(page, TICKETS, T0 - timedelta(minutes=30), lambda _: 42))
    assert {d["id"] for d in deletes} == {str(i) for i in range(150) if i != 9}
    assert all(d[CURSOR_FIELD] == 42 and d[DELETED_AT_FIELD] == "2026-11-01T12:00:00.000Z" for d in deletes)
    assert asked == [0, 100]  # the second page reaches back past `since`: no third


def test_events_older_than_a_snapshot_only_contribute_their_deletes(buffer):
    buffer.append(
        ORG,
        [
            ticket_event("Ticket_Update", "1", **full("1", subject="old version")),
            ticket_event("Ticket_Delete", "2"),
            ticket_event("Ticket_Update", "3", **full("3", subject="newer than the snapshot")),
        ],
    )
    plan = StreamPlan(TICKETS, drain_from=0, needs_snapshot=True, coverage_since=T0, snapshot_position=2)
    converter = EventRecords(plan, lambda *_: None)
    records = [m.record.data for m in drain(plan, buffer, ORG, converter) if m.record]
    assert [(r["id"], r[CURSOR_FIELD]) for r in records] == [("2", 2), ("3", 3)]
    assert DELETED_AT_FIELD in records[0]


def states_of(messages):
    return [m.state.stream.stream_state.__dict__ for m in messages if m.state]


def test_an_interrupted_drain_keeps_the_snapshot_boundary_in_its_state(buffer, monkeypatch):
    """Resuming below the snapshot boundary must still drop the older updates (they could revive a deleted row)."""
    monkeypatch.setattr("source_zoho_desk.incremental.drain.DRAIN_BATCH", 2)
    buffer.append(
        ORG,
        [
            ticket_event("Ticket_Update", "1", **full("1", subject="older than the snapshot")),
            ticket_event("Ticket_Update", "2", **full("2", subject="older than the snapshot")),
            ticket_event("Ticket_Update", "3", **full("3", subject="older than the snapshot")),
            ticket_event("Ticket_Delete", "4"),
            ticket_event("Ticket_Update", "5", **full("5", subject="newer")),
        ],
    )
    first = StreamPlan(TICKETS, drain_from=0, needs_snapshot=True, coverage_since=T0, snapshot_position=4)
    states = states_of(drain(first, buffer, ORG, EventRecords(first, lambda *_: None)))
    assert states[0] == {"position": 2, "covered_until": states[0]["covered_until"], "deletes_only_through": 4}
    assert "deletes_only_through" not in states[-1], "once past the boundary the state forgets it"

    up(buffer, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    resumed = plan_stream(TICKETS, {**states[0], "covered_until": "2026-11-01T11:30:00.000Z"}, buffer, ORG, T0)
    assert not resumed.needs_snapshot and resumed.snapshot_position == 4
    records = [m.record.data for m in drain(resumed, buffer, ORG, EventRecords(resumed, lambda *_: None)) if m.record]
    assert [(r["id"], DELETED_AT_FIELD in r) for r in records] == [("4", True), ("5", False)]


def test_a_replaced_buffer_raises_every_cursor_above_the_old_ones(buffer, caplog):
    up(buffer, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    buffer.append(ORG, [ticket_event("Ticket_Update", "1", **full("1")), ticket_event("Ticket_Delete", "2")])
    old_state = {"position": 900, "covered_until": "2026-11-01T11:30:00.000Z", "cursor_offset": 50}
    plan = plan_stream(TICKETS, old_state, buffer, ORG, T0)
    assert plan.needs_snapshot and plan.cursor_offset == 951
    assert plan.snapshot_cursor == 953, "snapshot rows outrank the 950 the old buffer's last event had"
    messages = list(drain(plan, buffer, ORG, EventRecords(plan, lambda *_: None)))
    records = [m.record.data for m in messages if m.record]
    assert [(r["id"], r[CURSOR_FIELD]) for r in records] == [("2", 953)]
    assert states_of(messages)[-1]["cursor_offset"] == 951
    later = plan_stream(
        TICKETS, {**states_of(messages)[-1], "covered_until": "2026-11-01T11:30:00.000Z"}, buffer, ORG, T0
    )
    assert not later.needs_snapshot and later.cursor_offset == 951


def test_events_pruned_while_draining_stop_the_drain_for_a_heal(buffer, monkeypatch, caplog):
    monkeypatch.setattr("source_zoho_desk.incremental.drain.DRAIN_BATCH", 2)
    buffer.append(ORG, [ticket_event("Ticket_Update", str(i)) for i in range(1, 7)])  # partial: fetched by id

    def fetch_while_retention_runs(_path, record_id):
        buffer.prune(ORG, before_position=6)  # a cron `prune` racing the sync
        return {"id": record_id, **full(record_id)}

    plan = StreamPlan(TICKETS, drain_from=0, needs_snapshot=False, coverage_since=T0)
    messages = list(drain(plan, buffer, ORG, EventRecords(plan, fetch_while_retention_runs)))
    assert [m.record.data["id"] for m in messages if m.record] == ["1", "2"]
    assert states_of(messages)[-1]["position"] == 2, "the state stays before the pruned events"
    assert "retention removed events after position 2" in caplog.text
    up(buffer, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    next_plan = plan_stream(
        TICKETS, {**states_of(messages)[-1], "covered_until": "2026-11-01T11:30:00.000Z"}, buffer, ORG, T0
    )
    assert next_plan.needs_snapshot


@pytest.mark.parametrize("bad", [{"position": "abc"}, {"position": -3}, {"position": 1, "cursor_offset": "x"}])
def test_a_hand_edited_state_gets_a_clear_config_error(buffer, bad):
    with pytest.raises(AirbyteTracedException) as error:
        plan_stream(TICKETS, {"covered_until": "2026-11-01T11:30:00.000Z", **bad}, buffer, ORG, T0)
    assert "Reset the stream's state" in error.value.message and error.value.failure_type.value == "config_error"


def test_a_refused_delivery_since_the_last_sync_heals_and_one_before_it_does_not(buffer, caplog):
    seven_events(buffer)
    up(buffer, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    state = {"position": 5, "covered_until": "2026-11-01T11:30:00.000Z"}
    buffer.record_refusal(ORG, "jwks_unavailable", T0 - timedelta(hours=1))  # before the last sync: healed then
    assert not plan_stream(TICKETS, state, buffer, ORG, T0).needs_snapshot
    buffer.record_refusal(ORG, "jwks_unavailable", T0 - timedelta(minutes=10))
    plan = plan_stream(TICKETS, state, buffer, ORG, T0)
    assert plan.needs_snapshot and plan.drain_from == 5
    assert "could not store a delivery at 2026-11-01T11:50:00.000Z (jwks_unavailable)" in caplog.text


def test_a_refusal_during_a_drain_leaves_covered_until_before_it(buffer):
    seven_events(buffer)
    up(buffer, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    buffer.record_refusal(ORG, "buffer_unavailable", T0 + timedelta(minutes=1))
    plan = StreamPlan(TICKETS, drain_from=5, needs_snapshot=False, coverage_since=T0)
    states = states_of(drain(plan, buffer, ORG, EventRecords(plan, lambda *_: None), started=T0 + timedelta(minutes=2)))
    assert states[-1]["covered_until"] == "2026-11-01T12:01:00.000Z", "the next sync heals from the refusal"


def test_an_update_stored_after_a_newer_one_or_after_the_delete_is_fetched_instead(buffer):
    """Position orders what the destination keeps, so a payload older than one already emitted (a retried or
    concurrent delivery stored late) must not win: the current record is fetched by id instead."""
    buffer.append(
        ORG,
        [
            ticket_event("Ticket_Update", "1", **full("1", subject="newer", modified="2026-11-01T12:05:00.000Z")),
            ticket_event(
                "Ticket_Update", "1", **full("1", subject="older, stored late", modified="2026-11-01T12:00:00.000Z")
            ),
            ticket_event("Ticket_Delete", "2"),
            ticket_event("Ticket_Update", "2", **full("2", subject="stale update after the delete")),
            ticket_event("Ticket_Update", "3", **full("3", subject="in order", modified="2026-11-01T12:00:00.000Z")),
            ticket_event(
                "Ticket_Update", "3", **full("3", subject="in order, later", modified="2026-11-01T12:01:00.000Z")
            ),
        ],
    )
    current = {"1": {"id": "1", **full("1", subject="current", modified="2026-11-01T12:06:00.000Z")}}
    fetched = []

    def fetch(path, record_id):
        fetched.append(record_id)
        return current.get(record_id)  # ticket 2 is gone

    plan = StreamPlan(TICKETS, drain_from=0, needs_snapshot=False, coverage_since=T0)
    records = [m.record.data for m in drain(plan, buffer, ORG, EventRecords(plan, fetch)) if m.record]
    assert [(r["id"], r.get("subject", "deleted"), r[CURSOR_FIELD]) for r in records] == [
        ("1", "newer", 1),
        ("1", "current", 2),
        ("2", "deleted", 3),
        ("3", "in order", 5),
        ("3", "in order, later", 6),
    ]
    assert fetched == ["1", "2"], "only the out-of-order events cost a fetch"


def test_a_drain_measures_coverage_in_the_buffers_clock(buffer, monkeypatch):
    """Receivers stamp heartbeats with the buffer's clock; a sync on a host whose clock is off must not see gaps."""
    seven_events(buffer)
    up(buffer, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    monkeypatch.setattr(buffer, "clock", lambda: T0 + timedelta(minutes=2))  # the local clock says 2026-11-23
    plan = StreamPlan(TICKETS, drain_from=5, needs_snapshot=False, coverage_since=T0)
    states = states_of(drain(plan, buffer, ORG, EventRecords(plan, lambda *_: None)))
    assert states[-1]["covered_until"] == "2026-11-01T12:02:00.000Z"

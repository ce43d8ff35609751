"""Incremental syncs from Zoho webhooks, end to end and on both buffer backends, with nothing mocked.

Zoho Desk simulator mutation -> JWT-signed webhook POST -> `zoho-desk-webhooks serve` subprocess -> SQLite or a real
PostgreSQL server -> `SourceZohoDesk` incremental read -> a dedup destination (integration_tests/webhook_harness.py)
whose rows must equal the simulator's store after each sync that had every event delivered.

Not repeated here (unit tests cover them in depth): each receiver rejection with its status and metric
(unit_tests/webhooks/test_receiver.py::test_rejections_store_nothing_and_are_counted), kill -9 during concurrent
deliveries (test_served_receiver.py::test_every_acknowledged_event_survives_kill_9), planning and draining edge cases
(unit_tests/test_incremental.py). A delivery Zoho drops while the receiver is up is lost on Zoho's side; nothing
here can notice it, so it is not tested.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from integration_tests.webhook_harness import (
    mutations_during_ticket_snapshot,
    reorder_across_modules,
    store_view,
)
from source_zoho_desk.incremental import plan as incremental_plan
from source_zoho_desk.incremental.streams import CURSOR_FIELD, DELETED_AT_FIELD

# Stands in for the 30 s COVERAGE_GRACE where a test needs a real outage; long enough that heartbeats (every 0.2 s)
# delayed on a loaded machine do not look like one.
SHORT_GRACE = timedelta(seconds=5)


def tickets_by_creation(sim):
    with sim.lock:
        return [r["id"] for r in sorted(sim.store["tickets"].values(), key=lambda r: r["createdTime"])]


def a_department(sim):
    with sim.lock:
        return next(iter(sim.store["departments"]))


def drop_queued_events(sim):
    """Forget what Zoho has queued (the test sends its own version of those events)."""
    with sim.hub.cond:
        sim.hub.pending.clear()


def now_ms():
    return str(int(time.time() * 1000))


def wait_for(condition, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_first_sync_snapshots_and_keeps_changes_made_during_the_snapshot(rig):
    sim = rig.sim
    sim.settings.latency = 0.02  # a slow API; the harness also holds page 2 until the mutations are delivered
    order = tickets_by_creation(sim)
    early, early_deleted = order[10], order[20]  # on the first page (100 rows): read before the mutations
    late, late_deleted = order[220], order[210]  # on the last page: read after them
    department = a_department(sim)
    created = {}

    def mutate():
        sim.update_ticket(early, subject="changed after its page was read", status="Closed")
        sim.update_ticket(late, subject="changed before its page was read")
        sim.delete_ticket(early_deleted)
        sim.delete_ticket(late_deleted)
        created.update(sim.create_ticket(subject="created during the snapshot"))
        sim.update_department(department, name="Renamed during the snapshot")
        rig.deliver()

    with mutations_during_ticket_snapshot(sim, mutate) as mutated:
        first = rig.sync()
    assert mutated.is_set()
    assert "/api/v1/tickets/search" in first.list_calls and "/api/v1/departments" in first.list_calls

    rig.assert_exact()
    rows = rig.destination.rows("tickets")
    assert (rows[early]["subject"], rows[early]["status"]) == ("changed after its page was read", "Closed")
    assert rows[late]["subject"] == "changed before its page was read"
    assert early_deleted not in rows and late_deleted not in rows
    assert rows[created["id"]]["subject"] == "created during the snapshot"
    assert rig.destination.rows("departments")[department]["name"] == "Renamed during the snapshot"
    # The snapshot had the old version of `early`; the event replaced it because it ranks above every snapshot row.
    versions = [r for r in first.records_of("tickets") if r["id"] == early]
    assert [r[CURSOR_FIELD] for r in versions] == [0, 1]
    assert versions[0]["subject"] != versions[1]["subject"]
    head = rig.buffer.head_position(sim.org_id)
    assert head == 6
    assert first.state["tickets"]["position"] == first.state["departments"]["position"] == head


def test_later_syncs_drain_the_buffer_without_listing(rig):
    sim = rig.sim
    first = rig.sync()
    rig.assert_exact()
    order = tickets_by_creation(sim)

    sim.update_ticket(order[0], subject="updated once")
    sim.update_ticket(order[0], status="On Hold")
    new = sim.create_ticket(subject="new")
    sim.update_ticket(new["id"], subject="new, then edited")
    sim.delete_ticket(order[1])
    short_lived = sim.create_ticket(subject="created and deleted between syncs")
    sim.delete_ticket(short_lived["id"])
    department = sim.create_department(name="Fresh department")
    sim.update_department(department["id"], isEnabled=False)
    rig.deliver()

    second = rig.sync()
    # Full payloads need no API call, but the custom field definitions, read once, type their `cf_*` columns.
    assert [(r.path, r.query) for r in second.requests] == [("/api/v1/fields", {"module": "tickets"})]
    drained = [r for r in second.records_of("tickets") if DELETED_AT_FIELD not in r]
    # (a value that does not read as its field's type is null, and a null column is left out of the message)
    typed = [r for r in drained if any(k.startswith("cf_") for k in r)]
    assert len(typed) == len([r for r in drained if r.get("cf")]) > 0
    assert second.warnings == []
    head = rig.buffer.head_position(sim.org_id)
    assert head == 9 and first.state["tickets"]["position"] == 0
    assert second.state["tickets"]["position"] == second.state["departments"]["position"] == head
    assert [r["id"] for r in second.records_of("tickets")] == [
        order[0],
        order[0],
        new["id"],
        new["id"],
        order[1],
        short_lived["id"],
        short_lived["id"],
    ]
    rig.assert_exact()
    rows = rig.destination.rows("tickets")
    assert rows[order[0]]["status"] == "On Hold" and order[1] not in rows and short_lived["id"] not in rows
    assert rig.destination.rows("departments")[department["id"]]["isEnabled"] is False

    third = rig.sync()
    assert third.records_of("tickets") == [] and third.records_of("departments") == []
    assert third.requests == [] and third.warnings == []
    assert third.state["tickets"]["position"] == head
    assert third.state["tickets"]["covered_until"] >= second.state["tickets"]["covered_until"]
    rig.assert_exact()


def test_duplicate_reordered_and_delayed_deliveries_are_harmless(rig):
    sim = rig.sim
    rig.sync()
    order = tickets_by_creation(sim)
    department = a_department(sim)

    # Every batch twice, three events a batch, department events sent before the ticket events queued earlier.
    sim.webhook_faults.duplicate, sim.webhook_faults.batch = 1.0, 3
    for i in range(4):
        sim.update_ticket(order[i], subject=f"first edit {i}")
    sim.update_ticket(order[0], subject="second edit 0")  # same module: Zoho keeps this after "first edit 0"
    sim.delete_ticket(order[1])
    sim.update_department(department, name="Renamed once")
    sim.update_department(department, name="Renamed twice")
    reorder_across_modules(sim)
    sent_before = len(sim.deliveries)
    rig.deliver()
    sent = sim.deliveries[sent_before:]
    assert [d.events[0]["eventType"] for d in sent][:2] == ["Department_Update", "Department_Update"]
    assert sum(d.duplicate for d in sent) == len(sent) // 2 and all(d.status == 200 for d in sent)
    assert rig.buffer.head_position(sim.org_id) == 8, "each distinct event stored once"
    # Zoho redelivering an old event later (its first answer lost) stores nothing.
    first_edit = next(e for d in sent for e in d.events if e["payload"].get("subject") == "first edit 0")
    assert rig.post([first_edit]).json() == {"stored": 0, "duplicates": 1}
    rig.sync()
    rig.assert_exact()
    assert rig.destination.rows("tickets")[order[0]]["subject"] == "second edit 0"

    # One event per ticket, sent in a shuffled order: any order is fine.
    sim.webhook_faults.duplicate, sim.webhook_faults.batch, sim.webhook_faults.reorder = 0.0, 1, True
    for i in range(4, 12):
        sim.update_ticket(order[i], status="Closed", subject=f"shuffled {i}")
    rig.deliver()
    sim.webhook_faults.reorder = False
    rig.sync()
    rig.assert_exact()

    # Delayed: Zoho sends this one only after the next sync, which cannot see it yet.
    sim.update_ticket(order[12], subject="delivered late")
    before_delivery = rig.sync()
    assert before_delivery.records_of("tickets") == []
    assert rig.destination.view("tickets")[order[12]] != store_view(sim, "tickets")[order[12]]
    sim.webhook_faults.delay = 0.3  # and the sender itself holds new events back a little
    sim.settings.auto_deliver = True
    sim.update_ticket(order[13], subject="held back by the sender")
    assert sim.wait_for_deliveries(timeout=60)
    after_delivery = rig.sync()
    assert {r["id"] for r in after_delivery.records_of("tickets")} == {order[12], order[13]}
    rig.assert_exact()


def test_acknowledged_events_survive_a_receiver_killed_between_syncs(rig):
    sim = rig.sim
    rig.sync()
    order = tickets_by_creation(sim)

    sim.update_ticket(order[0], subject="acknowledged before kill -9")
    sim.delete_ticket(order[1])
    department = sim.create_department(name="Acknowledged before kill -9")
    rig.deliver()
    acknowledged_head = rig.buffer.head_position(sim.org_id)
    rig.kill_receiver()
    sim.update_ticket(order[2], subject="changed while the receiver was down")  # Zoho retries after the restart
    rig.start_receiver()
    rig.deliver()

    second = rig.sync()
    assert second.list_calls == [] and second.warnings == [], "a restart within the grace is no gap"
    assert acknowledged_head == 3 and second.state["tickets"]["position"] == 4
    rig.assert_exact()
    rows = rig.destination.rows("tickets")
    assert rows[order[0]]["subject"] == "acknowledged before kill -9" and order[1] not in rows
    assert rows[order[2]]["subject"] == "changed while the receiver was down"
    assert department["id"] in rig.destination.rows("departments")


def test_a_clean_receiver_restart_is_a_gap_the_next_sync_heals(rig):
    """However short, a restart may have refused deliveries Zoho will not resend: a stop records its moment, and the
    next sync heals from the API (a crash is only noticed after the grace; see the test above)."""
    sim = rig.sim
    rig.sync()
    order = tickets_by_creation(sim)
    rig.stop_receiver()
    sim.update_ticket(order[0], subject="changed while the receiver restarted")
    lost = sim.deliver_pending()
    assert lost and all(status == 0 for _, status in lost), lost
    rig.start_receiver()

    healing = rig.sync()
    assert any("no webhook receiver was running between" in w for w in healing.warnings), healing.warnings
    assert "/api/v1/tickets/search" in healing.list_calls
    rig.assert_exact()
    assert rig.destination.rows("tickets")[order[0]]["subject"] == "changed while the receiver restarted"


def outage_longer_than_the_grace(rig, monkeypatch, while_down, synced=False):
    """Sync (unless `synced`), kill -9 the receiver, run `while_down` (its deliveries fail and Zoho gives up), wait
    until the buffer shows a coverage gap, restart the receiver."""
    monkeypatch.setattr(incremental_plan, "COVERAGE_GRACE", SHORT_GRACE)
    if not synced:
        rig.sync()
    covered_until = datetime.fromisoformat(
        rig.state[0].stream.stream_state.__dict__["covered_until"].replace("Z", "+00:00")
    )
    rig.kill_receiver()
    while_down()
    lost = rig.sim.deliver_pending()
    assert lost and all(status == 0 for _, status in lost), lost  # no answer: Zoho's retries end, events lost
    wait_for(
        lambda: rig.buffer.uncovered_intervals(covered_until, datetime.now(timezone.utc), SHORT_GRACE),
        "the outage to outlast the grace",
    )
    rig.start_receiver()


def test_an_outage_longer_than_the_grace_makes_the_next_sync_warn_and_resnapshot(rig, monkeypatch):
    sim = rig.sim
    order = tickets_by_creation(sim)
    department = a_department(sim)
    created = {}

    def while_down():
        sim.update_ticket(order[0], subject="changed while nobody listened")
        created.update(sim.create_ticket(subject="created while nobody listened"))
        sim.update_department(department, name="Renamed while nobody listened")

    outage_longer_than_the_grace(rig, monkeypatch, while_down)
    sim.update_ticket(order[1], subject="changed after the restart")
    rig.deliver()

    healing = rig.sync()
    assert any("no webhook receiver was running between" in w and "re-reading" in w for w in healing.warnings)
    assert "/api/v1/tickets/search" in healing.list_calls and "/api/v1/departments" in healing.list_calls
    rig.assert_exact()
    assert rig.destination.rows("tickets")[created["id"]]["subject"] == "created while nobody listened"

    healed = rig.sync()
    assert healed.list_calls == [] and healed.warnings == [], "back to draining once healed"
    rig.assert_exact()


def test_tickets_deleted_around_an_outage_are_deleted_by_the_healing_sync(rig, monkeypatch):
    """A snapshot lists only what exists: the heal must also apply the buffered deletes after the saved position and
    the deletes whose events were lost (from the recycle bin)."""
    sim = rig.sim
    order = tickets_by_creation(sim)

    def while_down():
        sim.delete_ticket(order[6])  # its Ticket_Delete never reaches the buffer

    monkeypatch.setattr(incremental_plan, "COVERAGE_GRACE", SHORT_GRACE)
    rig.sync()
    sim.delete_ticket(order[5])  # its Ticket_Delete is in the buffer before the outage
    rig.deliver()
    outage_longer_than_the_grace(rig, monkeypatch, while_down, synced=True)
    healing = rig.sync()
    assert "/api/v1/tickets/search" in healing.list_calls
    rows = rig.destination.rows("tickets")
    assert (order[5] in rows, order[6] in rows) == (False, False)
    rig.assert_exact()


def test_an_unreadable_event_time_does_not_stop_every_later_sync(rig):
    """The receiver takes any non-empty eventTime; a delete's eventTime it cannot read falls back to the receipt
    time instead of failing this sync and, as the position would never move past it, every later one."""
    sim = rig.sim
    rig.sync()
    ticket = tickets_by_creation(sim)[0]
    sim.delete_ticket(ticket)
    drop_queued_events(sim)
    odd = [
        {"eventType": "Ticket_Delete", "orgId": sim.org_id, "eventTime": "1795431854.517", "payload": {"id": ticket}}
    ]
    assert rig.post(odd).json() == {"stored": 1, "duplicates": 0}  # the receiver takes any non-empty string
    rig.sync()
    assert ticket not in rig.destination.rows("tickets")
    rig.assert_exact()


def test_a_healing_sync_keeps_the_newest_version_of_tickets_changed_before_and_during_an_outage(rig, monkeypatch):
    """Buffered versions after the saved position are older than the healing snapshot: they must neither beat its
    newer row nor bring back a ticket deleted while the receiver was down (regression test for 5ea1f98)."""
    sim = rig.sim
    order = tickets_by_creation(sim)
    monkeypatch.setattr(incremental_plan, "COVERAGE_GRACE", SHORT_GRACE)
    rig.sync()
    sim.update_ticket(order[3], subject="buffered, then changed again while down")
    sim.update_ticket(order[4], subject="buffered, then deleted while down")
    rig.deliver()  # positions 1 and 2; nothing arrives after the restart, so 2 is the head the heal notes

    def while_down():
        sim.update_ticket(order[3], subject="the newest; its event was lost")
        sim.delete_ticket(order[4])

    outage_longer_than_the_grace(rig, monkeypatch, while_down, synced=True)
    healing = rig.sync()
    assert "/api/v1/tickets/search" in healing.list_calls
    rows = rig.destination.rows("tickets")
    assert (rows.get(order[3], {}).get("subject"), order[4] in rows) == ("the newest; its event was lost", False)
    rig.assert_exact()


def test_partial_payloads_are_fetched_by_id(rig):
    sim = rig.sim
    sim.settings.prev_state_mode = "changed"
    sim.settings.event_time_format = "iso"
    sim.settings.delete_also_sends_update = True
    rig.sync()
    order = tickets_by_creation(sim)
    department = a_department(sim)

    def partial(event_type, **payload):
        return [{"eventType": event_type, "orgId": sim.org_id, "eventTime": now_ms(), "payload": payload}]

    # Zoho sends slim payloads for these changes: the records must come from the API.
    sim.update_ticket(order[0], subject="only the API has the whole record", status="Closed")
    sim.update_department(department, name="Renamed, slim event")
    drop_queued_events(sim)
    assert rig.post(partial("Ticket_Update", id=order[0], subject="only the API has the whole record")).ok
    assert rig.post(partial("Department_Update", id=department, name="Renamed, slim event")).ok
    # A slim event for a ticket deleted since: the fetch finds nothing; the delete events that follow remove it.
    assert rig.post(partial("Ticket_Update", id=order[1], status="Closed")).ok
    sim.delete_ticket(order[1])  # Ticket_Update with isDeleted, then Ticket_Delete {id}, ISO eventTime
    sim.update_ticket(order[2], status="Closed")  # a full payload with a changed-fields-only prevState
    rig.deliver()
    assert rig.post(partial("Ticket_Update", subject="an event without an id")).ok

    second = rig.sync()
    fetched = {r.path for r in second.requests} - {"/api/v1/fields"}  # custom field definitions, for typed columns
    assert fetched == {
        f"/api/v1/tickets/{order[0]}",
        f"/api/v1/tickets/{order[1]}",
        f"/api/v1/departments/{department}",
    }
    assert any("without an id" in w for w in second.warnings)
    deletes = [r for r in second.records_of("tickets") if DELETED_AT_FIELD in r]
    assert {r["id"] for r in deletes} == {order[1]}
    assert all(datetime.fromisoformat(r[DELETED_AT_FIELD].replace("Z", "+00:00")) for r in deletes)
    rig.assert_exact()
    assert rig.destination.rows("tickets")[order[0]]["status"] == "Closed"


def test_bad_deliveries_at_the_receiver_store_nothing(rig):
    sim = rig.sim
    rig.sync()
    ticket = tickets_by_creation(sim)[0]
    with sim.lock:
        forged = {**sim.store["tickets"][ticket], "subject": "forged", "modifiedTime": "2099-01-01T00:00:00.000Z"}
    event = {"eventType": "Ticket_Update", "orgId": sim.org_id, "eventTime": now_ms(), "payload": forged}
    nested = {"id": ticket}
    for _ in range(40):
        nested = {"child": nested}
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {
        "iss": f"orgId:{sim.org_id}",
        "aud": f"webhookId:{rig.webhook_id}",
        "iat": int(time.time()),
        "exp": int(time.time()) + 300,
    }
    cases = {
        "wrong token path": (rig.post([event], token="x" * 43), 404),
        "bad signature": (
            rig.post([event], jwt=jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": sim.signer.kid})),
            401,
        ),
        "JWT of another org": (rig.post([event], jwt=sim.signer.sign("999", rig.webhook_id, 300)), 401),
        "event of another org": (rig.post([event, {**event, "orgId": "999"}]), 403),
        "not JSON": (rig.post(b'[{"eventType": "Ticket_Update", '), 400),
        "oversize": (rig.post([{**event, "payload": {**forged, "description": "x" * 1_100_000}}]), 413),
        "deep nesting": (rig.post([{**event, "payload": {**forged, "cf": nested}}]), 400),
    }
    assert {case: response.status_code for case, (response, _) in cases.items()} == {
        case: status for case, (_, status) in cases.items()
    }
    assert rig.buffer.head_position(sim.org_id) == 0

    second = rig.sync()
    assert second.records_of("tickets") == [] and second.requests == []
    rig.assert_exact()

"""The event buffer's contract, run against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from zoho_desk_webhooks import StoredEvent, open_buffer
from zoho_desk_webhooks.events import InvalidEvent, encode_event, normalize_event

from .conftest import ORG, make_event

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def test_append_assigns_consecutive_positions_and_reads_them_back(buffer):
    assert buffer.head_position(ORG) == 0
    assert buffer.read(ORG, 0) == []
    assert buffer.append(ORG, [make_event(1), make_event(2, prev=True)]) == 2
    assert buffer.append(ORG, [make_event(3)]) == 1
    events = buffer.read(ORG, 0)
    assert [e.position for e in events] == [1, 2, 3]
    assert buffer.head_position(ORG) == 3
    second = events[1]
    assert isinstance(second, StoredEvent)
    assert (second.org_id, second.event_type, second.event_time) == (ORG, "Ticket_Update", "1700000000002")
    assert second.payload == make_event(2)["payload"]
    assert second.prev_state == {"status": "New"}
    assert events[0].prev_state is None
    assert second.received_at.tzinfo is not None
    with pytest.raises(AttributeError):
        second.position = 9  # frozen


def test_duplicates_are_ignored_and_use_no_position(buffer):
    assert buffer.append(ORG, [make_event(1), make_event(1), make_event(2)]) == 2
    assert buffer.append(ORG, [make_event(2), make_event(1)]) == 0
    assert buffer.append(ORG, [make_event(1), make_event(3)]) == 1
    assert [e.payload["id"] for e in buffer.read(ORG, 0)] == ["1", "2", "3"]
    assert buffer.head_position(ORG) == 3


def test_dedupe_key_ignores_key_order_but_not_content(buffer):
    event = make_event(1)
    reordered = {k: event[k] for k in reversed(list(event))}
    reordered["payload"] = dict(reversed(list(event["payload"].items())))
    assert buffer.append(ORG, [event]) == 1
    assert buffer.append(ORG, [reordered]) == 0
    assert buffer.append(ORG, [make_event(1, prev=True)]) == 1  # other content: a new event


def test_orgs_have_separate_positions(buffer):
    buffer.append(ORG, [make_event(1), make_event(2)])
    buffer.append("other", [make_event(1, org="other")])
    assert buffer.head_position(ORG) == 2
    assert buffer.head_position("other") == 1
    assert [e.org_id for e in buffer.read("other", 0)] == ["other"]


def test_a_batch_of_several_orgs_deliveries_commits_each_org_gapless_and_counts_each_delivery(buffer):
    def delivery(org, *ns):
        return (org, [encode_event(normalize_event(make_event(n, org=org))) for n in ns])

    buffer.append("B", [make_event(7, org="B")])
    counts = buffer.append_batch(
        [delivery("B", 1, 2), delivery(ORG, 1), delivery("B", 2, 3), delivery(ORG, 1, 4), delivery("B", 7)]
    )
    assert counts == [2, 1, 1, 1, 0], "an event already stored, or earlier in the batch, counts for nobody again"
    assert [(e.position, e.payload["id"]) for e in buffer.read("B", 0)] == [(1, "7"), (2, "1"), (3, "2"), (4, "3")]
    assert [(e.position, e.payload["id"]) for e in buffer.read(ORG, 0)] == [(1, "1"), (2, "4")]
    assert len({e.received_at for e in buffer.read("B", 1)}) == 1, "one transaction"
    assert buffer.append_batch([]) == [] and buffer.append_batch([(ORG, [])]) == [0]


def test_read_after_limit_and_event_types(buffer):
    buffer.append(
        ORG, [make_event(i, event_type="Ticket_Add" if i % 3 == 0 else "Ticket_Update") for i in range(1, 11)]
    )
    assert [e.position for e in buffer.read(ORG, 4, limit=3)] == [5, 6, 7]
    assert [e.position for e in buffer.read(ORG, 0, event_types=["Ticket_Add"])] == [3, 6, 9]
    assert [e.position for e in buffer.read(ORG, 3, event_types={"Ticket_Add", "Contact_Add"}, limit=1)] == [6]
    assert buffer.read(ORG, 0, event_types=[]) == []
    assert [e.position for e in buffer.read(ORG, 0, event_types="Ticket_Add")] == [3, 6, 9]
    assert buffer.read(ORG, 10) == []
    with pytest.raises(ValueError):
        buffer.read(ORG, 0, limit=0)


def test_append_refuses_malformed_or_foreign_events_and_stores_nothing(buffer):
    with pytest.raises(InvalidEvent):
        buffer.append(ORG, [make_event(1), {"eventType": "Ticket_Add", "orgId": ORG}])
    with pytest.raises(ValueError):
        buffer.append(ORG, [make_event(2), make_event(3, org="someone-else")])
    assert buffer.head_position(ORG) == 0
    assert buffer.append(ORG, []) == 0


def test_unicode_and_awkward_json_survive(buffer):
    event = make_event(1)
    event["payload"] = {"subject": "Grüße \u00e9 \U0001f600 \u0000 nul", "nested": [{"a": None}, 1.5, True]}
    buffer.append(ORG, [event])
    assert buffer.read(ORG, 0)[0].payload == event["payload"]


def test_prune_keeps_positions_and_reports_pruned_through(buffer):
    buffer.append(ORG, [make_event(i) for i in range(1, 6)])
    assert buffer.pruned_through(ORG) == 0
    assert buffer.prune(ORG, before_position=4) == 3
    assert [e.position for e in buffer.read(ORG, 0)] == [4, 5]
    assert buffer.pruned_through(ORG) == 3
    assert buffer.prune(ORG, before_position=2) == 0  # nothing left below 2
    assert buffer.pruned_through(ORG) == 3  # never goes down
    assert buffer.head_position(ORG) == 5
    assert buffer.append(ORG, [make_event(6)]) == 1
    assert buffer.head_position(ORG) == 6
    assert buffer.pruned_through("nobody") == 0


def test_org_heads_give_head_retention_and_newest_receive_time(buffer):
    assert buffer.org_heads() == []
    before = datetime.now(timezone.utc)
    buffer.append(ORG, [make_event(i) for i in range(1, 4)])
    buffer.append("other", [make_event(1, org="other")])
    after = datetime.now(timezone.utc)
    buffer.prune(ORG, before_position=3)
    heads = {head.org_id: head for head in buffer.org_heads()}
    assert (heads[ORG].head_position, heads[ORG].pruned_through) == (3, 2)
    assert before <= heads[ORG].last_received_at <= after
    assert heads[ORG].last_received_at == buffer.read(ORG, 2)[0].received_at
    assert (heads["other"].head_position, heads["other"].pruned_through) == (1, 0)
    buffer.prune(ORG, before_position=4)
    assert buffer.org_heads()[0].org_id == ORG and buffer.org_heads()[0].last_received_at is None


def test_prune_older_than_uses_receive_time(buffer):
    buffer.append(ORG, [make_event(1), make_event(2)])
    buffer.append("other", [make_event(1, org="other")])
    assert buffer.prune_older_than(timedelta(days=1)) == 0
    assert buffer.prune_older_than(timedelta(days=1), now=datetime.now(timezone.utc) + timedelta(days=2)) == 3
    assert buffer.read(ORG, 0) == [] and buffer.read("other", 0) == []
    assert (buffer.pruned_through(ORG), buffer.pruned_through("other")) == (2, 1)


def test_coverage_from_heartbeats(buffer):
    grace = timedelta(seconds=10)
    # receiver A up 12:00-12:10 (several heartbeats), receiver B up 12:30-12:40
    for minute in range(0, 11, 2):
        buffer.record_heartbeat("a", T0, T0 + timedelta(minutes=minute))
    buffer.record_heartbeat("b", T0 + timedelta(minutes=30), T0 + timedelta(minutes=30))
    buffer.record_heartbeat("b", T0 + timedelta(minutes=30), T0 + timedelta(minutes=40))
    buffer.record_heartbeat("b", T0 + timedelta(minutes=30), T0 + timedelta(minutes=35))  # late, older: ignored
    gaps = buffer.uncovered_intervals(T0 - timedelta(minutes=5), T0 + timedelta(hours=1), grace)
    assert gaps == [
        (T0 - timedelta(minutes=5), T0),
        (T0 + timedelta(minutes=10) + grace, T0 + timedelta(minutes=30)),
        (T0 + timedelta(minutes=40) + grace, T0 + timedelta(hours=1)),
    ]
    assert buffer.uncovered_intervals(T0 + timedelta(minutes=1), T0 + timedelta(minutes=9), grace) == []


def test_a_clean_stop_ends_coverage_without_grace(buffer):
    grace = timedelta(seconds=30)
    buffer.record_heartbeat("crashed", T0, T0 + timedelta(minutes=5))
    buffer.record_heartbeat("stopped", T0 + timedelta(minutes=10), T0 + timedelta(minutes=12))
    buffer.record_heartbeat("stopped", T0 + timedelta(minutes=10), T0 + timedelta(minutes=15), stopped=True)
    buffer.record_heartbeat("stopped", T0 + timedelta(minutes=10), T0 + timedelta(minutes=14))  # late, older
    gaps = buffer.uncovered_intervals(T0, T0 + timedelta(minutes=20), grace)
    assert gaps == [
        (T0 + timedelta(minutes=5) + grace, T0 + timedelta(minutes=10)),  # a crash: maybe up until a grace later
        (T0 + timedelta(minutes=15), T0 + timedelta(minutes=20)),  # a clean stop: down from that moment
    ]


def test_refusals_are_found_by_org_and_time_and_pruned_with_age(buffer):
    buffer.record_refusal(ORG, "jwks_unavailable", T0 + timedelta(minutes=5))
    buffer.record_refusal(ORG, "buffer_unavailable", T0 + timedelta(minutes=9))
    buffer.record_refusal("other", "jwks_unavailable", T0)
    assert buffer.first_refusal(ORG, T0, T0 + timedelta(hours=1)) == (T0 + timedelta(minutes=5), "jwks_unavailable")
    assert buffer.first_refusal(ORG, T0 + timedelta(minutes=6), T0 + timedelta(hours=1))[1] == "buffer_unavailable"
    assert buffer.first_refusal(ORG, T0 + timedelta(minutes=10), T0 + timedelta(hours=1)) is None
    buffer.prune_older_than(timedelta(minutes=1), now=T0 + timedelta(minutes=8))
    assert buffer.first_refusal(ORG, T0, T0 + timedelta(hours=1))[1] == "buffer_unavailable"


def test_the_buffer_clock_is_utc_and_current(buffer):
    before = datetime.now(timezone.utc)
    now = buffer.clock()
    assert now.utcoffset() == timedelta(0) and before - timedelta(seconds=5) <= now <= datetime.now(
        timezone.utc
    ) + timedelta(seconds=5)


def test_restarted_receiver_keeps_its_earlier_run(buffer):
    buffer.record_heartbeat("same-id", T0, T0 + timedelta(minutes=5))
    buffer.record_heartbeat("same-id", T0 + timedelta(minutes=20), T0 + timedelta(minutes=25))
    gaps = buffer.uncovered_intervals(T0, T0 + timedelta(minutes=25), timedelta(0))
    assert gaps == [(T0 + timedelta(minutes=5), T0 + timedelta(minutes=20))]


def test_coverage_wants_aware_datetimes(buffer):
    with pytest.raises(ValueError):
        buffer.record_heartbeat("a", datetime(2024, 1, 1), datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        buffer.uncovered_intervals(T0 + timedelta(1), T0, timedelta(0))


def test_endpoints_store_only_a_token_hash(buffer, buffer_url):
    endpoint_id, token = buffer.create_endpoint(ORG, "https://desk.zoho.eu/.well-known/jwks.json")
    assert len(token) >= 40
    found = buffer.find_endpoint(token)
    assert (found.endpoint_id, found.org_id, found.webhook_id) == (endpoint_id, ORG, None)
    assert buffer.find_endpoint(token + "x") is None
    assert buffer.find_endpoint("") is None
    assert buffer.set_webhook_id(endpoint_id, "77") is True
    assert buffer.find_endpoint(token).webhook_id == "77"
    assert buffer.set_webhook_id("missing", "77") is False
    second_id, second_token = buffer.create_endpoint("org2", "https://x/jwks", webhook_id="5")
    assert second_token != token
    assert [e.endpoint_id for e in buffer.list_endpoints()] == [endpoint_id, second_id]
    stored_hashes = _endpoint_token_column(buffer)
    assert hashlib.sha256(token.encode()).hexdigest() in stored_hashes
    assert token not in stored_hashes
    assert buffer.delete_endpoint(endpoint_id) is True
    assert buffer.delete_endpoint(endpoint_id) is False
    assert buffer.find_endpoint(token) is None


def test_reopening_keeps_everything(buffer, buffer_url):
    buffer.append(ORG, [make_event(1)])
    _, token = buffer.create_endpoint(ORG, "https://x/jwks")
    buffer.close()
    with open_buffer(buffer_url) as reopened:  # schema creation is idempotent
        assert reopened.head_position(ORG) == 1
        assert reopened.append(ORG, [make_event(1)]) == 0
        assert reopened.find_endpoint(token) is not None
        reopened.ping()


def _endpoint_token_column(buffer) -> list[str]:
    return [row[0] for row in buffer._query_all("SELECT token_sha256 FROM webhook_endpoints")]

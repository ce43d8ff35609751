"""The receiver app through Starlette's TestClient, with real JWT verification and a real buffer."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time

import pytest
from starlette.testclient import TestClient

from zoho_desk_webhooks import open_buffer
from zoho_desk_webhooks.errors import BufferUnavailable
from zoho_desk_webhooks.postgres_buffer import PostgresEventBuffer
from zoho_desk_webhooks.receiver import create_app

from .conftest import ORG, WEBHOOK, fresh_database, make_event
from .pg_server import find_pg_bin, start_postgres

LIMIT = 4000
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
FAR_FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def sqlite_buffer(tmp_path):
    with open_buffer(f"sqlite:///{tmp_path}/receiver.db") as opened:
        yield opened


@pytest.fixture(autouse=True)
def running_clients():
    """Clients `start` entered (so that the app's lifespan, which runs the commits, is up); left at the test's end."""
    with contextlib.ExitStack() as stack:
        RUNNING.append(stack)
        yield
        RUNNING.remove(stack)


RUNNING: list[contextlib.ExitStack] = []


def start(buffer, jwks, *, webhook_id=WEBHOOK, **options):
    endpoint_id, token = buffer.create_endpoint(ORG, jwks.url, webhook_id)
    app = create_app(buffer, max_body_bytes=LIMIT, heartbeat_seconds=None, **options)
    return RUNNING[-1].enter_context(TestClient(app)), f"/webhooks/{token}", token


def post(client, path, body, jwt_token, **kwargs):
    headers = {"Content-Type": "application/json"}
    if jwt_token is not None:
        headers["X-ZDesk-JWT"] = jwt_token
    content = body if isinstance(body, (bytes, str)) or callable(getattr(body, "__next__", None)) else json.dumps(body)
    return client.post(path, content=content, headers=headers, **kwargs)


def counter(client, name, reason=None):
    receiver = client.app.state.receiver
    return receiver.metrics.value(name, reason)


def test_valid_delivery_is_stored_then_acknowledged(buffer, jwks, signer):
    client, path, _ = start(buffer, jwks)
    response = post(client, path, [make_event(1), make_event(2, prev=True)], signer.token())
    assert response.status_code == 200
    assert response.json() == {"stored": 2, "duplicates": 0}
    stored = buffer.read(ORG, 0)
    assert [e.payload["id"] for e in stored] == ["1", "2"]
    assert stored[1].prev_state == {"status": "New"}
    assert counter(client, "events_stored_total") == 2


def test_single_object_and_duplicates(sqlite_buffer, jwks, signer):
    client, path, _ = start(sqlite_buffer, jwks)
    assert post(client, path, make_event(1), signer.token()).json() == {"stored": 1, "duplicates": 0}
    again = post(client, path, [make_event(1)], signer.token())
    assert again.status_code == 200 and again.json() == {"stored": 0, "duplicates": 1}
    assert sqlite_buffer.head_position(ORG) == 1
    assert (
        counter(client, "events_received_total"),
        counter(client, "events_stored_total"),
        counter(client, "events_duplicate_total"),
    ) == (2, 1, 1)


def test_validation_get(sqlite_buffer, jwks):
    client, path, _ = start(sqlite_buffer, jwks)
    assert client.get(path).status_code == 200
    assert client.get("/webhooks/not-a-known-token").status_code == 404


def test_any_audience_of_the_org_until_the_webhook_id_is_known(sqlite_buffer, jwks, signer):
    client, path, _ = start(sqlite_buffer, jwks, webhook_id=None)
    assert post(client, path, [make_event(1)], signer.token(webhook="123")).status_code == 200


def deep_event(depth):
    event = make_event(1)
    node = event["payload"]
    for _ in range(depth):
        node["child"] = {}
        node = node["child"]
    return [event]


class Chunks:
    """A body without Content-Length, sent in chunks."""

    def __init__(self, size):
        self._left = size

    def __iter__(self):
        return self

    def __next__(self):
        if self._left <= 0:
            raise StopIteration
        self._left -= 1000
        return b" " * 1000


REJECTIONS = [
    # (case, status, reason, make the request)
    (
        "unknown token",
        404,
        "unknown_token",
        lambda c, p, s: post(c, "/webhooks/wrong-token", [make_event(1)], s.token()),
    ),
    ("missing JWT", 401, "missing_jwt", lambda c, p, s: post(c, p, [make_event(1)], None)),
    ("garbage JWT", 401, "malformed_jwt", lambda c, p, s: post(c, p, [make_event(1)], "abc")),
    ("expired JWT", 401, "expired_jwt", lambda c, p, s: post(c, p, [make_event(1)], s.token(expires_in=-300))),
    ("JWT of another org", 401, "wrong_issuer", lambda c, p, s: post(c, p, [make_event(1)], s.token(org="9"))),
    (
        "JWT of another webhook",
        401,
        "wrong_audience",
        lambda c, p, s: post(c, p, [make_event(1)], s.token(webhook="9")),
    ),
    (
        "event of another org",
        403,
        "wrong_org",
        lambda c, p, s: post(c, p, [make_event(1), make_event(2, org="9")], s.token()),
    ),
    ("not JSON", 400, "invalid_json", lambda c, p, s: post(c, p, b"{not json", s.token())),
    ("not UTF-8", 400, "invalid_json", lambda c, p, s: post(c, p, b'["\xff\xfe"]', s.token())),
    ("NaN", 400, "invalid_json", lambda c, p, s: post(c, p, b'[{"x": NaN}]', s.token())),
    (
        "overflowing number",
        400,
        "invalid_json",
        lambda c, p, s: post(c, p, json.dumps([make_event(1)]).replace('"Open"', "1e999"), s.token()),
    ),
    ("too large", 413, "too_large", lambda c, p, s: post(c, p, [make_event(i) for i in range(40)], s.token())),
    ("too large, no Content-Length", 413, "too_large", lambda c, p, s: post(c, p, Chunks(LIMIT + 1000), s.token())),
    ("nested too deep", 400, "too_deep", lambda c, p, s: post(c, p, deep_event(31), s.token())),
    ("nested beyond the parser", 400, "too_deep", lambda c, p, s: post(c, p, b"[" * 1900 + b"]" * 1900, s.token())),
    ("empty array", 400, "bad_shape", lambda c, p, s: post(c, p, [], s.token())),
    ("array of numbers", 400, "bad_shape", lambda c, p, s: post(c, p, [1, 2], s.token())),
    (
        "no payload",
        400,
        "bad_shape",
        lambda c, p, s: post(c, p, [make_event(1), {"eventType": "X", "orgId": ORG, "eventTime": "1"}], s.token()),
    ),
]


@pytest.mark.parametrize("case, status, reason, send", REJECTIONS, ids=[r[0] for r in REJECTIONS])
def test_rejections_store_nothing_and_are_counted(sqlite_buffer, jwks, signer, caplog, case, status, reason, send):
    client, path, token = start(sqlite_buffer, jwks)
    caplog.set_level(logging.DEBUG)
    jwt_sent = signer.token()
    response = send(client, path, signer)
    assert response.status_code == status, response.text
    assert response.json() == {"error": reason}
    assert sqlite_buffer.head_position(ORG) == 0
    assert sqlite_buffer.first_refusal(ORG, EPOCH, FAR_FUTURE) is None, "a bad request is not a lost delivery"
    assert counter(client, "requests_rejected_total", reason) == 1
    assert counter(client, "events_stored_total") == 0
    refusals = [r for r in caplog.records if r.getMessage().startswith("refused")]
    assert len(refusals) == 1 and f"reason={reason}" in refusals[0].getMessage()
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]  # not the client's
    logged = "\n".join(r.getMessage() for r in server_side)
    assert token not in logged and jwt_sent.split(".")[2] not in logged


def test_depth_limit_is_configurable_and_inclusive(sqlite_buffer, jwks, signer):
    client, path, _ = start(sqlite_buffer, jwks, max_depth=32)
    assert post(client, path, deep_event(29), signer.token()).status_code == 200  # depth 32: array+event+payload+29


def test_jwks_outage_is_our_fault_503(sqlite_buffer, jwks, signer):
    jwks.fail = True
    client, path, _ = start(sqlite_buffer, jwks)
    response = post(client, path, [make_event(1)], signer.token())
    assert response.status_code == 503
    assert counter(client, "requests_rejected_total", "jwks_unavailable") == 1
    refused_at, reason = sqlite_buffer.first_refusal(ORG, EPOCH, FAR_FUTURE)
    assert reason == "jwks_unavailable", "Zoho may not resend it: the next sync must heal"


def test_a_refusal_the_buffer_cannot_take_yet_is_recorded_at_the_next_heartbeat(
    sqlite_buffer, jwks, signer, monkeypatch
):
    jwks.fail = True
    client, path, _ = start(sqlite_buffer, jwks)
    record_refusal = sqlite_buffer.record_refusal
    monkeypatch.setattr(sqlite_buffer, "record_refusal", lambda *args: (_ for _ in ()).throw(BufferUnavailable("down")))
    assert post(client, path, [make_event(1)], signer.token()).status_code == 503
    assert sqlite_buffer.first_refusal(ORG, EPOCH, FAR_FUTURE) is None
    monkeypatch.setattr(sqlite_buffer, "record_refusal", record_refusal)  # the database is back
    receiver = client.app.state.receiver
    receiver.started_at = dt.datetime.now(dt.timezone.utc)
    asyncio.run(receiver._beat())
    assert sqlite_buffer.first_refusal(ORG, EPOCH, FAR_FUTURE)[1] == "jwks_unavailable"


@pytest.fixture
def private_postgres():
    """A PostgreSQL server of this test's own, which it may stop and start again."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found on this machine")
    server = start_postgres(bin_dir)
    yield server
    server.stop()


def test_a_delivery_refused_while_the_database_is_down_is_recorded_once_it_is_back(private_postgres, jwks, signer):
    """The endpoint lookup is the database call that fails: the refusal is kept by the path token's hash and
    resolved to the endpoint's org at the first heartbeat after the database is back."""
    url = fresh_database(private_postgres)
    buffer = PostgresEventBuffer(url, acquire_timeout=2)
    _, token = buffer.create_endpoint(ORG, jwks.url, WEBHOOK)
    try:
        with TestClient(create_app(buffer, max_body_bytes=LIMIT, heartbeat_seconds=0.2)) as client:
            assert post(client, f"/webhooks/{token}", [make_event(1)], signer.token()).status_code == 200
            private_postgres.halt()
            sent = dt.datetime.now(dt.timezone.utc)
            assert post(client, f"/webhooks/{token}", [make_event(2)], signer.token()).status_code == 503
            assert post(client, "/webhooks/no-endpoint-has-this", [make_event(3)], signer.token()).status_code == 503
            answered = dt.datetime.now(dt.timezone.utc)
            private_postgres.resume()
            with open_buffer(url) as reader:
                wait_until(lambda: reader.first_refusal(ORG, EPOCH, FAR_FUTURE) is not None, timeout=60)
                refused_at, reason = reader.first_refusal(ORG, EPOCH, FAR_FUTURE)
                recorded = reader._query_all("SELECT org_id, reason FROM webhook_refusals")
    finally:
        buffer.close()
    assert reason == "buffer_unavailable"
    assert sent - dt.timedelta(seconds=1) <= refused_at <= answered + dt.timedelta(seconds=1)
    assert recorded == [(ORG, "buffer_unavailable")], "a token of no endpoint is dropped like a 404"


def test_past_the_cap_unknown_tokens_refused_while_the_database_is_down_count_for_every_endpoint(
    sqlite_buffer, jwks, signer, monkeypatch
):
    """Anyone can send unknown tokens, so past a cap they are not kept apart: a heal too many, never a loss."""
    from zoho_desk_webhooks import refusals

    monkeypatch.setattr(refusals, "MAX_UNRESOLVED", 1)
    client, _, _ = start(sqlite_buffer, jwks)
    sqlite_buffer.create_endpoint("second-org", jwks.url, WEBHOOK)
    find_endpoint = sqlite_buffer.find_endpoint
    monkeypatch.setattr(sqlite_buffer, "find_endpoint", failing("database is locked"))
    for token in ("unknown-1", "unknown-2", "unknown-3"):
        assert post(client, f"/webhooks/{token}", [make_event(1)], signer.token()).status_code == 503
    monkeypatch.setattr(sqlite_buffer, "find_endpoint", find_endpoint)
    receiver = client.app.state.receiver
    receiver.started_at = dt.datetime.now(dt.timezone.utc)
    asyncio.run(receiver._beat())
    recorded = sqlite_buffer._query_all("SELECT org_id, reason FROM webhook_refusals ORDER BY org_id, refused_at")
    assert recorded == [(ORG, "buffer_unavailable")] * 2 + [("second-org", "buffer_unavailable")] * 2


def test_heartbeats_and_refusals_are_stamped_with_the_buffers_clock(sqlite_buffer, jwks, signer, monkeypatch):
    """The receiver's host clock may disagree with the syncs' host; both read the buffer's clock instead."""
    ahead = dt.timedelta(minutes=10)
    monkeypatch.setattr(sqlite_buffer, "clock", lambda: dt.datetime.now(dt.timezone.utc) + ahead)
    jwks.fail = True
    endpoint_id, token = sqlite_buffer.create_endpoint(ORG, jwks.url, WEBHOOK)
    local_start = dt.datetime.now(dt.timezone.utc)
    with TestClient(create_app(sqlite_buffer, max_body_bytes=LIMIT, heartbeat_seconds=60)) as client:
        assert post(client, f"/webhooks/{token}", [make_event(1)], signer.token()).status_code == 503
    local_end = dt.datetime.now(dt.timezone.utc)
    refused_at, _ = sqlite_buffer.first_refusal(ORG, EPOCH, FAR_FUTURE)
    assert local_start + ahead <= refused_at <= local_end + ahead
    (before_start, after_stop) = sqlite_buffer.uncovered_intervals(local_start, local_end + ahead * 2, dt.timedelta(0))
    assert local_start + ahead <= before_start[1] <= local_end + ahead, "the run started in the buffer's time"


def test_unreachable_buffer_503_and_unhealthy(tmp_path, jwks, signer):
    buffer = open_buffer(f"sqlite:///{tmp_path}/gone.db")
    client, path, _ = start(buffer, jwks)
    assert ops(client).get("/healthz").json()["buffer_reachable"] is True
    buffer.close()
    assert post(client, path, [make_event(1)], signer.token()).status_code == 503
    health = ops(client).get("/healthz")
    assert health.status_code == 503 and health.json()["buffer_reachable"] is False


def ops(client):
    """A client of the receiver's ops app (/healthz, /metrics), which `serve` puts on a port of its own."""
    return TestClient(client.app.state.ops)


def scrape(client):
    """/metrics, parsed by prometheus_client: {(sample name, labels as a sorted tuple): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    response = ops(client).get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def read_only_sqlite(monkeypatch):
    """Open every SQLite file read-only, as SQLite opens a file without write permission (root ignores 0444)."""
    import sqlite3

    connect = sqlite3.connect
    monkeypatch.setattr(
        sqlite3, "connect", lambda path, **options: connect(f"file:{path}?mode=ro", uri=True, **options)
    )


def test_health_is_unavailable_while_the_buffer_can_be_read_but_not_written(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/read-only.db"
    open_buffer(url).close()
    read_only_sqlite(monkeypatch)
    with open_buffer(url) as buffer, TestClient(create_app(buffer, heartbeat_seconds=60)) as client:
        buffer.ping()  # reads work
        health = ops(client).get("/healthz")
    assert health.status_code == 503, health.json()
    assert health.json()["buffer_reachable"] is True and health.json()["buffer_writable"] is False
    assert health.json()["status"] == "unavailable"


def test_health_follows_the_heartbeat_writes(sqlite_buffer, monkeypatch):
    with TestClient(create_app(sqlite_buffer, heartbeat_seconds=0.1)) as client:
        assert ops(client).get("/healthz").json()["buffer_writable"] is True
        record_heartbeat = sqlite_buffer.record_heartbeat
        monkeypatch.setattr(sqlite_buffer, "record_heartbeat", failing("database or disk is full"))
        wait_until(lambda: ops(client).get("/healthz").status_code == 503)
        assert ops(client).get("/healthz").json()["buffer_reachable"] is True
        monkeypatch.setattr(sqlite_buffer, "record_heartbeat", record_heartbeat)
        wait_until(lambda: ops(client).get("/healthz").status_code == 200)
        assert ops(client).get("/healthz").json() | {"receiver_id": "-", "started_at": "-", "last_heartbeat": "-"} == {
            "status": "ok",
            "buffer_reachable": True,
            "buffer_writable": True,
            "receiver_id": "-",
            "started_at": "-",
            "last_heartbeat": "-",
        }


def test_without_a_heartbeat_health_is_reachability_only(sqlite_buffer):
    health = ops(TestClient(create_app(sqlite_buffer, heartbeat_seconds=None))).get("/healthz")
    assert health.status_code == 200 and health.json()["buffer_writable"] is None


def test_metrics_are_prometheus_text(sqlite_buffer, jwks, signer):
    client, path, _ = start(sqlite_buffer, jwks)
    post(client, path, [make_event(1)], signer.token())
    post(client, path, [make_event(1)], None)
    lines = ops(client).get("/metrics").text.splitlines()
    assert "# TYPE zoho_desk_webhook_events_stored_total counter" in lines
    samples = scrape(client)
    assert samples[("zoho_desk_webhook_requests_received_total", ())] == 2
    assert samples[("zoho_desk_webhook_events_stored_total", ())] == 1
    assert samples[("zoho_desk_webhook_requests_rejected_total", (("reason", "missing_jwt"),))] == 1
    assert samples[("zoho_desk_webhook_requests_rejected_total", (("reason", "too_large"),))] == 0


def test_each_receiver_has_its_own_metrics(sqlite_buffer, jwks, signer):
    first, path, _ = start(sqlite_buffer, jwks)
    second = TestClient(create_app(sqlite_buffer, heartbeat_seconds=None))
    post(first, path, [make_event(1)], signer.token())
    assert scrape(first)[("zoho_desk_webhook_requests_received_total", ())] == 1
    assert scrape(second)[("zoho_desk_webhook_requests_received_total", ())] == 0


def test_buffer_gauges_show_each_orgs_head_held_events_and_newest_receive_time(buffer, jwks, signer):
    client, path, _ = start(buffer, jwks)
    before = dt.datetime.now(dt.timezone.utc).timestamp()
    assert post(client, path, [make_event(1), make_event(2)], signer.token()).json() == {"stored": 2, "duplicates": 0}
    assert post(client, path, [make_event(2), make_event(3)], signer.token()).json() == {"stored": 1, "duplicates": 1}
    after = dt.datetime.now(dt.timezone.utc).timestamp()
    buffer.append("other-org", [make_event(1, org="other-org")])
    org = (("org_id", ORG),)
    samples = scrape(client)
    assert samples[("zoho_desk_webhook_buffer_head_position", org)] == 3
    assert samples[("zoho_desk_webhook_buffer_events", org)] == 3
    assert before - 1 <= samples[("zoho_desk_webhook_buffer_last_event_received_timestamp_seconds", org)] <= after + 1
    assert samples[("zoho_desk_webhook_buffer_head_position", (("org_id", "other-org"),))] == 1
    buffer.prune(ORG, before_position=3)  # retention: positions 1 and 2 go
    samples = scrape(client)
    assert (
        samples[("zoho_desk_webhook_buffer_head_position", org)],
        samples[("zoho_desk_webhook_buffer_events", org)],
    ) == (3, 1)
    buffer.prune(ORG, before_position=4)
    assert ("zoho_desk_webhook_buffer_last_event_received_timestamp_seconds", org) not in scrape(client)


def test_metrics_answer_without_the_buffer_gauges_while_the_buffer_is_down(tmp_path, jwks, signer):
    buffer = open_buffer(f"sqlite:///{tmp_path}/gone.db")
    client, path, _ = start(buffer, jwks)
    post(client, path, [make_event(1)], signer.token())
    buffer.close()
    samples = scrape(client)
    assert samples[("zoho_desk_webhook_events_stored_total", ())] == 1
    assert not [name for name, _ in samples if name.startswith("zoho_desk_webhook_buffer_")]


def test_heartbeat_age_counts_from_the_last_heartbeat_that_was_written(sqlite_buffer, jwks, monkeypatch):
    age = ("zoho_desk_webhook_heartbeat_age_seconds", ())
    entered = time.monotonic()
    with TestClient(
        create_app(sqlite_buffer, heartbeat_seconds=60)
    ) as client:  # the first heartbeat is written on start
        written = time.monotonic()
        assert 0 <= scrape(client)[age] <= time.monotonic() - entered
        receiver = client.app.state.receiver
        monkeypatch.setattr(sqlite_buffer, "record_heartbeat", failing("database or disk is full"))
        asyncio.run(receiver._beat())  # a heartbeat that is not written does not reset the age
        wait_until(lambda: time.monotonic() - written > 1.0)
        assert scrape(client)[age] > 1.0
        monkeypatch.undo()
        rewritten = time.monotonic()
        asyncio.run(receiver._beat())
        assert scrape(client)[age] <= time.monotonic() - rewritten


def test_heartbeat_age_counts_from_the_start_while_no_heartbeat_was_written(sqlite_buffer):
    created = time.monotonic()
    client = TestClient(create_app(sqlite_buffer, heartbeat_seconds=None))
    wait_until(lambda: time.monotonic() - created > 0.5)
    assert scrape(client)[("zoho_desk_webhook_heartbeat_age_seconds", ())] > 0.5


def failing(message):
    def fail(*args, **kwargs):
        raise BufferUnavailable(message)

    return fail


def wait_until(condition, timeout=30.0):
    """Poll `condition` until it holds; fail after a generous deadline (the CI machine is a loaded 2-core box)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_a_deleted_endpoint_stops_working_once_its_cached_lookup_expires(sqlite_buffer, jwks, signer, monkeypatch):
    """A running receiver reuses an endpoint lookup for ENDPOINT_CACHE_SECONDS (deliveries skip a database read)."""
    import types

    from zoho_desk_webhooks import receiver as receiver_module

    offset = [0.0]
    real_monotonic = time.monotonic
    monkeypatch.setattr(receiver_module, "time", types.SimpleNamespace(monotonic=lambda: real_monotonic() + offset[0]))
    client, path, token = start(sqlite_buffer, jwks)
    assert post(client, path, [make_event(1)], signer.token()).status_code == 200
    (endpoint,) = sqlite_buffer.list_endpoints()
    assert sqlite_buffer.delete_endpoint(endpoint.endpoint_id)
    assert post(client, path, [make_event(2)], signer.token()).status_code == 200, "within the cache's lifetime"
    offset[0] = receiver_module.ENDPOINT_CACHE_SECONDS
    assert post(client, path, [make_event(3)], signer.token()).status_code == 404

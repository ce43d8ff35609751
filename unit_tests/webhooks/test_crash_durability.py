"""Durability of acknowledged deliveries: kill -9 of the served receiver mid-stream, and database outages.

1. N deliveries (ZOHO_CRASH_DELIVERIES, 2,000 by default; 10,000 for the long run) are sent by 8 concurrent senders
   that retry, as Zoho would, until they get a 200. The `serve` subprocess is killed with SIGKILL once a third are
   acknowledged: every delivery acknowledged before the kill must already be in the buffer (read while the receiver
   is dead), and after a restart on the same port the buffer holds every event exactly once, at gap-free positions.
   The receiver commits concurrent deliveries together (group commit), so the kill lands while a batch is being
   committed or answered; the test checks that batches of several deliveries were indeed committed (their events
   share a transaction's receive time), so it covers a crash mid-batch. On SQLite and PostgreSQL.
2. PostgreSQL becomes unusable between two deliveries (it refuses connections, or it fails over to a read-only
   server); the delivery made meanwhile is refused with a server error; once the database is back the next sync must
   heal (re-read the stream) so that the refused change reaches the destination.

Long run: `ZOHO_CRASH_DELIVERIES=10000 .venv/bin/python -m pytest -p no:cacheprovider -q
unit_tests/webhooks/test_crash_durability.py`.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, List

import psycopg
import pytest
import requests

from integration_tests.simulator import ZohoDeskSimulator
from integration_tests.webhook_harness import WebhookRig
from zoho_desk_webhooks import open_buffer

from .conftest import ORG, WEBHOOK, make_event
from .served import ServedReceiver

DELIVERIES = int(os.environ.get("ZOHO_CRASH_DELIVERIES", "2000"))
SENDERS = 8
DEADLINE = 300.0  # seconds; only reached when something is broken


def wait_for(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def delivery(index: int) -> List[dict]:
    """Delivery `index` carries 1 to 3 events with ids unique to it."""
    return [make_event(index * 4 + part) for part in range(1 + index % 3)]


class Senders:
    """Threads that deliver every index from a queue, retrying each until it is acknowledged with a 200."""

    def __init__(self, url: str, signer, count: int) -> None:
        self.url, self.signer = url, signer
        self.acknowledged: Dict[int, int] = {}  # delivery index -> events the receiver said were new
        self.lock = threading.Lock()
        self.receiver_up = threading.Event()
        self.receiver_up.set()
        self.failures = 0
        self._todo: "queue.Queue[int]" = queue.Queue()
        for index in range(count):
            self._todo.put(index)
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(SENDERS)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join(DEADLINE)
            assert not thread.is_alive(), "a sender did not finish"

    def acknowledged_now(self) -> Dict[int, int]:
        with self.lock:
            return dict(self.acknowledged)

    def _run(self) -> None:
        session = requests.Session()
        token, signed_at = self.signer.token(), time.monotonic()
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            try:
                index = self._todo.get_nowait()
            except queue.Empty:
                return
            while time.monotonic() < deadline:
                if time.monotonic() - signed_at > 120:
                    token, signed_at = self.signer.token(), time.monotonic()
                try:
                    response = session.post(self.url, json=delivery(index), headers={"X-ZDesk-JWT": token}, timeout=30)
                except requests.RequestException:
                    response = None  # killed mid-request: not acknowledged, Zoho tries again
                if response is not None and response.status_code == 200:
                    with self.lock:
                        self.acknowledged[index] = response.json()["stored"]
                    break
                with self.lock:
                    self.failures += 1
                session.close()
                session = requests.Session()
                self.receiver_up.wait(DEADLINE)
                time.sleep(0.01)  # pacing of the retry loop, not a wait for anything


def stored_events(url: str) -> list:
    with open_buffer(url) as buffer:
        events = buffer.read(ORG, 0, limit=10_000_000)
    positions = [event.position for event in events]
    assert positions == list(range(1, len(events) + 1)), "positions have gaps or repeats"
    return events


def stored_ids(url: str) -> List[str]:
    return [event.payload["id"] for event in stored_events(url)]


def largest_batch(events) -> int:
    """The most deliveries whose events one transaction committed: a transaction stamps all its events of an org
    with one receive time, and event ids tell the delivery (`delivery(index)` ids are index * 4 + part)."""
    deliveries_by_time: Dict[object, set] = {}
    for event in events:
        deliveries_by_time.setdefault(event.received_at, set()).add(int(event.payload["id"]) // 4)
    return max(len(indexes) for indexes in deliveries_by_time.values())


def test_every_acknowledged_delivery_survives_kill_9_mid_stream(buffer_url, jwks, signer):
    with open_buffer(buffer_url) as setup:
        _, token = setup.create_endpoint(ORG, jwks.url, WEBHOOK)
    port = free_port()
    receiver = ServedReceiver(buffer_url, port=port)
    senders = Senders(f"http://127.0.0.1:{port}/webhooks/{token}", signer, DELIVERIES)
    try:
        senders.start()
        wait_for(lambda: len(senders.acknowledged_now()) >= DELIVERIES // 3, "a third of the deliveries")
        senders.receiver_up.clear()
        receiver.kill()  # SIGKILL while the senders keep posting
        acknowledged_before_kill = senders.acknowledged_now()

        after_kill = set(stored_ids(buffer_url))  # read while no receiver runs
        lost = [
            i for i in acknowledged_before_kill for event in delivery(i) if event["payload"]["id"] not in after_kill
        ]
        assert not lost, f"{len(lost)} acknowledged deliveries are not in the buffer after kill -9: {lost[:10]}"

        receiver = ServedReceiver(buffer_url, port=port)
        senders.receiver_up.set()
        senders.join()
    finally:
        senders.receiver_up.set()
        receiver.kill()

    acknowledged = senders.acknowledged_now()
    assert sorted(acknowledged) == list(range(DELIVERIES)), "every delivery was eventually acknowledged"
    events = stored_events(buffer_url)
    assert largest_batch(events) > 1, "concurrent deliveries were committed together, so the kill hit a batch"
    ids = [event.payload["id"] for event in events]
    expected = [event["payload"]["id"] for i in range(DELIVERIES) for event in delivery(i)]
    assert len(ids) == len(set(ids)), "an event was stored twice (a retried delivery must be a duplicate)"
    assert set(ids) == set(expected)
    assert sum(acknowledged.values()) <= len(expected)  # events stored before the kill but acknowledged later count 0
    assert senders.failures > 0, "the kill happened while deliveries were in flight"


# ---- database outages ----------------------------------------------------------------------------------------------


def postgres_rig(postgres_server, tmp_path) -> tuple:
    name = f"outage_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    sim = ZohoDeskSimulator(
        seed=23, tickets=30, departments=2, products=1, contracts=1, contacts=3, accounts=2, agents=2
    ).start()
    return sim, WebhookRig(sim, postgres_server.database_url(name), tmp_path), name


def cut_off(postgres_server, database: str, *settings: str) -> None:
    """Apply `settings` to the database and end its open sessions, as a restart or failover would."""
    with psycopg.connect(postgres_server.url, autocommit=True) as admin:
        for setting in settings:
            admin.execute(f"ALTER DATABASE {database} {setting}")
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )


def refuse_connections(server, database):
    cut_off(server, database, "ALLOW_CONNECTIONS false")
    return lambda: cut_off(server, database, "ALLOW_CONNECTIONS true")


def fail_over_to_read_only(server, database):
    cut_off(server, database, "SET default_transaction_read_only = on")
    return lambda: cut_off(server, database, "RESET default_transaction_read_only")


def heartbeat_after(buffer, moment: datetime) -> bool:
    try:
        return buffer.uncovered_intervals(moment, moment + timedelta(milliseconds=1), timedelta(0)) == []
    except Exception:  # the buffer may still be refusing
        return False


@pytest.mark.parametrize(
    "outage",
    [
        pytest.param(refuse_connections, id="refuses-connections"),
        pytest.param(fail_over_to_read_only, id="fails-over-to-read-only"),
    ],
)
def test_a_delivery_refused_during_a_database_outage_is_healed_by_the_next_sync(postgres_server, tmp_path, outage):
    sim, rig, database = postgres_rig(postgres_server, tmp_path)
    try:
        rig.sync()
        tickets = sorted(sim.store["tickets"])
        sim.update_ticket(tickets[0], subject="stored before the outage")
        rig.deliver()

        restore = outage(postgres_server, database)
        sim.update_ticket(tickets[1], subject="refused during the outage")
        sim.settings.webhook_timeout = 60  # Zoho waits for the receiver's answer, so the outage outlasts the request
        refused = sim.deliver_pending()
        restore()
        assert refused and all(500 <= status < 600 for _, status in refused), refused

        # Refusals the receiver could not store are stored at its next heartbeat: wait for two beats after the outage.
        back = datetime.now(timezone.utc)
        wait_for(lambda: heartbeat_after(rig.buffer, back), "a heartbeat after the outage", 60)
        later = datetime.now(timezone.utc)
        wait_for(lambda: heartbeat_after(rig.buffer, later), "a second heartbeat after the outage", 60)

        healing = rig.sync()
        assert any("could not store a delivery" in warning for warning in healing.warnings), healing.warnings
        assert "/api/v1/tickets/search" in healing.list_calls  # the heal re-reads the tickets snapshot
        rig.assert_exact()
        assert rig.destination.rows("tickets")[tickets[1]]["subject"] == "refused during the outage"
    finally:
        rig.close()
        sim.stop()


def test_the_receiver_serves_again_once_postgres_accepts_connections(postgres_server, tmp_path):
    """The part of the outage story that works today: 503 while refused, then deliveries are stored again."""
    sim, rig, database = postgres_rig(postgres_server, tmp_path)
    try:
        restore = refuse_connections(postgres_server, database)
        health = requests.get(f"{rig.receiver.metrics_url}/healthz", timeout=30)
        assert health.status_code == 503 and health.json()["buffer_reachable"] is False
        restore()
        ticket = sorted(sim.store["tickets"])[0]
        sim.update_ticket(ticket, subject="after the outage")
        rig.deliver()
        stored = rig.buffer.read(sim.org_id, 0)
        assert [event.payload["subject"] for event in stored] == ["after the outage"]
    finally:
        rig.close()
        sim.stop()

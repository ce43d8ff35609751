"""End to end: the CLI-served receiver over real HTTP, killed with SIGKILL mid-traffic."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

from zoho_desk_webhooks import open_buffer

from .conftest import ORG, WEBHOOK, make_event
from .served import REPO_ROOT, ServedReceiver


def test_every_acknowledged_event_survives_kill_9(tmp_path, jwks, signer):
    url = f"sqlite:///{tmp_path}/buffer.db"
    with open_buffer(url) as setup:
        _, token = setup.create_endpoint(ORG, jwks.url, WEBHOOK)
    receiver = ServedReceiver(url)
    target = f"{receiver.base_url}/webhooks/{token}"
    acknowledged: list[str] = []
    stop = threading.Event()

    def deliver(sender: int) -> None:
        session = requests.Session()
        n = 0
        while not stop.is_set():
            n += 1
            batch = [make_event(sender * 100_000 + n * 10 + i) for i in range(1 + n % 3)]
            try:
                response = session.post(target, json=batch, headers={"X-ZDesk-JWT": signer.token()}, timeout=5)
            except requests.RequestException:
                continue  # the receiver died mid-request: not acknowledged
            if response.status_code == 200:
                acknowledged.extend(event["payload"]["id"] for event in batch)

    senders = [threading.Thread(target=deliver, args=(s,)) for s in range(4)]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + 15
    while len(acknowledged) < 150 and time.monotonic() < deadline:
        time.sleep(0.02)
    receiver.kill()  # while deliveries are still in flight
    stop.set()
    for sender in senders:
        sender.join()

    assert len(acknowledged) >= 150
    with open_buffer(url) as reopened:
        stored = reopened.read(ORG, 0, limit=100_000)
    stored_ids = {event.payload["id"] for event in stored}
    assert set(acknowledged) <= stored_ids
    assert [event.position for event in stored] == list(range(1, len(stored) + 1))


def test_heartbeats_cover_the_uptime_and_stop_with_the_process(tmp_path):
    url = f"sqlite:///{tmp_path}/buffer.db"
    open_buffer(url).close()
    before = dt.datetime.now(dt.timezone.utc)
    receiver = ServedReceiver(url, heartbeat_seconds=0.1)
    assert requests.get(f"{receiver.metrics_url}/healthz", timeout=5).json()["buffer_reachable"] is True
    alive_at = dt.datetime.now(dt.timezone.utc)
    with open_buffer(url) as buffer:
        # no sleep-and-hope: wait until a heartbeat after `alive_at` is stored (the CI machine may be slow)
        deadline = time.monotonic() + 10
        while not _heartbeat_after(buffer, alive_at) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _heartbeat_after(buffer, alive_at)
    receiver.kill()
    killed_at = dt.datetime.now(dt.timezone.utc)
    grace = dt.timedelta(seconds=0.5)
    with open_buffer(url) as buffer:
        gaps = buffer.uncovered_intervals(before, killed_at + dt.timedelta(seconds=5), grace)
    assert len(gaps) == 2
    (first_start, first_end), (second_start, second_end) = gaps
    assert first_start == before
    assert before < first_end <= alive_at  # covered from the receiver's start, not before
    # heartbeats kept the coverage going while it served, and it ends with the process (+grace)
    assert alive_at + grace <= second_start <= killed_at + grace
    assert second_end == killed_at + dt.timedelta(seconds=5)


def test_a_graceful_stop_ends_the_coverage_at_once(tmp_path):
    url = f"sqlite:///{tmp_path}/buffer.db"
    open_buffer(url).close()
    receiver = ServedReceiver(url, heartbeat_seconds=5)
    receiver.stop()  # SIGTERM: the receiver records that it stopped
    stopped_at = dt.datetime.now(dt.timezone.utc)
    with open_buffer(url) as buffer:
        gaps = buffer.uncovered_intervals(stopped_at - dt.timedelta(seconds=60), stopped_at, dt.timedelta(seconds=30))
    assert len(gaps) == 2, gaps
    assert gaps[1][1] == stopped_at and gaps[1][0] <= stopped_at, "no grace after a clean stop"


def _heartbeat_after(buffer, moment: dt.datetime) -> bool:
    return buffer.uncovered_intervals(moment, moment + dt.timedelta(milliseconds=1), dt.timedelta(0)) == []


def test_metrics_and_health_are_served_only_on_their_own_port(tmp_path, jwks, signer):
    url = f"sqlite:///{tmp_path}/buffer.db"
    with open_buffer(url) as setup:
        _, token = setup.create_endpoint(ORG, jwks.url, WEBHOOK)
    receiver = ServedReceiver(url)
    try:
        public, ops = receiver.base_url, receiver.metrics_url
        assert public != ops
        for path in ("/healthz", "/metrics"):
            assert requests.get(f"{public}{path}", timeout=30).status_code == 404, f"{path} on the public port"
            assert requests.get(f"{ops}{path}", timeout=30).status_code == 200, f"{path} on the metrics port"
        delivered = requests.post(
            f"{public}/webhooks/{token}", json=[make_event(1)], headers={"X-ZDesk-JWT": signer.token()}, timeout=30
        )
        assert delivered.status_code == 200
        assert requests.get(f"{ops}/webhooks/{token}", timeout=30).status_code == 404, "no webhooks on the ops port"
        assert "zoho_desk_webhook_events_stored_total 1.0" in requests.get(f"{ops}/metrics", timeout=30).text
    finally:
        log = receiver.stop()
    assert f"metrics and health on {ops}" in log


def test_serves_https_with_the_given_certificate(tmp_path):
    cert, key = _self_signed(tmp_path)
    url = f"sqlite:///{tmp_path}/buffer.db"
    receiver = ServedReceiver(url, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        assert receiver.base_url.startswith("https://")
        with requests.Session() as session:
            response = session.get(
                f"{receiver.base_url.replace('127.0.0.1', 'localhost')}/webhooks/no-such-token",
                verify=str(cert),
                timeout=5,
            )
        assert response.status_code == 404, "answered over TLS"
        assert receiver.metrics_url.startswith("http://127.0.0.1:"), "the operator's port stays plain, on loopback"
        assert requests.get(f"{receiver.metrics_url}/healthz", timeout=5).status_code == 200
    finally:
        # kill, not stop: an idle TLS client keeps a graceful shutdown waiting (bounded at 5 s)
        receiver.kill()
    assert "plain HTTP" not in receiver.log


def test_plain_http_warns_about_zoho_ports(tmp_path):
    receiver = ServedReceiver(f"sqlite:///{tmp_path}/buffer.db")
    log = receiver.stop()
    assert "80/443" in log


def _self_signed(directory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_require_jwt_exp_option(tmp_path, jwks, signer):
    url = f"sqlite:///{tmp_path}/buffer.db"
    with open_buffer(url) as setup:
        _, token = setup.create_endpoint(ORG, jwks.url, WEBHOOK)
    lenient, strict = ServedReceiver(url), ServedReceiver(url, "--require-jwt-exp")
    try:

        def post(receiver, n, jwt_token):
            return requests.post(
                f"{receiver.base_url}/webhooks/{token}",
                json=[make_event(n)],
                headers={"X-ZDesk-JWT": jwt_token},
                timeout=5,
            ).status_code

        assert post(lenient, 1, signer.token(exp=None)) == 200
        assert post(strict, 2, signer.token(exp=None)) == 401
        assert post(strict, 3, signer.token()) == 200
    finally:
        lenient.kill()
        strict.kill()


def wait_until(condition, timeout=60.0):
    """Poll `condition` until it holds; fail after a generous deadline (the CI machine is a loaded 2-core box)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def raw_connection(receiver):
    address = urlsplit(receiver.base_url)
    return socket.create_connection((address.hostname, address.port), timeout=30)


def partial_delivery(token, jwt_token, declared=1000, sent=b'[{"eventType"'):
    return (
        f"POST /webhooks/{token} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"X-ZDesk-JWT: {jwt_token}\r\nContent-Length: {declared}\r\n\r\n"
    ).encode() + sent


def test_a_client_that_disconnects_mid_body_leaves_one_log_line(tmp_path, jwks, signer):
    url = f"sqlite:///{tmp_path}/buffer.db"
    with open_buffer(url) as setup:
        _, token = setup.create_endpoint(ORG, jwks.url, WEBHOOK)
    receiver = ServedReceiver(url)
    try:
        with raw_connection(receiver) as sock:
            sock.sendall(partial_delivery(token, signer.token()))
        wait_until(lambda: "client_disconnected" in receiver.log or "Exception in ASGI" in receiver.log)
        # a delivery after it is handled (and logged) in order, so the log is complete for the one before
        assert (
            requests.post(
                f"{receiver.base_url}/webhooks/{token}",
                json=[make_event(1)],
                headers={"X-ZDesk-JWT": signer.token()},
                timeout=30,
            ).status_code
            == 200
        )
    finally:
        log = receiver.stop()
    assert "Traceback" not in log and "Exception in ASGI" not in log, log
    cut_off = [line for line in log.splitlines() if "client_disconnected" in line]
    assert len(cut_off) == 1 and cut_off[0].count("\n") == 0, log
    assert "refused POST webhook request" in cut_off[0] and token not in log


RECEIVED: dict = {}  # socket -> what the receiver sent on it


def closed_by_server(sock) -> bool:
    """Whether the receiver has closed `sock`; what it sent before (e.g. a 408) goes to RECEIVED."""
    sock.settimeout(0.05)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
            RECEIVED[sock] = RECEIVED.get(sock, b"") + data
    except socket.timeout:
        return False
    except ConnectionError:
        return True


def test_slow_clients_are_cut_off_while_deliveries_and_health_go_on(tmp_path, jwks, signer):
    url = f"sqlite:///{tmp_path}/buffer.db"
    with open_buffer(url) as setup:
        _, token = setup.create_endpoint(ORG, jwks.url, WEBHOOK)
    receiver = ServedReceiver(url, "--header-timeout-seconds", "1", "--body-timeout-seconds", "1")
    stop = threading.Event()
    try:
        silent = raw_connection(receiver)  # connects and never sends a byte
        trickling = raw_connection(receiver)  # sends its headers a byte at a time, never ending them
        trickling.sendall(b"POST /webhooks/x HTTP/1.1\r\nHost: x\r\n")

        def trickle() -> None:
            while not stop.wait(0.2):
                try:
                    trickling.sendall(b"X")
                except OSError:
                    return

        threading.Thread(target=trickle, daemon=True).start()
        stalled_body = raw_connection(receiver)  # authenticated headers, then 13 of the 1000 body bytes
        stalled_body.sendall(partial_delivery(token, signer.token()))

        response = requests.post(
            f"{receiver.base_url}/webhooks/{token}",
            json=[make_event(1)],
            headers={"X-ZDesk-JWT": signer.token()},
            timeout=30,
        )
        assert response.status_code == 200 and response.json() == {"stored": 1, "duplicates": 0}
        assert requests.get(f"{receiver.metrics_url}/healthz", timeout=30).status_code == 200

        for sock in (silent, trickling, stalled_body):
            wait_until(lambda: closed_by_server(sock))
        assert RECEIVED.get(stalled_body, b"").startswith(b"HTTP/1.1 408 "), RECEIVED.get(stalled_body)
        assert b'{"error":"body_timeout"}' in RECEIVED[stalled_body]
        assert silent not in RECEIVED and trickling not in RECEIVED
        assert requests.get(f"{receiver.metrics_url}/healthz", timeout=30).status_code == 200
    finally:
        stop.set()
        for sock in (silent, trickling, stalled_body):
            sock.close()
        log = receiver.stop()
    assert "reason=body_timeout" in log and token not in log
    with open_buffer(url) as buffer:
        assert (
            buffer.first_refusal(
                ORG, dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)
            )
            is None
        ), "a 4xx heals nothing"


def test_connections_beyond_the_limit_are_closed_and_the_limit_frees_up(tmp_path, jwks, signer):
    url = f"sqlite:///{tmp_path}/buffer.db"
    with open_buffer(url) as setup:
        _, token = setup.create_endpoint(ORG, jwks.url, WEBHOOK)
    # header timeout far beyond the test's length: here only the limit closes connections
    receiver = ServedReceiver(url, "--max-connections", "3", "--header-timeout-seconds", "600")
    idle = [raw_connection(receiver) for _ in range(3)]
    try:
        extra = raw_connection(receiver)
        wait_until(lambda: closed_by_server(extra))
        assert extra not in RECEIVED, "closed without an answer"
        assert not any(closed_by_server(sock) for sock in idle)
        for sock in idle:
            sock.close()

        def delivered() -> bool:
            try:
                return (
                    requests.post(
                        f"{receiver.base_url}/webhooks/{token}",
                        json=[make_event(1)],
                        headers={"X-ZDesk-JWT": signer.token()},
                        timeout=30,
                    ).status_code
                    == 200
                )
            except requests.ConnectionError:  # the receiver may not have seen the idle ones go yet
                return False

        wait_until(delivered)
    finally:
        for sock in idle:
            sock.close()
        log = receiver.stop()
    assert "beyond the limit of 3 open connections" in log


def serve_exit(url: str, *, prelude: str = "") -> subprocess.CompletedProcess:
    """`zoho-desk-webhooks serve` run to its end (after `prelude`, Python run first); fails if it starts serving."""
    code = f"import sys\n{prelude}\nfrom zoho_desk_webhooks.cli import main\nsys.exit(main(sys.argv[1:]))"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(
        [sys.executable, "-c", code, "serve", "--buffer-url", url, "--host", "127.0.0.1", "--port", "0"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_refused_to_start(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "cannot be written" in result.stderr and "readonly" in result.stderr, result.stderr
    assert "listening on" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to a 0444 file anyway; the read-only test below covers it")
def test_serve_refuses_to_start_on_a_sqlite_file_it_cannot_write(tmp_path):
    path = tmp_path / "buffer.db"
    open_buffer(f"sqlite:///{path}").close()
    path.chmod(0o444)
    assert_refused_to_start(serve_exit(f"sqlite:///{path}"))


def test_serve_refuses_to_start_on_a_buffer_opened_read_only(tmp_path):
    """SQLite opens a file without write permission read-only: reads, even BEGIN IMMEDIATE, work; writes fail."""
    path = tmp_path / "buffer.db"
    open_buffer(f"sqlite:///{path}").close()
    read_only = (
        "import sqlite3\nconnect = sqlite3.connect\n"
        "sqlite3.connect = lambda path, **kw: connect(f'file:{path}?mode=ro', uri=True, **kw)"
    )
    try:
        result = serve_exit(f"sqlite:///{path}", prelude=read_only)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"serve started on a buffer it cannot write:\n{exc.stderr}") from None
    assert_refused_to_start(result)

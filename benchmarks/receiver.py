"""Benchmark: events/s a running receiver stores durably, and events/s read back from its buffer.

    python -m benchmarks.receiver --buffer-url sqlite:////tmp/bench.db \
        [--buffer-url postgresql://postgres@127.0.0.1:5432/bench] [--requests 2000 --concurrency 16]
        [--events-per-request 1] [--jwt-per-request]

For each buffer it starts `zoho-desk-webhooks serve` as a subprocess on 127.0.0.1, serves a JWKS for a fresh RSA
key, and sends signed deliveries from N threads, each with its own keep-alive `http.client` connection (Zoho sends
one event per POST; --events-per-request > 1 measures multi-event POSTs). A delivery counts only when answered 200,
i.e. committed. One JWT signs every delivery (the receiver verifies a token it has seen once);
--jwt-per-request signs each with its own, all signed before the clock starts. It then checks every acknowledged event is in the buffer and reads them all back in pages.
Client and server share the machine, so the figures are a floor for the receiver alone.
Standard library plus runtime dependencies only: it runs from a plain install (`pip install .`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from zoho_desk_webhooks.buffer import open_buffer, redact_url

REPO_ROOT = Path(__file__).resolve().parents[1]
REQUEST_TIMEOUT_SECONDS = 30  # a loaded host may be slow; a delivery that takes longer fails the run
START_TIMEOUT_SECONDS = 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buffer-url", action="append", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--events-per-request", type=int, default=1, help="Zoho usually sends 1")
    parser.add_argument("--drain-page", type=int, default=1000)
    parser.add_argument(
        "--jwt-per-request", action="store_true", help="a JWT of its own for every delivery (a full check each)"
    )
    args = parser.parse_args()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with JwksServer(key) as jwks_url:
        for url in args.buffer_url:
            bench_one(url, key, jwks_url, args)


def bench_one(url: str, key: rsa.RSAPrivateKey, jwks_url: str, args: argparse.Namespace) -> None:
    org = f"bench-{uuid.uuid4().hex[:8]}"
    webhook = "1"
    with open_buffer(url) as buffer:
        endpoint_id, token = buffer.create_endpoint(org, jwks_url, webhook)

    def signed(n: int) -> dict[str, str]:
        now = int(time.time())
        claims = {"iss": f"orgId:{org}", "aud": f"webhookId:{webhook}", "iat": now, "exp": now + 3600, "jti": str(n)}
        token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "bench"})
        return {"X-ZDesk-JWT": token, "Content-Type": "application/json"}

    headers = signed(-1)
    bodies = [
        (_delivery(org, n, args.events_per_request), signed(n) if args.jwt_per_request else headers)
        for n in range(args.requests)
    ]
    warm_up = json.dumps(
        [{"eventType": "Ticket_Add", "orgId": org, "eventTime": "0", "payload": {"id": "warm-up"}}]
    ).encode()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zoho_desk_webhooks.cli",
            "serve",
            "--buffer-url",
            url,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--metrics-port",
            "0",
            "--log-level",
            "warning",
        ],
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        target = f"{_listening_address(server)}/webhooks/{token}"
        _post_all(target, [(warm_up, headers)], concurrency=1)  # the receiver fetches the JWKS on this one
        started = time.perf_counter()
        acknowledged = _post_all(target, bodies, args.concurrency)
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=15)
    events = acknowledged * args.events_per_request
    with open_buffer(url) as buffer:
        assert buffer.head_position(org) == events + 1, "not every acknowledged event was stored"  # + warm-up
        started = time.perf_counter()
        position, drained = 0, 0
        while page := buffer.read(org, position, limit=args.drain_page):
            position, drained = page[-1].position, drained + len(page)  # includes the warm-up event
        drain_seconds = time.perf_counter() - started
        buffer.prune(org, position + 1)
        buffer.delete_endpoint(endpoint_id)
    print(
        f"{redact_url(url)}\n"
        f"  ingest: {acknowledged}/{len(bodies)} requests answered 200 x {args.events_per_request} event(s), "
        f"concurrency {args.concurrency}, {'a JWT per request' if args.jwt_per_request else 'one JWT'}: "
        f"{events / elapsed:,.0f} events/s stored durably ({elapsed:.2f} s)\n"
        f"  drain:  {drained} events read in pages of {args.drain_page}: "
        f"{drained / drain_seconds:,.0f} events/s ({drain_seconds:.3f} s)",
        flush=True,
    )


def _delivery(org: str, n: int, events: int) -> bytes:
    return json.dumps(
        [
            {
                "eventType": "Ticket_Update",
                "orgId": org,
                "eventTime": str(1_700_000_000_000 + n),
                "payload": {
                    "id": f"{n}-{i}",
                    "subject": "benchmark ticket " * 8,
                    "status": "Open",
                    "customFields": {f"cf_{j}": j for j in range(10)},
                },
            }
            for i in range(events)
        ]
    ).encode()


def _post_all(target: str, bodies: list[tuple[bytes, dict[str, str]]], concurrency: int) -> int:
    """POSTs every body from `concurrency` threads, each on its own keep-alive connection; returns how many were
    answered 200. Any other answer stops the run: a benchmark that silently drops deliveries measures nothing."""
    parts = urlsplit(target)
    host = parts.hostname
    if host is None:  # the receiver prints a full URL; anything else would fail in every sender thread
        raise RuntimeError("the receiver's address has no host")  # not the URL: its path is the endpoint's secret
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    pending = iter(bodies)
    lock = threading.Lock()  # guards `pending`, `acknowledged` and `failures` across the sender threads
    acknowledged = 0
    failures: list[BaseException] = []

    def send() -> None:
        nonlocal acknowledged
        connection = connection_class(host, parts.port, timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            while True:
                with lock:
                    item = next(pending, None)
                    if item is None or failures:
                        return
                body, headers = item
                connection.request("POST", parts.path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()  # read to the end, or the connection cannot be reused
                if response.status != 200:
                    raise RuntimeError(f"receiver answered {response.status}: {answer[:200]!r}")
                with lock:
                    acknowledged += 1
        except BaseException as exc:
            with lock:
                failures.append(exc)
        finally:
            connection.close()

    senders = [threading.Thread(target=send, daemon=True) for _ in range(max(1, concurrency))]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    if failures:
        raise failures[0]
    return acknowledged


def _listening_address(server: subprocess.Popen[str]) -> str:
    """The URL the receiver prints once it listens; its stderr is then drained in the background."""
    stderr = server.stderr
    assert stderr is not None, "the receiver is started with stderr=PIPE"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        line = stderr.readline()
        match = re.search(r"listening on (\S+)", line)
        if match:
            threading.Thread(target=stderr.read, daemon=True).start()  # a full pipe would block the receiver
            return match.group(1)
        if not line and server.poll() is not None:
            break
    raise RuntimeError("the receiver did not start")


class JwksServer:
    """Serves the public half of `key` as a JWKS on 127.0.0.1, like Zoho's /.well-known/jwks.json."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        jwk = {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "bench", "use": "sig", "alg": "RS256"}
        body = json.dumps({"keys": [jwk]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def __enter__(self) -> str:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


if __name__ == "__main__":
    main()

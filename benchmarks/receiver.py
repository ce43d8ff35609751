"""Benchmark: events/s stored durably by a running receiver, and events/s drained with `read`.

    python -m benchmarks.receiver --buffer-url sqlite:///tmp/bench.db \
        --buffer-url postgresql://postgres@127.0.0.1:5432/bench [--requests 2000 --concurrency 16]

For each buffer it starts `zoho-desk-webhooks serve` as a subprocess on 127.0.0.1, serves a JWKS
for a fresh RSA key, sends signed deliveries with N concurrent HTTP clients (each counted only when
answered 200, i.e. committed), checks every event is in the buffer, then reads them all back.
Client and server share the machine, so the figures are a floor for the receiver alone.
"""

from __future__ import annotations

import argparse
import asyncio
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

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from zoho_desk_webhooks.buffer import open_buffer, redact_url

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buffer-url", action="append", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--events-per-request", type=int, default=1, help="Zoho usually sends 1")
    parser.add_argument("--drain-page", type=int, default=1000)
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
    token_jwt = jwt.encode({"iss": f"orgId:{org}", "aud": f"webhookId:{webhook}", "iat": int(time.time()),
                            "exp": int(time.time()) + 3600}, key, algorithm="RS256", headers={"kid": "bench"})
    bodies = [json.dumps([{"eventType": "Ticket_Update", "orgId": org, "eventTime": str(1_700_000_000_000 + n),
                           "payload": {"id": f"{n}-{i}", "subject": "benchmark ticket " * 8, "status": "Open",
                                       "customFields": {f"cf_{j}": j for j in range(10)}}}
                          for i in range(args.events_per_request)]).encode()
              for n in range(args.requests)]
    server = subprocess.Popen(
        [sys.executable, "-m", "zoho_desk_webhooks.cli", "serve", "--buffer-url", url, "--host", "127.0.0.1",
         "--port", "0", "--log-level", "warning"],
        env=dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True)
    try:
        base = _listening_address(server)
        target = f"{base}/webhooks/{token}"
        elapsed, acknowledged = asyncio.run(_send_all(target, bodies, token_jwt, args.concurrency))
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
    print(f"{redact_url(url)}\n"
          f"  ingest: {acknowledged}/{len(bodies)} requests answered 200 x {args.events_per_request} event(s), "
          f"concurrency {args.concurrency}: {events / elapsed:,.0f} events/s stored durably ({elapsed:.2f} s)\n"
          f"  drain:  {drained} events read in pages of {args.drain_page}: "
          f"{drained / drain_seconds:,.0f} events/s ({drain_seconds:.3f} s)", flush=True)


async def _send_all(target: str, bodies: list[bytes], token_jwt: str, concurrency: int) -> tuple[float, int]:
    headers = {"X-ZDesk-JWT": token_jwt, "Content-Type": "application/json"}
    queue = iter(bodies)
    acknowledged = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        warm_up = json.dumps({"eventType": "Ticket_Add", "orgId": "", "eventTime": "0", "payload": {"id": "warm-up"}})
        org = json.loads(bodies[0])[0]["orgId"]
        response = await client.post(target, content=warm_up.replace('"orgId": ""', f'"orgId": "{org}"'),
                                     headers=headers)  # the receiver fetches the JWKS on this one
        response.raise_for_status()

        async def worker() -> None:
            nonlocal acknowledged
            for body in queue:
                response = await client.post(target, content=body, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(f"receiver answered {response.status_code}: {response.text}")
                acknowledged += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, acknowledged


def _listening_address(server: subprocess.Popen, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = server.stderr.readline()
        match = re.search(r"listening on (\S+)", line)
        if match:
            threading.Thread(target=lambda: server.stderr.read(), daemon=True).start()  # keep the pipe drained
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

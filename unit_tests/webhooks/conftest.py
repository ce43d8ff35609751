"""Fixtures: buffers on SQLite and on a real PostgreSQL server, and a Zoho-like JWT signer + JWKS server."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from zoho_desk_webhooks import open_buffer

from .pg_server import PostgresServer

ORG = "60001234"
WEBHOOK = "4000000012345"


# ---- buffers --------------------------------------------------------------------------------------


def fresh_database(server: PostgresServer) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.database_url(name)


@pytest.fixture(params=["sqlite", "postgres"])
def buffer_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/buffer.db"
    return fresh_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def buffer(buffer_url):
    opened = open_buffer(buffer_url)
    yield opened
    opened.close()


def make_event(n: int, *, org: str = ORG, event_type: str = "Ticket_Update", prev: bool = False) -> dict[str, Any]:
    event = {
        "eventType": event_type,
        "orgId": org,
        "eventTime": str(1_700_000_000_000 + n),
        "payload": {"id": str(n), "subject": f"ticket {n}", "status": "Open"},
    }
    if prev:
        event["prevState"] = {"status": "New"}
    return event


# ---- Zoho-like signing ------------------------------------------------------------------------------


@dataclass
class JwksServer:
    url: str
    keys: list[dict] = field(default_factory=list)
    fetches: int = 0
    fail: bool = False


@dataclass
class Signer:
    key: Any
    kid: str

    def token(
        self,
        *,
        org: str = ORG,
        webhook: str | None = WEBHOOK,
        expires_in: float = 300,
        issued_offset: float = 0,
        kid: str | None = "default",
        **claims: Any,
    ) -> str:
        now = time.time()
        body = {
            "iss": f"orgId:{org}",
            "aud": f"webhookId:{webhook}",
            "iat": int(now + issued_offset),
            "exp": int(now + expires_in),
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        headers = {} if kid is None else {"kid": self.kid if kid == "default" else kid}
        return jwt.encode(body, self.key, algorithm="RS256", headers=headers)


def public_jwk(private_key: Any, kid: str) -> dict:
    jwk = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


@pytest.fixture(scope="session")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def signer(rsa_key) -> Signer:
    return Signer(rsa_key, "zoho-key-1")


@pytest.fixture
def jwks(rsa_key, signer) -> Iterator[JwksServer]:
    """A JWKS server on 127.0.0.1 holding the signer's public key; tests may change `keys` or `fail`."""
    state = JwksServer(url="", keys=[public_jwk(rsa_key, signer.kid)])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.fetches += 1
            body = b"oops" if state.fail else json.dumps({"keys": state.keys}).encode()
            self.send_response(500 if state.fail else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    yield state
    server.shutdown()
    server.server_close()

"""Hostile requests against a real `zoho-desk-webhooks serve` subprocess: forged and broken JWTs, broken bodies, path
tricks, oversized headers, wrong methods, replays and stalled connections.

Every case must be refused (4xx, or for a stalled connection no answer within the client's patience), store nothing
(no event, no refusal: a bad request is not a lost delivery) and leave the receiver serving: a valid delivery sent
right after each case is stored. Replays of an acknowledged delivery are answered 200 but stored once.

The receiver is shared by the module (one SQLite buffer); each case compares the buffer with what it held before.
Zoho's key set and signer come from the offline simulator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Optional, Union
from urllib.parse import quote, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from integration_tests.simulator import ZohoDeskSimulator
from zoho_desk_webhooks import open_buffer

from .conftest import ORG, WEBHOOK, make_event
from .served import ServedReceiver

PATIENCE = 3.0  # how long a client waits for an answer to a stalled request before it gives up
EPOCH, FAR_FUTURE = datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc)
Outcome = Union[int, str]  # an HTTP status, or "timeout" / "closed"


@dataclass
class Target:
    """What a case needs: where the receiver listens, the secret path, Zoho's signer, a fresh event per call."""

    host: str
    port: int
    token: str
    sim: ZohoDeskSimulator
    attacker_key: Any
    counter: Iterator[int]
    signed: list = field(default_factory=list)  # every token made here, to check the log never shows one

    @property
    def path(self) -> str:
        return f"/webhooks/{self.token}"

    def event(self, **changes: Any) -> dict:
        return {**make_event(next(self.counter)), **changes}

    def jwt(self, **claims: Any) -> str:
        """A token Zoho would sign, with `claims` changed (None removes a claim)."""
        now = int(time.time())
        body = {"iss": f"orgId:{ORG}", "aud": f"webhookId:{WEBHOOK}", "iat": now, "exp": now + 300, **claims}
        token = jwt.encode(
            {k: v for k, v in body.items() if v is not None},
            self.sim.signer.key,
            algorithm="RS256",
            headers={"kid": self.sim.signer.kid},
        )
        self.signed.append(token)
        return token


# ---- sending ------------------------------------------------------------------------------------------------------


def send(
    target: Target,
    body: Union[bytes, Any],
    *,
    jwt_token: Optional[str] = "valid",
    path: Optional[str] = None,
    method: str = "POST",
    headers: Optional[dict] = None,
) -> Outcome:
    """One request exactly as given (http.client keeps `..` and escapes in the path as they are)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    if jwt_token == "valid":
        jwt_token = target.jwt()
    if jwt_token is not None:
        sent["X-ZDesk-JWT"] = jwt_token
    conn = http.client.HTTPConnection(target.host, target.port, timeout=30)
    try:
        conn.request(method, path or target.path, body=data, headers=sent)
        return conn.getresponse().status
    except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
        return "closed"
    finally:
        conn.close()


def send_chunked(target: Target, size: int) -> Outcome:
    """A body without Content-Length, larger than the limit."""
    conn = http.client.HTTPConnection(target.host, target.port, timeout=30)
    try:
        chunks = (b" " * 65536 for _ in range(size // 65536 + 1))
        conn.request(
            "POST",
            target.path,
            body=chunks,
            encode_chunked=True,
            headers={"Content-Type": "application/json", "X-ZDesk-JWT": target.jwt()},
        )
        return conn.getresponse().status
    except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
        return "closed"  # the receiver may answer 413 and close before the whole body is sent
    finally:
        conn.close()


def stalled(target: Target, first_bytes: bytes, *, connections: int = 20) -> Outcome:
    """Slowloris: `connections` sockets that send `first_bytes` and then nothing. A valid delivery must be stored
    while they hang; the outcome is what the first socket sees within PATIENCE seconds."""
    sockets = [socket.create_connection((target.host, target.port), timeout=30) for _ in range(connections)]
    try:
        for sock in sockets:
            sock.sendall(first_bytes)
        assert deliver_valid(target) == 1, "a stalled connection blocked a valid delivery"
        sockets[0].settimeout(PATIENCE)
        try:
            answer = sockets[0].recv(65536)
        except socket.timeout:
            return "timeout"
        except ConnectionError:
            return "closed"
        return int(answer.split()[1]) if answer.startswith(b"HTTP/") else "closed"
    finally:
        for sock in sockets:
            sock.close()


def deliver_valid(target: Target, events: Optional[list] = None, jwt_token: Optional[str] = None) -> int:
    """A genuine delivery; returns how many events were newly stored."""
    response = requests.post(
        f"http://{target.host}:{target.port}{target.path}",
        json=events or [target.event()],
        headers={"X-ZDesk-JWT": jwt_token or target.jwt()},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["stored"]


# ---- forged tokens --------------------------------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: dict, claims: dict, sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def zoho_claims() -> dict:
    now = int(time.time())
    return {"iss": f"orgId:{ORG}", "aud": f"webhookId:{WEBHOOK}", "iat": now, "exp": now + 300}


def hs256_with_public_key(t: Target) -> str:
    """The classic key-confusion forgery: HMAC keyed with the RSA public key a lax verifier would use as a secret."""
    pem = t.sim.signer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return compact(
        {"alg": "HS256", "typ": "JWT", "kid": t.sim.signer.kid},
        zoho_claims(),
        lambda data: hmac.new(pem, data, hashlib.sha256).digest(),
    )


def tampered(t: Target) -> str:
    """A genuine token whose claims were rewritten (here: to another webhook), keeping the signature."""
    header, _, signature = t.jwt().split(".")
    claims = {**zoho_claims(), "aud": "webhookId:1"}
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


def signed_by_attacker(t: Target, **header: Any) -> str:
    return jwt.encode(zoho_claims(), t.attacker_key, algorithm="RS256", headers={"kid": t.sim.signer.kid, **header})


# ---- the corpus ---------------------------------------------------------------------------------------------------

REFUSED_STALL = {"timeout", "closed", 400, 408}

CASES: list = [
    # (id, acceptable outcomes, send)
    ("jwt-missing", {401}, lambda t: send(t, [t.event()], jwt_token=None)),
    ("jwt-empty", {401}, lambda t: send(t, [t.event()], jwt_token="")),
    ("jwt-garbage", {401}, lambda t: send(t, [t.event()], jwt_token="not-a-jwt")),
    ("jwt-two-segments", {401}, lambda t: send(t, [t.event()], jwt_token="eyJhbGciOiJSUzI1NiJ9.e30")),
    (
        "jwt-signed-by-another-key-with-zohos-kid",
        {401},
        lambda t: send(t, [t.event()], jwt_token=signed_by_attacker(t)),
    ),
    (
        "jwt-jku-pointing-elsewhere",
        {401},
        lambda t: send(t, [t.event()], jwt_token=signed_by_attacker(t, jku="http://127.0.0.1:1/jwks.json")),
    ),
    (
        "jwt-unknown-kid",
        {401},
        lambda t: send(
            t,
            [t.event()],
            jwt_token=jwt.encode(
                zoho_claims(), t.sim.signer.key, algorithm="RS256", headers={"kid": "../../etc/passwd"}
            ),
        ),
    ),
    (
        "jwt-expired",
        {401},
        lambda t: send(t, [t.event()], jwt_token=t.jwt(iat=int(time.time()) - 900, exp=int(time.time()) - 600)),
    ),
    (
        "jwt-not-before-in-the-future",
        {401},
        lambda t: send(t, [t.event()], jwt_token=t.jwt(nbf=int(time.time()) + 3600)),
    ),
    ("jwt-issued-in-the-future", {401}, lambda t: send(t, [t.event()], jwt_token=t.jwt(iat=int(time.time()) + 3600))),
    (
        "jwt-alg-none",
        {401},
        lambda t: send(t, [t.event()], jwt_token=compact({"alg": "none"}, zoho_claims(), lambda _: b"")),
    ),
    (
        "jwt-alg-None-capitalised",
        {401},
        lambda t: send(
            t, [t.event()], jwt_token=compact({"alg": "None", "kid": t.sim.signer.kid}, zoho_claims(), lambda _: b"")
        ),
    ),
    ("jwt-hs256-keyed-with-the-public-key", {401}, lambda t: send(t, [t.event()], jwt_token=hs256_with_public_key(t))),
    (
        "jwt-rs512-with-zohos-key",
        {401},
        lambda t: send(
            t,
            [t.event()],
            jwt_token=jwt.encode(zoho_claims(), t.sim.signer.key, algorithm="RS512", headers={"kid": t.sim.signer.kid}),
        ),
    ),
    ("jwt-issuer-of-another-org", {401}, lambda t: send(t, [t.event()], jwt_token=t.jwt(iss="orgId:999"))),
    ("jwt-audience-of-another-webhook", {401}, lambda t: send(t, [t.event()], jwt_token=t.jwt(aud="webhookId:999"))),
    ("jwt-without-issuer", {401}, lambda t: send(t, [t.event()], jwt_token=t.jwt(iss=None))),
    ("jwt-without-audience", {401}, lambda t: send(t, [t.event()], jwt_token=t.jwt(aud=None))),
    ("jwt-claims-tampered", {401}, lambda t: send(t, [t.event()], jwt_token=tampered(t))),
    (
        "jwt-in-authorization-header-instead",
        {401},
        lambda t: send(t, [t.event()], jwt_token=None, headers={"Authorization": f"Bearer {t.jwt()}"}),
    ),
    # bodies
    ("body-not-json", {400}, lambda t: send(t, b'[{"eventType": "Ticket_Update", ')),
    ("body-invalid-utf8", {400}, lambda t: send(t, b'[{"eventType": "Ticket_Update", "orgId": "\xff\xfe"}]')),
    ("body-nan", {400}, lambda t: send(t, json.dumps([t.event()]).replace('"Open"', "NaN").encode())),
    ("body-huge", {413, "closed"}, lambda t: send(t, [t.event(payload={"id": "1", "blob": "x" * 1_500_000})])),
    ("body-huge-chunked-without-length", {413, "closed"}, lambda t: send_chunked(t, 1_500_000)),
    (
        "body-content-length-claims-huge",
        {413, "closed"},
        lambda t: send(t, [t.event()], headers={"Content-Length": str(10**12)}),
    ),
    ("body-nested-40-deep", {400}, lambda t: send(t, [t.event(payload={"id": "1", "cf": nested(40)})])),
    ("body-nested-beyond-the-parser", {400}, lambda t: send(t, b"[" * 100_000 + b"]" * 100_000)),
    ("body-empty-array", {400}, lambda t: send(t, [])),
    ("body-top-level-string", {400}, lambda t: send(t, "Ticket_Update")),
    (
        "body-event-without-payload",
        {400},
        lambda t: send(t, [t.event(), {"eventType": "Ticket_Update", "orgId": ORG, "eventTime": "1"}]),
    ),
    ("body-event-type-not-a-string", {400}, lambda t: send(t, [t.event(eventType=["Ticket_Update"])])),
    ("body-one-event-of-another-org", {403}, lambda t: send(t, [t.event(), t.event(orgId="999")])),
    # paths
    ("path-unknown-token", {404}, lambda t: send(t, [t.event()], path="/webhooks/" + "x" * 43)),
    ("path-dotdot-to-healthz", {404, 405}, lambda t: send(t, [t.event()], path="/webhooks/../healthz")),
    ("path-encoded-dotdot-to-healthz", {404, 405}, lambda t: send(t, [t.event()], path="/webhooks/%2e%2e%2Fhealthz")),
    ("path-token-then-dotdot", {404}, lambda t: send(t, [t.event()], path=f"{t.path}/../{t.token}")),
    ("path-token-with-encoded-slash", {404}, lambda t: send(t, [t.event()], path=f"{t.path}%2F..%2F{t.token}")),
    ("path-nul-in-token", {404}, lambda t: send(t, [t.event()], path="/webhooks/%00")),
    ("path-invalid-utf8-in-token", {404}, lambda t: send(t, [t.event()], path="/webhooks/%FF%FE")),
    ("path-token-prefix", {404}, lambda t: send(t, [t.event()], path=t.path[:-1])),
    ("path-token-plus-one-char", {404}, lambda t: send(t, [t.event()], path=t.path + "A")),
    ("path-token-sql-injection", {404}, lambda t: send(t, [t.event()], path="/webhooks/" + quote("' OR '1'='1"))),
    (
        "path-20k-token",
        {400, 404, 414, 431, "closed"},
        lambda t: send(t, [t.event()], path="/webhooks/" + "a" * 20_000),
    ),
    # headers
    ("header-64k-jwt", {400, 401, 431, "closed"}, lambda t: send(t, [t.event()], jwt_token="e" * 65_536)),
    (
        "header-two-thousand-headers-and-no-jwt",
        {400, 401, 431, "closed"},
        lambda t: send(t, [t.event()], jwt_token=None, headers={f"X-Filler-{i}": "y" * 20 for i in range(2000)}),
    ),
    # methods
    ("method-put", {405}, lambda t: send(t, [t.event()], method="PUT")),
    ("method-delete", {405}, lambda t: send(t, b"", method="DELETE")),
    ("method-patch", {405}, lambda t: send(t, [t.event()], method="PATCH")),
    ("post-to-healthz-on-the-public-port", {404}, lambda t: send(t, [t.event()], path="/healthz")),
    ("post-to-metrics-on-the-public-port", {404}, lambda t: send(t, [t.event()], path="/metrics")),
    # stalled connections
    (
        "slowloris-body-never-completes",
        REFUSED_STALL,
        lambda t: stalled(
            t,
            (
                f"POST {t.path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-ZDesk-JWT: {t.jwt()}\r\n"
                'Content-Length: 5000\r\n\r\n[{"eventType"'
            ).encode(),
        ),
    ),
    (
        "slowloris-headers-never-complete",
        REFUSED_STALL,
        lambda t: stalled(t, f"POST {t.path} HTTP/1.1\r\nHost: x\r\nX-ZDesk-JWT: ".encode()),
    ),
]


def nested(depth: int) -> dict:
    node: dict = {"leaf": True}
    for _ in range(depth):
        node = {"child": node}
    return node


# ---- fixtures -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zoho():
    with ZohoDeskSimulator(
        seed=11, tickets=1, departments=1, products=1, contracts=1, contacts=1, accounts=1, agents=1
    ) as sim:
        yield sim


@pytest.fixture(scope="module")
def served(tmp_path_factory, zoho):
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile')}/buffer.db"
    with open_buffer(url) as setup:
        _, token = setup.create_endpoint(ORG, zoho.jwks_url, WEBHOOK)
    receiver = ServedReceiver(url)
    buffer = open_buffer(url)
    parts = urlsplit(receiver.base_url)
    counter = iter(range(10_000_000, 20_000_000))
    target = Target(
        parts.hostname, parts.port, token, zoho, rsa.generate_private_key(public_exponent=65537, key_size=2048), counter
    )
    yield target, buffer, receiver
    receiver.kill()
    buffer.close()


def buffer_contents(buffer) -> tuple:
    """(position, id) of every stored event, and the first recorded refusal (None if none)."""
    events = buffer.read(ORG, 0, limit=1_000_000)
    return [(e.position, e.payload.get("id")) for e in events], buffer.first_refusal(ORG, EPOCH, FAR_FUTURE)


# ---- tests --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case, acceptable, attack", CASES, ids=[c[0] for c in CASES])
def test_a_hostile_request_is_refused_stores_nothing_and_the_receiver_keeps_serving(served, case, acceptable, attack):
    target, buffer, receiver = served
    before = buffer_contents(buffer)

    outcome = attack(target)

    assert outcome in acceptable, f"{case}: answered {outcome}, expected one of {sorted(map(str, acceptable))}"
    after_events, after_refusal = buffer_contents(buffer)
    stalled_case = case.startswith("slowloris")
    expected_events = before[0] + ([(len(before[0]) + 1, after_events[-1][1])] if stalled_case else [])
    assert after_events == expected_events, f"{case} stored something"
    assert after_refusal is None, f"{case} was recorded as a lost delivery; a bad request must not trigger a heal"
    assert receiver.process.poll() is None, f"the receiver died on {case}:\n{receiver.log[-2000:]}"
    assert deliver_valid(target) == 1, f"the receiver no longer stores a valid delivery after {case}"


REPLAYS = [
    ("replay-same-body-same-jwt", lambda t, events, token: (events, token)),
    ("replay-same-body-fresh-jwt", lambda t, events, token: (events, t.jwt())),
    (
        "replay-keys-reordered-ids-as-numbers",
        lambda t, events, token: (
            [
                {
                    "payload": e["payload"],
                    "eventTime": int(e["eventTime"]),
                    "orgId": int(e["orgId"]),
                    "eventType": e["eventType"],
                }
                for e in events
            ],
            t.jwt(),
        ),
    ),
    ("replay-as-single-object-instead-of-array", lambda t, events, token: (events[0], t.jwt())),
]


@pytest.mark.parametrize("case, replay", REPLAYS, ids=[r[0] for r in REPLAYS])
def test_a_replayed_delivery_is_acknowledged_and_stored_once(served, case, replay):
    target, buffer, _ = served
    events, token = [target.event()], target.jwt()
    before, _ = buffer_contents(buffer)
    assert deliver_valid(target, events, token) == 1

    body, replay_token = replay(target, events, token)
    response = requests.post(
        f"http://{target.host}:{target.port}{target.path}", json=body, headers={"X-ZDesk-JWT": replay_token}, timeout=30
    )

    assert response.status_code == 200 and response.json() == {"stored": 0, "duplicates": 1}, response.text
    after, _ = buffer_contents(buffer)
    assert after == before + [(len(before) + 1, events[0]["payload"]["id"])], "the replay was stored again"


def test_the_receiver_logged_neither_the_path_token_nor_a_jwt_signature(served):
    """Refusals leave a log line each; none may carry the secret path or a signature of a token sent to it."""
    target, _, receiver = served
    assert send(target, [target.event(orgId="999")]) == 403
    assert wait_for(lambda: "refused POST webhook request" in receiver.log)
    signatures = {token.split(".")[2] for token in target.signed}
    assert target.token not in receiver.log
    assert not [s for s in signatures if s in receiver.log]


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()

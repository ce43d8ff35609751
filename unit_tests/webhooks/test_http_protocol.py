"""The receiver's HTTP protocol (http_limits): the header-size bound it adds to httptools, and one write per
response. The header deadline, the connection limit and the body timeout are tested end to end in
test_served_receiver (against this protocol: the CLI serves it)."""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace

import requests

from zoho_desk_webhooks import open_buffer
from zoho_desk_webhooks.http_limits import _HeadWithBody

from .conftest import ORG, WEBHOOK, make_event
from .served import ServedReceiver
from .test_served_receiver import closed_by_server, raw_connection


def read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_request_headers_over_the_limit_are_refused_even_when_trickled(tmp_path, jwks, signer):
    url = f"sqlite:///{tmp_path}/buffer.db"
    with open_buffer(url) as setup:
        _, token = setup.create_endpoint(ORG, jwks.url, WEBHOOK)
    receiver = ServedReceiver(url, "--max-header-bytes", "2048")
    try:
        with raw_connection(receiver) as sock:
            sock.sendall(b"POST /webhooks/x HTTP/1.1\r\nHost: x\r\n")
            sent = 0
            while not closed_by_server(sock):  # one header line after the other, never the blank line
                assert sent < 100_000, "the receiver kept reading an endless header section"
                try:
                    sock.sendall(b"X-Filler: " + b"y" * 90 + b"\r\n")
                except OSError:
                    break
                sent += 102
        assert sent <= 2048 + 65536, sent  # cut off within a read of the limit
        with raw_connection(receiver) as sock:  # in one piece: answered 400, then closed
            sock.sendall(b"POST /webhooks/x HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"y" * 4000)
            assert read_until_closed(sock).startswith(b"HTTP/1.1 400 ")
        response = requests.post(  # headers under the limit still go through
            f"{receiver.base_url}/webhooks/{token}",
            json=[make_event(1)],
            headers={"X-ZDesk-JWT": signer.token()},
            timeout=30,
        )
        assert response.status_code == 200 and response.json() == {"stored": 1, "duplicates": 0}
    finally:
        log = receiver.stop()
    assert "headers are over 2048 bytes" in log and token not in log


def test_keep_alive_deliveries_and_pipelined_requests_each_get_their_whole_answer(tmp_path, jwks, signer):
    url = f"sqlite:///{tmp_path}/buffer.db"
    with open_buffer(url) as setup:
        _, token = setup.create_endpoint(ORG, jwks.url, WEBHOOK)
    receiver = ServedReceiver(url)
    try:
        requests_bytes = b""
        for n in range(3):
            body = json.dumps([make_event(n)]).encode()
            requests_bytes += (
                f"POST /webhooks/{token} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"X-ZDesk-JWT: {signer.token()}\r\nContent-Length: {len(body)}\r\n"
                + ("Connection: close\r\n" if n == 2 else "")
                + "\r\n"
            ).encode() + body
        with raw_connection(receiver) as sock:
            sock.sendall(requests_bytes)  # pipelined: all three before any answer
            answers = read_until_closed(sock)
        assert answers.count(b"HTTP/1.1 200 OK\r\n") == 3, answers
        assert answers.count(b'{"stored":1,"duplicates":0}') == 3, answers
        with requests.Session() as session:  # keep-alive, one after the other
            for n in range(3, 6):
                response = session.post(
                    f"{receiver.base_url}/webhooks/{token}",
                    json=[make_event(n)],
                    headers={"X-ZDesk-JWT": signer.token()},
                    timeout=30,
                )
                assert response.status_code == 200 and response.json() == {"stored": 1, "duplicates": 0}
    finally:
        receiver.stop()


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def test_a_response_head_is_written_with_its_body_and_a_100_continue_alone():
    transport, cycle = FakeTransport(), SimpleNamespace(response_started=False)
    held = _HeadWithBody(transport, cycle)  # type: ignore[arg-type]
    held.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # before the response started: at once
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    cycle.response_started = True
    held.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n")
    assert len(transport.writes) == 1, "the head waits for the body"
    held.write(b"body")
    assert transport.writes[1:] == [b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nbody"]
    held.write(b"more")  # chunks after the first go as they come
    assert transport.writes[2:] == [b"more"]
    held.close()
    assert transport.closed and held.is_closing()


def test_an_upgrade_request_is_not_switched_away_from_the_limited_protocol(tmp_path):
    receiver = ServedReceiver(f"sqlite:///{tmp_path}/buffer.db")
    try:
        with raw_connection(receiver) as sock:
            sock.sendall(
                b"GET /webhooks/x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            )
            received = b""
            while b"\r\n\r\n" not in received:  # the answer's head (the socket times out after 30 s)
                chunk = sock.recv(65536)
                assert chunk, f"closed without an answer: {received!r}"
                received += chunk
        assert received.startswith(b"HTTP/1.1 404 "), received  # an unknown token, answered over plain HTTP
    finally:
        receiver.kill()

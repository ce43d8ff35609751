"""The receiver's HTTP/1.1 protocol: uvicorn's httptools protocol (llhttp, in C), with limits on client connections.

uvicorn times a connection out only when it is idle after a response, and any byte the client sends stops that
timer: a client that connects and never finishes its request headers (slowloris) keeps its socket forever. Its
`limit_concurrency` answers 503 to requests beyond the limit but still accepts and keeps every socket, so a thousand
idle ones use up the file descriptors. And its httptools protocol puts no bound on a request's header section (h11's
`h11_max_incomplete_event_size` is h11's only). Here:

* a connection must complete its request headers within `header_timeout` of opening (or of the previous response);
* a connection beyond `max_connections` is closed once accepted;
* a header section still incomplete after `max_header_bytes` is answered 400 and the connection closed (as h11 did:
  the bytes of a request's head are counted while it is incomplete, so that a client cannot make us hold more);
* a response goes out in one write (its head with its body, one send(2) instead of two: on a loopback or a
  virtual machine the system call, not the bytes, is the cost).

The request body's deadline is the app's (`delivery.read_body`), like the one log line of a client that left
mid-body: this protocol only marks the request disconnected, as uvicorn's does.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

log = logging.getLogger(__name__)

REFUSAL_LOG_INTERVAL = 60.0  # an attacker must not be able to fill the disk with our log lines


@dataclass
class ConnectionLimits:
    header_timeout: float
    max_connections: int
    max_header_bytes: int
    _refused: int = field(default=0, init=False)
    _logged_at: float = field(default=float("-inf"), init=False)

    def protocol(self) -> Callable[..., asyncio.Protocol]:
        """The `http` protocol factory for uvicorn.Config."""
        return functools.partial(LimitedHttpToolsProtocol, limits=self)

    def note_refused(self) -> None:
        self._refused += 1
        now = time.monotonic()
        if now - self._logged_at >= REFUSAL_LOG_INTERVAL:
            log.warning(
                "closed %d connection(s) beyond the limit of %d open connections (--max-connections)",
                self._refused,
                self.max_connections,
            )
            self._refused, self._logged_at = 0, now


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, limits: ConnectionLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = limits
        self._header_deadline: asyncio.TimerHandle | None = None
        # Bytes received of the request head being parsed (from the read in which it began), None between its end
        # and the next request's first byte.
        self._head_bytes: int | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self._limits.max_connections:
            self._limits.note_refused()
            transport.close()
            return
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._head_bytes is None or self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if self._head_bytes > self._limits.max_header_bytes:
            log.warning("refused a request whose headers are over %d bytes", self._limits.max_header_bytes)
            self.send_400_response("Request headers too large.")

    # ---- parser callbacks ---------------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._head_bytes = None
        self._cancel_header_deadline()  # the app's body timeout takes over
        super().on_headers_complete()
        self.cycle.transport = _HeadWithBody(self.transport, self.cycle)  # type: ignore[assignment]

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self._handling_request():
            self._await_headers()  # also cuts off a client still trickling the body we refused

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    # ---- the header deadline ------------------------------------------------------------------------------------

    def _handling_request(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _await_headers(self) -> None:
        self._cancel_header_deadline()
        self._header_deadline = self.loop.call_later(self._limits.header_timeout, self._headers_too_late)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_late(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            log.debug(
                "closing a connection whose request headers did not arrive within %g s", self._limits.header_timeout
            )
            self.transport.close()


class _HeadWithBody:
    """The transport as one request's cycle sees it: the response head (the first write once the response has
    started; a `100 Continue` is written before) is held and written with the next write, the body's. A cycle that
    sends no body after its head closes the connection (uvicorn does so on an app error), so nothing waits here."""

    def __init__(self, transport: asyncio.Transport, cycle: RequestResponseCycle) -> None:
        self._transport, self._cycle = transport, cycle
        self._head: bytes | None = None
        self._head_written = False

    def write(self, data: bytes) -> None:
        if not self._head_written and self._cycle.response_started:
            if self._head is None:
                self._head = data
                return
            data, self._head_written = self._head + data, True
        self._transport.write(data)

    def close(self) -> None:
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

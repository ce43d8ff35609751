"""Limits on client connections, on top of uvicorn's h11 protocol.

uvicorn times a connection out only when it is idle after a response, and any byte the client sends stops that
timer: a client that connects and never finishes its request headers (slowloris) keeps its socket forever. Its
`limit_concurrency` answers 503 to requests beyond the limit but still accepts and keeps every socket, so a thousand
idle ones use up the file descriptors. Here a connection must complete its request headers within `header_timeout`
of opening (or of the previous response), and a connection beyond `max_connections` is closed once accepted.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

REFUSAL_LOG_INTERVAL = 60.0  # an attacker must not be able to fill the disk with our log lines


@dataclass
class ConnectionLimits:
    header_timeout: float
    max_connections: int
    _refused: int = field(default=0, init=False)
    _logged_at: float = field(default=float("-inf"), init=False)

    def protocol(self) -> Callable[..., asyncio.Protocol]:
        """The `http` protocol factory for uvicorn.Config."""
        return functools.partial(LimitedH11Protocol, limits=self)

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


class LimitedH11Protocol(H11Protocol):
    def __init__(self, *args: Any, limits: ConnectionLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = limits
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self._limits.max_connections:
            self._limits.note_refused()
            transport.close()
            return
        self._await_headers()

    def handle_events(self) -> None:
        super().handle_events()
        if self._handling_request():  # its headers are in; the app's body timeout takes over
            self._cancel_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self._handling_request():
            self._await_headers()  # also cuts off a client still trickling the body we refused

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

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

"""Injected answers: ``sim.inject(path_prefix, status, ...)`` makes the next ``times`` matching requests fail.

A prefix matches a request path directly (``/api/v1/tickets``) or relative to ``/api/v1`` (``/tickets``).
Status 0 drops the connection without an answer. Rules are consumed in the order they were added.

``hold(sim, path_prefix, seconds)`` adds a ``HoldRule``: the matching request gets no answer for up to ``seconds``
(pick more than the client's read timeout), then its connection is dropped. A hold ends early when the client asks
for a path the rule matches again (it gave up waiting and retried); ``rule.abandoned`` counts those, so a test can
tell a client that timed out from one that waited the whole hold. ``sim.clear_injections()`` ends every hold.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Optional

from .errors import Response, json_response

DEFAULT_CODES = {
    400: "INVALID_DATA",
    401: "INVALID_OAUTH",
    403: "FORBIDDEN",
    404: "URL_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    422: "UNPROCESSABLE_ENTITY",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
}


@dataclass
class InjectRule:
    path_prefix: str
    status: int
    error_code: Optional[str] = None
    times: int = 1
    retry_after: Optional[int] = None
    message: Optional[str] = None
    body: Optional[bytes] = None
    method: Optional[str] = None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        p = self.path_prefix
        return path.startswith(p) or (not p.startswith("/api/") and path.startswith("/api/v1" + p))

    def response(self) -> Response:
        if self.status == 0:
            return Response(0, drop=True)
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.body is not None:
            ctype = "text/html" if self.body.lstrip().startswith(b"<") else "application/json;charset=UTF-8"
            headers["Content-Type"] = ctype
            return Response(self.status, self.body, headers)
        if self.status == 204:
            return Response(204, b"", headers)
        code = self.error_code or DEFAULT_CODES.get(self.status, "INTERNAL_SERVER_ERROR")
        return json_response(
            self.status, {"errorCode": code, "message": self.message or f"Injected {self.status} {code}"}, headers
        )


@dataclass
class HoldRule(InjectRule):
    """No answer for up to ``hold`` seconds, then the connection is dropped (see the module docstring)."""

    hold: float = 30.0
    held: int = 0  # requests this rule held
    abandoned: int = 0  # holds ended early because the client asked again
    _waiting: list = field(default_factory=list)  # one Event per request being held

    def begin(self) -> threading.Event:
        self.held += 1
        released = threading.Event()
        self._waiting.append(released)
        return released

    def asked_again(self) -> None:
        for released in self._waiting:
            if not released.is_set():
                self.abandoned += 1
                released.set()

    def release_all(self) -> None:
        for released in self._waiting:
            released.set()


def hold(sim, path_prefix: str, seconds: float, times: int = 1, method: Optional[str] = None) -> HoldRule:
    """Hold the next ``times`` requests matching ``path_prefix`` for up to ``seconds``, then drop them."""
    rule = HoldRule(path_prefix, 0, times=times, method=method, hold=seconds)
    sim.injector.add(rule)
    return rule


class Injector:
    def __init__(self) -> None:
        self.rules: list = []
        self.lock = threading.Lock()
        self._holding: list = []  # HoldRules with a request held right now

    def add(self, rule: InjectRule) -> None:
        with self.lock:
            self.rules.append(rule)

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()
            for rule in self._holding:
                rule.release_all()

    def take(self, method: str, path: str) -> Optional[Response]:
        with self.lock:
            for holding in self._holding:
                if holding.matches(method, path):
                    holding.asked_again()
            for rule in self.rules:
                if rule.times > 0 and rule.matches(method, path):
                    rule.times -= 1
                    if rule.times <= 0:
                        self.rules.remove(rule)
                    if not isinstance(rule, HoldRule):
                        return rule.response()
                    released = rule.begin()
                    self._holding.append(rule)
                    break
            else:
                return None
        try:
            released.wait(rule.hold)  # outside the lock: other requests go on meanwhile
        finally:
            with self.lock:
                released.set()  # this request is over: a later request is no reason to count it abandoned
                self._holding.remove(rule)
        return Response(0, drop=True)

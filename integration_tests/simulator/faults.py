"""Injected answers: ``sim.inject(path_prefix, status, ...)`` makes the next ``times`` matching requests fail.

A prefix matches a request path directly (``/api/v1/tickets``) or relative to ``/api/v1`` (``/tickets``).
Status 0 drops the connection without an answer. Rules are consumed in the order they were added.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Optional

from .errors import Response, json_response

DEFAULT_CODES = {400: "INVALID_DATA", 401: "INVALID_OAUTH", 403: "FORBIDDEN", 404: "URL_NOT_FOUND",
                 405: "METHOD_NOT_ALLOWED", 422: "UNPROCESSABLE_ENTITY", 429: "TOO_MANY_REQUESTS",
                 500: "INTERNAL_SERVER_ERROR"}


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
        return json_response(self.status, {"errorCode": code,
                                           "message": self.message or f"Injected {self.status} {code}"}, headers)


class Injector:
    def __init__(self) -> None:
        self.rules: list = []
        self.lock = threading.Lock()

    def add(self, rule: InjectRule) -> None:
        with self.lock:
            self.rules.append(rule)

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def take(self, method: str, path: str) -> Optional[Response]:
        with self.lock:
            for rule in self.rules:
                if rule.times > 0 and rule.matches(method, path):
                    rule.times -= 1
                    if rule.times <= 0:
                        self.rules.remove(rule)
                    return rule.response()
        return None

"""Response values and Zoho-shaped errors.

Zoho Desk error bodies look like ``{"errorCode": "...", "message": "..."}``; 422 answers add
``errors: [{fieldName, errorType, errorMessage}]``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

JSON_TYPE = "application/json;charset=UTF-8"


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    drop: bool = False  # close the connection without answering


def json_response(status: int, payload: Any, headers: Optional[dict] = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    h = {"Content-Type": JSON_TYPE}
    h.update(headers or {})
    return Response(status, body, h)


def empty_response(status: int = 204) -> Response:
    return Response(status, b"", {})


class ApiError(Exception):
    """Raised by handlers; the gateway turns it into a JSON error response."""

    def __init__(
        self, status: int, error_code: str, message: str, errors: Optional[list] = None, headers: Optional[dict] = None
    ) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def to_response(self) -> Response:
        payload: dict = {"errorCode": self.error_code, "message": self.message}
        if self.errors:
            payload["errors"] = self.errors
        return json_response(self.status, payload, self.headers)


def unprocessable(
    field_name: str, message: str, error_type: str = "invalid", error_code: str = "UNPROCESSABLE_ENTITY"
) -> ApiError:
    return ApiError(
        422, error_code, message, [{"fieldName": field_name, "errorType": error_type, "errorMessage": message}]
    )


def not_found(message: str = "The requested resource does not exist.") -> ApiError:
    return ApiError(404, "URL_NOT_FOUND", message)


INVALID_OAUTH = ("INVALID_OAUTH", "The OAuth Token you provided is invalid.")

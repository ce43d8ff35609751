"""Reading and checking the body of one webhook delivery, before anything is stored."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Iterable

from starlette.requests import ClientDisconnect, Request

from .events import InvalidEvent, normalize_event


class Rejection(Exception):
    """A delivery we refuse: HTTP status, a metric reason, and a log detail without secrets."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail


async def read_body(request: Request, max_bytes: int, timeout: float) -> bytes:
    """The request body, refusing more than `max_bytes` as it streams in, or a body not in within `timeout`
    seconds (a client that never finishes its body would hold a connection and a worker).

    The timeout is one timer that cancels this task, as asyncio.timeout does (Python 3.11+; 3.10 is supported
    too): anyio's fail_after, a cancel scope per delivery, was a noticeable part of a delivery's CPU."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:  # early answer; the stream is still counted
        raise Rejection(413, "too_large", f"Content-Length {declared} over the {max_bytes} byte limit")
    chunks, size = [], 0
    task = asyncio.current_task()
    assert task is not None, "called from a request handler"
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = asyncio.get_running_loop().call_later(timeout, expire)
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise Rejection(413, "too_large", f"body over the {max_bytes} byte limit")
            chunks.append(chunk)
    except asyncio.CancelledError:
        if not expired:
            raise  # cancelled by someone else (a shutdown)
        if hasattr(task, "uncancel"):  # 3.11+: the cancellation was ours and is handled
            task.uncancel()
        raise Rejection(408, "body_timeout", f"body not complete after {timeout:g} s ({size} bytes)") from None
    except ClientDisconnect:  # nobody to answer: 499 (nginx's "client closed request") is for the log line only
        raise Rejection(499, "client_disconnected", f"the client left after {size} body bytes") from None
    finally:
        timer.cancel()
    return b"".join(chunks)


def parse_delivery(body: bytes, *, max_depth: int) -> list[dict[str, Any]]:
    """The normalized events of a delivery: a JSON array of events, or one event object."""
    try:
        data = _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))  # as json.loads(body, ...)
    except RecursionError:
        raise Rejection(400, "too_deep", "JSON nested deeper than the parser allows") from None
    except ValueError as exc:  # includes bad UTF-8, NaN/Infinity, 1e999 and over-long integers
        raise Rejection(400, "invalid_json", f"body is not JSON: {type(exc).__name__}") from None
    if json_depth(data) > max_depth:
        raise Rejection(400, "too_deep", f"JSON nested deeper than {max_depth}")
    items = data if isinstance(data, list) else [data]
    if not items:
        raise Rejection(400, "bad_shape", "empty event array")
    try:
        return [normalize_event(item) for item in items]
    except InvalidEvent as exc:
        raise Rejection(400, "bad_shape", str(exc)) from None


def json_depth(value: Any) -> int:
    """Nesting depth of arrays and objects (a scalar is 0, `[]` is 1); iterative, so no recursion limit."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return value


# One decoder for every delivery (json.loads with options builds a new one each call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)

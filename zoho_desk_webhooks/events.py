"""The shape of one Zoho Desk webhook event, and its dedupe key."""

from __future__ import annotations

import hashlib
import json
from typing import Any


class InvalidEvent(ValueError):
    """The event does not have the shape Zoho Desk sends."""


def normalize_event(raw: Any) -> dict[str, Any]:
    """Return the event reduced to the fields we store, or raise InvalidEvent.

    Zoho sends `eventTime` as epoch milliseconds in a string (ISO strings have been seen too), and
    `orgId` as a string; numbers are accepted for both and kept as strings so that one change
    always produces the same dedupe key.
    """
    if not isinstance(raw, dict):
        raise InvalidEvent("event is not a JSON object")
    event_type = raw.get("eventType")
    if not isinstance(event_type, str) or not event_type:
        raise InvalidEvent("eventType must be a non-empty string")
    org_id = _id_string(raw.get("orgId"), "orgId")
    event_time = _id_string(raw.get("eventTime"), "eventTime")
    payload = raw.get("payload")
    if not isinstance(payload, dict):
        raise InvalidEvent("payload must be a JSON object")
    prev_state = raw.get("prevState")
    if prev_state is not None and not isinstance(prev_state, dict):
        raise InvalidEvent("prevState must be a JSON object when present")
    event = {"eventType": event_type, "orgId": org_id, "eventTime": event_time, "payload": payload}
    if prev_state is not None:
        event["prevState"] = prev_state
    return event


def canonical_json(value: Any) -> str:
    # ASCII-only output: a lone surrogate from the JSON input stays a \u escape instead of
    # breaking UTF-8 encoding (hashing, PostgreSQL TEXT).
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def event_key(event: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a normalized event: a redelivery has the same key."""
    return hashlib.sha256(canonical_json(event).encode("utf-8")).hexdigest()


def _id_string(value: Any, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidEvent(f"{name} must be a string")
    text = str(value)
    if not text:
        raise InvalidEvent(f"{name} must not be empty")
    return text

"""The shape of one Zoho Desk webhook event, and its dedupe key."""

from __future__ import annotations

import hashlib
import json
from typing import Any, NamedTuple


class InvalidEvent(ValueError):
    """The event does not have the shape Zoho Desk sends."""


class EncodedEvent(NamedTuple):
    """A normalized event as the buffer stores it: its dedupe key and its columns' text."""

    key: str
    event_type: str
    event_time: str
    payload: str
    prev_state: str | None


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
    _storable(event_type, "eventType")
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


def encode_event(event: dict[str, Any]) -> EncodedEvent:
    """The stored form of a normalized event. The key is the sha256 of the canonical JSON of the whole event, built
    here from the payload's and the previous state's canonical text so that each is serialized once; sort_keys
    would order the fields the same way (eventTime, eventType, orgId, payload, prevState)."""
    payload = canonical_json(event["payload"])
    prev = event.get("prevState")
    prev_state = None if prev is None else canonical_json(prev)
    whole = (
        f'{{"eventTime":{canonical_json(event["eventTime"])},"eventType":{canonical_json(event["eventType"])},'
        f'"orgId":{canonical_json(event["orgId"])},"payload":{payload}'
        + ("}" if prev_state is None else f',"prevState":{prev_state}}}')
    )
    key = hashlib.sha256(whole.encode("ascii")).hexdigest()
    return EncodedEvent(key, event["eventType"], event["eventTime"], payload, prev_state)


# ASCII-only output: a lone surrogate from the JSON input stays a \u escape instead of breaking UTF-8 encoding
# (hashing, PostgreSQL TEXT). One encoder for every call: json.dumps with options builds a new one each time, which
# was a noticeable part of a delivery's CPU. Its output is json.dumps's with the same options.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), allow_nan=False)


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


def _id_string(value: Any, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidEvent(f"{name} must be a string")
    text = str(value)
    if not text:
        raise InvalidEvent(f"{name} must not be empty")
    return _storable(text, name)


def _storable(text: str, name: str) -> str:
    """The fields stored as plain text columns (the payloads are stored as ASCII JSON) must be text every database
    takes: PostgreSQL refuses NUL, and no driver encodes a lone surrogate. Refused here, so that such a delivery is a
    400 of its own instead of a failed commit of every delivery committed with it."""
    if "\x00" in text:
        raise InvalidEvent(f"{name} must not contain NUL")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidEvent(f"{name} must not contain unpaired surrogates") from None
    return text

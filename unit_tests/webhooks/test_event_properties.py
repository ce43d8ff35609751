"""Property tests of the webhook event parser: `delivery.parse_delivery`, `events.normalize_event`, `events.encode_event`.

* Any body (bytes, any JSON, JSON with lone surrogates, deep nesting, huge numbers) gives the normalized events or
  the documented rejection: `Rejection` with status 400 and reason invalid_json / too_deep / bad_shape. Nothing else.
* A valid event survives JSON encoding and parsing unchanged (after normalization), and normalizing is idempotent.
* The dedupe key ignores key order (top level, payload, prevState), number-vs-string `orgId`/`eventTime`, fields
  outside the event's shape and how the delivery was serialized or batched; so a redelivery has the same key, and the
  buffer stores it once. Any change to what the event says changes the key.

Examples per property: ZOHO_PROPERTY_EXAMPLES (default 150 in CI), e.g.
    ZOHO_PROPERTY_EXAMPLES=5000 .venv/bin/python -m pytest -p no:cacheprovider -q \
        unit_tests/webhooks/test_event_properties.py
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random

import pytest

hypothesis = pytest.importorskip("hypothesis")  # a dev tool: `pip install hypothesis`
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from zoho_desk_webhooks import open_buffer  # noqa: E402
from zoho_desk_webhooks.delivery import Rejection, json_depth, parse_delivery  # noqa: E402
from zoho_desk_webhooks.events import InvalidEvent, canonical_json, encode_event, normalize_event  # noqa: E402

MAX_DEPTH = 32  # the receiver's default
DOCUMENTED_REASONS = {"invalid_json", "too_deep", "bad_shape"}
EVENT_FIELDS = {"eventType", "orgId", "eventTime", "payload", "prevState"}
EXAMPLES = int(os.environ.get("ZOHO_PROPERTY_EXAMPLES", "150"))
checked = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---- strategies ---------------------------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=25,
)
objects = st.dictionaries(st.text(max_size=8), json_values, max_size=6)
digits = st.integers(min_value=1, max_value=10**19)
id_like = digits.map(str) | digits  # Zoho sends strings; numbers are accepted too

valid_events = st.fixed_dictionaries(
    {
        "eventType": st.sampled_from(["Ticket_Add", "Ticket_Update", "Ticket_Delete", "Department_Update"])
        | st.text(min_size=1, max_size=12).filter(lambda text: "\x00" not in text),  # NUL: see the test below
        "orgId": id_like,
        "eventTime": id_like | st.just("2024-05-01T10:00:00.000Z"),
        "payload": st.fixed_dictionaries(
            {"id": digits.map(str)}, optional={"subject": st.text(max_size=30), "cf": objects}
        )
        | objects,
    },
    optional={"prevState": objects},
)
# Event-shaped objects with every field possibly wrong: the parser must sort them into events and bad_shape.
event_like = st.fixed_dictionaries(
    {},
    optional={
        "eventType": json_values,
        "orgId": json_values,
        "eventTime": json_values,
        "payload": json_values,
        "prevState": json_values,
        "extra": json_values,
    },
)


def key_of(event):
    return encode_event(event).key


def body_of(value) -> bytes:
    return json.dumps(value).encode()


def shuffled(value, rng: random.Random):
    """The same JSON value with every object's keys in another order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: shuffled(child, rng) for key, child in items}
    if isinstance(value, list):
        return [shuffled(child, rng) for child in value]
    return value


def parse_or_rejection(body: bytes):
    try:
        return parse_delivery(body, max_depth=MAX_DEPTH)
    except Rejection as rejection:
        assert rejection.status == 400 and rejection.reason in DOCUMENTED_REASONS, (rejection.status, rejection.reason)
        return rejection


def assert_normalized(event) -> None:
    assert set(event) <= EVENT_FIELDS and set(event) >= EVENT_FIELDS - {"prevState"}
    assert isinstance(event["eventType"], str) and event["eventType"]
    assert isinstance(event["orgId"], str) and event["orgId"] and isinstance(event["eventTime"], str)
    assert isinstance(event["payload"], dict)
    assert isinstance(event.get("prevState", {}), dict)


# ---- never anything but the documented rejection ------------------------------------------------------------------


@checked
@given(st.binary(max_size=3000))
def test_any_bytes_are_events_or_a_documented_rejection(body):
    result = parse_or_rejection(body)
    if not isinstance(result, Rejection):
        for event in result:
            assert_normalized(event)


@checked
@given(json_values | st.lists(event_like, max_size=4) | event_like)
def test_any_json_is_events_or_a_documented_rejection(value):
    result = parse_or_rejection(body_of(value))
    if isinstance(result, Rejection):
        return
    items = value if isinstance(value, list) else [value]
    assert len(result) == len(items)
    for event in result:
        assert_normalized(event)
        key_of(event)  # hashable and encodable, whatever the strings hold


@checked
@given(st.lists(valid_events, min_size=1, max_size=3), st.data())
def test_broken_json_text_is_rejected_as_invalid_json_or_parsed(events, data):
    """Cut or corrupt a valid body anywhere: the answer is still events or a documented rejection."""
    body = bytearray(body_of(events))
    position = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    if data.draw(st.booleans()):
        body = body[:position]
    else:
        body[position] = data.draw(st.integers(min_value=0, max_value=255))
    parse_or_rejection(bytes(body))


@checked
@given(st.sampled_from(["\\ud800", "\\udfff", "\\ud83d", "\\u0000", "\\ufffe"]), st.booleans())
def test_lone_surrogates_and_nul_are_stored_or_rejected_not_crashing(escape, in_payload):
    """JSON may escape a lone surrogate or NUL. In a payload it is kept (stored as ASCII JSON, so the key hashes
    and every database takes it); in a field stored as plain text, a NUL (PostgreSQL refuses it) or a lone surrogate
    (no driver encodes it) is a 400 of its own delivery, never a failed commit of the deliveries batched with it."""
    text = f'"x{escape}y"'
    payload = f'{{"id": "1", "subject": {text}}}' if in_payload else '{"id": "1"}'
    event_type = '"Ticket_Update"' if in_payload else text
    body = f'[{{"eventType": {event_type}, "orgId": "1", "eventTime": "1", "payload": {payload}}}]'.encode()
    result = parse_or_rejection(body)
    if in_payload or escape == "\\ufffe":
        assert not isinstance(result, Rejection)
        assert len(key_of(result[0])) == 64
    else:
        assert isinstance(result, Rejection) and result.reason == "bad_shape"


@checked
@given(valid_events)
def test_the_key_is_the_sha256_of_the_canonical_event_json(event):
    """encode_event builds the key from the fields' canonical text: it must stay the key stored buffers hold."""
    normalized = normalize_event(event)
    encoded = encode_event(normalized)
    assert encoded.key == hashlib.sha256(canonical_json(normalized).encode("utf-8")).hexdigest()
    assert json.loads(encoded.payload) == normalized["payload"]
    assert (
        encoded.prev_state is None
        if "prevState" not in normalized
        else json.loads(encoded.prev_state) == normalized["prevState"]
    )


@checked
@given(st.integers(min_value=0, max_value=3 * MAX_DEPTH), st.sampled_from(["[", '{"a":']))
def test_nesting_is_refused_exactly_beyond_the_depth_limit(extra, opener):
    closer = "]" if opener == "[" else "}"
    inner = opener * extra + "1" + closer * extra
    body = f'[{{"eventType": "T", "orgId": "1", "eventTime": "1", "payload": {{"deep": {inner}}}}}]'.encode()
    depth = 3 + extra  # array, event, payload, then the nested containers
    result = parse_or_rejection(body)
    if depth > MAX_DEPTH:
        assert isinstance(result, Rejection) and result.reason == "too_deep"
    else:
        assert not isinstance(result, Rejection) and json_depth(result) == depth


# ---- valid events round-trip ----------------------------------------------------------------------------------------


@checked
@given(st.lists(valid_events, min_size=1, max_size=4))
def test_valid_events_round_trip_through_a_delivery(events):
    expected = [normalize_event(event) for event in events]
    assert parse_delivery(body_of(events), max_depth=10_000) == expected
    assert [normalize_event(event) for event in expected] == expected, "normalizing twice changes nothing"
    for event, raw in zip(expected, events, strict=True):
        assert event["payload"] == raw["payload"] and event.get("prevState") == raw.get("prevState")
        assert event["orgId"] == str(raw["orgId"]) and event["eventTime"] == str(raw["eventTime"])


@checked
@given(valid_events)
def test_a_single_event_object_is_the_same_delivery_as_an_array_of_it(event):
    assert parse_delivery(body_of(event), max_depth=10_000) == parse_delivery(body_of([event]), max_depth=10_000)


@checked
@given(json_values)
def test_normalize_event_raises_only_invalid_event(value):
    try:
        normalized = normalize_event(value)
    except InvalidEvent:
        return
    assert_normalized(normalized)


# ---- the dedupe key ------------------------------------------------------------------------------------------------


@checked
@given(valid_events, st.randoms(use_true_random=False))
def test_the_key_ignores_key_order(event, rng):
    assert key_of(normalize_event(shuffled(event, rng))) == key_of(normalize_event(event))


@checked
@given(valid_events, st.booleans(), st.booleans())
def test_the_key_ignores_number_vs_string_org_and_time(event, org_as_number, time_as_number):
    def as_digits(value, number):
        text = str(value)
        return int(text) if number and text.isdigit() else text

    retyped = {
        **event,
        "orgId": as_digits(event["orgId"], org_as_number),
        "eventTime": as_digits(event["eventTime"], time_as_number),
    }
    assert key_of(normalize_event(retyped)) == key_of(normalize_event(event))


@checked
@given(valid_events, objects)
def test_the_key_ignores_fields_outside_the_event_shape(event, extra):
    """A redelivery that adds delivery metadata (an attempt number, a webhook id) is still the same event."""
    decorated = {**{k: v for k, v in extra.items() if k not in EVENT_FIELDS}, **event}
    assert key_of(normalize_event(decorated)) == key_of(normalize_event(event))


@checked
@given(valid_events, st.lists(valid_events, max_size=3), st.booleans(), st.integers(min_value=0, max_value=4))
def test_a_redelivery_has_the_same_key_however_it_is_serialized_or_batched(event, others, ascii_only, indent):
    """Zoho may resend an event alone or with others, formatted differently: every copy parses to the same key."""
    first = parse_delivery(body_of([event]), max_depth=10_000)[0]
    batch = others + [event]
    text = json.dumps(batch, ensure_ascii=ascii_only, indent=indent or None)
    resent = parse_delivery(text.encode(), max_depth=10_000)[-1]
    assert key_of(resent) == key_of(first)


@checked
@given(valid_events, st.sampled_from(["eventType", "orgId", "eventTime", "payload", "prevState"]))
def test_any_change_to_what_the_event_says_changes_the_key(event, field):
    changed = dict(event)
    if field in ("payload", "prevState"):
        changed[field] = {**(event.get(field) or {}), "__changed__": True}
    else:
        changed[field] = f"{event[field]}0"
    assert key_of(normalize_event(changed)) != key_of(normalize_event(event))


# ---- the buffer stores a redelivery once ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def property_buffer(tmp_path_factory):
    with open_buffer(f"sqlite:///{tmp_path_factory.mktemp('properties')}/buffer.db") as buffer:
        yield buffer


FRESH_ORGS = itertools.count(1)


@settings(
    max_examples=max(20, EXAMPLES // 5),
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(valid_events, min_size=1, max_size=4), st.randoms(use_true_random=False), st.booleans())
def test_the_buffer_stores_a_redelivered_batch_once(property_buffer, events, rng, org_as_number):
    """However the redelivery reorders keys, retypes the org id or regroups events, nothing is stored twice."""
    org = str(next(FRESH_ORGS))
    events = [{**event, "orgId": org} for event in events]
    distinct = {key_of(normalize_event(event)) for event in events}
    assert property_buffer.append(org, events) == len(distinct)
    head = property_buffer.head_position(org)
    redelivery = [{**shuffled(event, rng), "orgId": int(org) if org_as_number else org} for event in reversed(events)]
    assert property_buffer.append(org, redelivery) == 0
    assert property_buffer.head_position(org) == head == len(distinct)

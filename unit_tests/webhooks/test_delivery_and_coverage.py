"""Pure helpers: delivery parsing, JSON depth, coverage arithmetic, event normalization, pending refusals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from zoho_desk_webhooks import refusals
from zoho_desk_webhooks.coverage import uncovered
from zoho_desk_webhooks.delivery import Rejection, json_depth, parse_delivery
from zoho_desk_webhooks.events import InvalidEvent, encode_event, normalize_event

from .conftest import ORG, make_event

T = datetime(2024, 1, 1, tzinfo=timezone.utc)


def key_of(event):
    return encode_event(event).key


def minutes(n):
    return T + timedelta(minutes=n)


@pytest.mark.parametrize(
    "covered, gaps",
    [
        ([], [(0, 60)]),
        ([(0, 60)], []),
        ([(-10, 70)], []),
        ([(10, 20)], [(0, 10), (20, 60)]),
        ([(30, 40), (10, 20), (15, 35)], [(0, 10), (40, 60)]),  # unsorted, overlapping
        ([(10, 20), (20, 30)], [(0, 10), (30, 60)]),  # touching
        ([(-5, 5), (55, 65)], [(5, 55)]),
        ([(70, 80), (-20, -10)], [(0, 60)]),  # all outside
    ],
)
def test_uncovered(covered, gaps):
    as_times = [(minutes(a), minutes(b)) for a, b in covered]
    assert uncovered(minutes(0), minutes(60), as_times) == [(minutes(a), minutes(b)) for a, b in gaps]


def test_json_depth():
    assert json_depth(1) == 0
    assert json_depth([]) == 1
    assert json_depth([{"payload": {"a": [1]}}]) == 4
    deep: list = []
    node = deep
    for _ in range(5000):  # deeper than Python's recursion limit: the walk is iterative
        node.append([])
        node = node[0]
    assert json_depth(deep) == 5001


def test_parse_delivery_accepts_arrays_and_single_objects():
    assert parse_delivery(json.dumps([make_event(1), make_event(2)]).encode(), max_depth=32)[1]["payload"]["id"] == "2"
    assert len(parse_delivery(json.dumps(make_event(1)).encode(), max_depth=32)) == 1


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"", "invalid_json"),
        (b"[1,", "invalid_json"),
        (b"Infinity", "invalid_json"),
        (b'"just a string"', "bad_shape"),
        (b"[[[[[[]]]]]]", "too_deep"),
    ],
)
def test_parse_delivery_rejections(body, reason):
    with pytest.raises(Rejection) as caught:
        parse_delivery(body, max_depth=5)
    assert caught.value.reason == reason and caught.value.status == 400


def test_normalize_event_keeps_stable_types():
    numeric = normalize_event(
        {"eventType": "Ticket_Add", "orgId": int(ORG), "eventTime": 1700000000000, "payload": {}, "extra": "dropped"}
    )
    textual = normalize_event({"eventType": "Ticket_Add", "orgId": ORG, "eventTime": "1700000000000", "payload": {}})
    assert numeric == textual and key_of(numeric) == key_of(textual)
    for bad in [
        [],
        {"eventType": "", "orgId": ORG, "eventTime": "1", "payload": {}},
        {"eventType": "X", "orgId": True, "eventTime": "1", "payload": {}},
        {"eventType": "X", "orgId": ORG, "eventTime": "1", "payload": []},
        {"eventType": "X", "orgId": ORG, "eventTime": "1", "payload": {}, "prevState": "x"},
    ]:
        with pytest.raises(InvalidEvent):
            normalize_event(bad)


def test_pending_refusals_keep_the_first_and_last_of_each_and_merge_unknown_tokens_past_the_cap(monkeypatch):
    monkeypatch.setattr(refusals, "MAX_UNRESOLVED", 2)
    pending = refusals.PendingRefusals()
    for n in (5, 1, 3):
        pending.add("known", "org-1", "jwks_unavailable", minutes(n))
    pending.add("known", "org-1", "buffer_unavailable", minutes(4))
    for n, token in enumerate(["u1", "u2", "u3", "u4", "u1"]):
        pending.add(token, None, "buffer_unavailable", minutes(10 + n))
    taken = [(r.token_sha256, r.org_id, r.reason, r.times) for r in pending.take()]
    assert taken == [
        ("known", "org-1", "jwks_unavailable", [minutes(1), minutes(5)]),
        ("known", "org-1", "buffer_unavailable", [minutes(4)]),
        ("u1", None, "buffer_unavailable", [minutes(10), minutes(14)]),
        ("u2", None, "buffer_unavailable", [minutes(11)]),
        (None, None, "buffer_unavailable", [minutes(12), minutes(13)]),  # u3 and u4: any endpoint's
    ]
    assert pending.take() == []

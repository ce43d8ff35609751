"""The connector's read path against the simulator with injected faults.

Each case ends in one of two ways, and nothing else is accepted:
* the records equal the simulator's store exactly: 0 missing, 0 duplicated, 0 stale ids; or
* (where the case allows it) a clear error, i.e. a sentence about Zoho rather than the CDK's generic "Something went
  wrong in the connector", and the next sync (faults gone) resumes from the saved state and is exact.

Paths covered: full refresh of tickets (page 2 of a two-page list, with `fields` chunks) and departments; the
webhook incremental drain's fetch by id (`GET /tickets/{id}` for a partial event payload) and its recycle-bin read
(`GET /recycleBin`, during a healing sync forced by a recorded refusal), both through `DeskClient`.

Time is compressed, not asserted: waits the client asks for (backoff, Retry-After) are recorded and cut to 10 ms by
the `compressed_waits` fixture, and for the read-timeout cases every read timeout the client sets is cut to
CLIENT_READ_TIMEOUT seconds, while the simulator holds the answer HOLD_SECONDS (faults.hold). A client that set no
read timeout waits out the whole hold; the case then fails on `rule.abandoned`, a count of holds the client gave up
on, not on a clock.
"""

from __future__ import annotations

import copy
import itertools
import time
import types
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import pytest
import requests
from airbyte_cdk.models import AirbyteStateMessage, SyncMode, Type
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read

from integration_tests.simulator import ZohoDeskSimulator
from integration_tests.simulator.faults import hold
from integration_tests.webhook_harness import COMPARED_FIELDS, STREAMS, WebhookRig, store_view
from source_zoho_desk.source import SourceZohoDesk

CLIENT_READ_TIMEOUT = 1.5
HOLD_SECONDS = 20.0
TICKETS_LIST = "/api/v1/tickets/search"  # the tickets snapshot pages the search in createdTime windows
GENERIC_FAILURE = "Something went wrong in the connector"


# ---- time compression ---------------------------------------------------------------------------------------------


@dataclass
class Waits:
    asked: List[float] = field(default_factory=list)  # every wait the client asked for, in seconds


@pytest.fixture(autouse=True)
def compressed_waits(monkeypatch) -> Waits:
    """The CDK's retry waits (its rate-limit handler and the backoff library) and the connector's own sleeps go
    through `time.sleep` of their modules: record each wait, sleep 10 ms instead."""
    import backoff._sync
    from airbyte_cdk.sources.streams.http import rate_limiting

    import source_zoho_desk.desk_client as desk_client

    waits = Waits()

    def sleep(seconds: float) -> None:
        waits.asked.append(seconds)
        time.sleep(min(seconds, 0.01))

    fast = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("__")})
    fast.sleep = sleep
    for module in (rate_limiting, backoff._sync, desk_client):
        if hasattr(module, "time"):
            monkeypatch.setattr(module, "time", fast)
    return waits


@pytest.fixture
def short_read_timeouts(monkeypatch) -> None:
    """Every read timeout a client sets becomes CLIENT_READ_TIMEOUT; a client that sets none still has none."""
    original = requests.adapters.HTTPAdapter.send

    def send(self, request, stream=False, timeout=None, **kwargs):
        if isinstance(timeout, tuple):
            connect, read_timeout = timeout
            timeout = (connect, None if read_timeout is None else min(read_timeout, CLIENT_READ_TIMEOUT))
        elif isinstance(timeout, (int, float)):
            timeout = (timeout, min(timeout, CLIENT_READ_TIMEOUT))
        return original(self, request, stream=stream, timeout=timeout, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)


def as_params(faults: list) -> list:
    return [
        pytest.param(f, id=f.name, marks=[pytest.mark.xfail(strict=True, reason=f.xfail)] if f.xfail else [])
        for f in faults
    ]


# ---- judging ------------------------------------------------------------------------------------------------------


def error_messages(output: EntrypointOutput) -> List[str]:
    return [m.trace.error.message for m in output.errors]


def assert_clear_error(output: EntrypointOutput) -> None:
    messages = error_messages(output)
    assert messages, "the read failed without an error message"
    vague = [m for m in messages if m.startswith(GENERIC_FAILURE) or "Traceback" in m]
    internal = [m.trace.error.internal_message for m in output.errors]
    assert not vague, f"the error does not say what went wrong: {messages} (internal: {internal})"


def mismatches(
    expected: Dict[str, tuple], records: List[Dict[str, Any]], stream: str, may_be_gone: frozenset = frozenset()
) -> Dict[str, list]:
    counts = Counter(str(r["id"]) for r in records)
    got = {str(r["id"]): tuple(r.get(f) for f in COMPARED_FIELDS[stream]) for r in records}
    return {
        "missing": sorted(set(expected) - set(counts)),
        "duplicated": sorted(i for i, n in counts.items() if n > 1),
        "extra": sorted(set(counts) - set(expected) - may_be_gone),
        "stale": sorted(i for i in set(expected) & set(got) if expected[i] != got[i]),
    }


def assert_exact_full_refresh(
    sim: ZohoDeskSimulator, output: EntrypointOutput, streams=("tickets",), may_be_gone: frozenset = frozenset()
) -> None:
    assert not output.errors, f"the read failed: {error_messages(output)}"
    for stream in streams:
        records = [m.record.data for m in output.records if m.record.stream == stream]
        wrong = {
            kind: ids[:5]
            for kind, ids in mismatches(store_view(sim, stream), records, stream, may_be_gone).items()
            if ids
        }
        assert not wrong, f"{stream}: {wrong} (of {len(sim.store[stream])} in the store, {len(records)} emitted)"


def assert_fault_was_hit(sim: ZohoDeskSimulator, arranged: Any, output: EntrypointOutput) -> None:
    """The read met the fault: a mid-read hook ran (it returns the list of what it did), and unless the read failed
    (then it met the fault), every injected answer was given."""
    if isinstance(arranged, list):
        assert arranged, "the read never reached the fault's request"
    assert output.errors or not sim.injector.rules, f"faults never served: {sim.injector.rules}"


# ---- full refresh ---------------------------------------------------------------------------------------------------


@pytest.fixture
def sim():
    with ZohoDeskSimulator(
        seed=31, tickets=120, departments=4, products=1, contracts=1, contacts=6, accounts=3, agents=3
    ) as simulator:
        yield simulator


def read_full_refresh(sim: ZohoDeskSimulator, *streams: str) -> EntrypointOutput:
    builder = CatalogBuilder()
    for stream in streams:
        builder.with_stream(stream, SyncMode.full_refresh)
    catalog = builder.build()
    config = sim.config()
    return read(SourceZohoDesk(config=config, catalog=catalog), config, catalog)


def on_page_two(sim: ZohoDeskSimulator, action: Callable[[], Any], path: str = TICKETS_LIST) -> List[Any]:
    """Run `action` once, just before the first request for a later page of `path` is served (mid-read)."""
    done: List[Any] = []

    def hook(method: str, request_path: str, query: dict) -> None:
        if not done and method == "GET" and request_path == path and str(query.get("from", "0")) not in ("0", ""):
            done.append(action())

    sim.before_request(hook)
    return done


def inject(*args: Any, **kwargs: Any) -> Callable[[ZohoDeskSimulator], Any]:
    return lambda sim: sim.inject(*args, **kwargs)


@dataclass
class FullRefreshFault:
    name: str
    arrange: Callable[[ZohoDeskSimulator], Any]  # sets the fault up; what it returns goes to `check`
    error_allowed: bool = False  # a clear error (and an exact read once the fault is gone) is fine too
    streams: tuple = ("tickets",)
    check: Optional[Callable[[Any, ZohoDeskSimulator, Waits], None]] = None
    xfail: Optional[str] = None  # why this case fails today


def mid_read(*args: Any, **kwargs: Any) -> Callable[[ZohoDeskSimulator], Any]:
    """Inject the fault for the next matching requests from page 2 of the tickets list on."""
    return lambda sim: on_page_two(sim, lambda: sim.inject(*args, **kwargs))


def expire_tokens_mid_read(sim):
    on_page_two(sim, sim.expire_access_tokens)


def spend_credits_mid_read(sim):
    on_page_two(sim, lambda: setattr(sim.settings, "credits_remaining", 0))


def hold_page_two(sim):
    return on_page_two(sim, lambda: hold(sim, TICKETS_LIST, HOLD_SECONDS))


def hold_departments(sim):
    return [hold(sim, "/api/v1/departments", HOLD_SECONDS)]


def creates_and_deletes_between_pages(sim):
    early = sorted(sim.store["tickets"].values(), key=lambda t: (t["createdTime"], int(t["id"])))[:4]
    gone = frozenset(t["id"] for t in early)

    def mutate():
        for ticket in early:
            sim.delete_ticket(ticket["id"])
        return [sim.create_ticket(subject=f"created while paging {n}")["id"] for n in range(3)]

    return gone, on_page_two(sim, mutate)


def the_client_gave_up_on_the_held_request(held, sim, waits):
    rules = [rule for rule in held if rule is not None]
    assert rules and rules[0].held == 1, "the held request was made"
    assert rules[0].abandoned == 1, (
        f"the client waited out the whole {HOLD_SECONDS:g} s hold instead of timing out "
        "and asking again: it sets no read timeout"
    )


def retry_after_was_honoured(_, sim, waits):
    assert any(wait >= 1 for wait in waits.asked), f"the client did not wait the Retry-After of 1 s: {waits.asked}"


def daily_credits_message(output: EntrypointOutput) -> None:
    assert any("credits" in message.lower() for message in error_messages(output)), error_messages(output)


HTML = b"<html><head><title>502</title></head><body>Zoho Desk is under maintenance</body></html>"
FULL_REFRESH_FAULTS = [
    FullRefreshFault("401-invalid-oauth-mid-read", mid_read(TICKETS_LIST, 401, "INVALID_OAUTH")),
    FullRefreshFault("access-token-expired-mid-read", expire_tokens_mid_read),
    FullRefreshFault(
        "429-too-many-requests-with-retry-after",
        mid_read(TICKETS_LIST, 429, "TOO_MANY_REQUESTS", times=2, retry_after=1),
        check=retry_after_was_honoured,
    ),
    FullRefreshFault("429-too-many-requests-without-retry-after", mid_read(TICKETS_LIST, 429, "TOO_MANY_REQUESTS")),
    FullRefreshFault(
        "429-threshold-exceeded-short-retry-after",
        mid_read(TICKETS_LIST, 429, "THRESHOLD_EXCEEDED", retry_after=1),
        check=retry_after_was_honoured,
    ),
    FullRefreshFault("daily-credits-spent-mid-read", spend_credits_mid_read, error_allowed=True),
    FullRefreshFault("5xx-burst", mid_read(TICKETS_LIST, 500, times=3)),
    FullRefreshFault("502-with-html-body", mid_read(TICKETS_LIST, 502, body=HTML, times=2)),
    FullRefreshFault("503-on-departments", inject("/api/v1/departments", 503, times=2), streams=("departments",)),
    FullRefreshFault("connection-reset-mid-read", mid_read(TICKETS_LIST, 0, times=2)),
    FullRefreshFault("connection-reset-on-field-definitions", inject("/api/v1/fields", 0)),
    FullRefreshFault("read-timeout-mid-read", hold_page_two, check=the_client_gave_up_on_the_held_request),
    FullRefreshFault(
        "read-timeout-on-departments",
        hold_departments,
        streams=("departments",),
        check=the_client_gave_up_on_the_held_request,
    ),
    FullRefreshFault(
        "truncated-json-with-200", mid_read(TICKETS_LIST, 200, body=b'{"data": [{"id": "1'), error_allowed=True
    ),
    FullRefreshFault("html-with-200", mid_read(TICKETS_LIST, 200, body=HTML), error_allowed=True),
    FullRefreshFault("204-in-the-middle-of-the-list", mid_read(TICKETS_LIST, 204), error_allowed=True),
]


@pytest.mark.parametrize("fault", as_params(FULL_REFRESH_FAULTS))
def test_full_refresh_through_a_fault(sim, fault, compressed_waits, short_read_timeouts):
    arranged = fault.arrange(sim)
    output = read_full_refresh(sim, *fault.streams)
    print(f"{fault.name}: {'failed: ' + '; '.join(error_messages(output)) if output.errors else 'read through it'}")
    assert_fault_was_hit(sim, arranged, output)
    if output.errors and fault.error_allowed:
        assert_clear_error(output)
        if fault.name.startswith("daily-credits"):
            daily_credits_message(output)
        sim.clear_injections()
        sim.request_hooks.clear()
        sim.settings.credits_remaining = sim.settings.credits_per_day  # the daily reset
        output = read_full_refresh(sim, *fault.streams)
    assert_exact_full_refresh(sim, output, fault.streams)
    if fault.check:
        fault.check(arranged, sim, compressed_waits)


def test_full_refresh_while_tickets_are_created_and_deleted_between_pages(sim):
    """A full refresh is not a point-in-time copy: a ticket deleted after its page was read may be emitted; every
    surviving ticket (the new ones included) is emitted exactly once and current."""
    gone, created = creates_and_deletes_between_pages(sim)
    output = read_full_refresh(sim, "tickets")
    assert created and len(created[0]) == 3, "the mutations ran between the pages"
    assert_exact_full_refresh(sim, output, may_be_gone=gone)


# ---- webhook incremental drain: fetch by id and the recycle bin ------------------------------------------------------


@pytest.fixture(scope="module")
def drained(tmp_path_factory):
    """One rig for the module (faults are per request, the buffer's contents carry over): a small org, SQLite."""
    workdir = tmp_path_factory.mktemp("fault-matrix")
    with ZohoDeskSimulator(
        seed=37, tickets=30, departments=3, products=1, contracts=1, contacts=4, accounts=2, agents=2
    ) as simulator:
        simulator.settings.tokens_per_refresh_window = 1000  # dozens of syncs share one refresh token here
        rig = WebhookRig(simulator, f"sqlite:///{workdir}/buffer.db", workdir)
        try:
            rig.sync()
            rig.assert_exact()
            yield rig
        finally:
            rig.close()


@pytest.fixture
def rig(drained):
    drained.sim.clear_injections()
    drained.sim.request_hooks.clear()
    yield drained
    drained.sim.clear_injections()
    drained.sim.request_hooks.clear()
    drained.sim.settings.credits_remaining = drained.sim.settings.credits_per_day
    try:
        drained.assert_exact()
    except AssertionError:  # a failed (or xfailed) case left the destination off: heal it for the next case
        drained.buffer.record_refusal(drained.sim.org_id, "buffer_unavailable")
        drained.sync()
        drained.assert_exact()


def sync_allowing_failure(rig: WebhookRig) -> EntrypointOutput:
    """`rig.sync()`, except that a failed sync is returned: the states it did emit are kept, as the platform keeps
    them, and its records reach the destination (they were sent)."""
    rig.sim.reset_requests()
    state = rig.state or None
    source = SourceZohoDesk(config=copy.deepcopy(rig.config), catalog=rig.catalog, state=state)
    output = read(source, copy.deepcopy(rig.config), rig.catalog, state)
    for message in output.get_message_by_types([Type.CONTROL]):
        rig.config = {**message.control.connectorConfig.config, "webhook_buffer_url": rig.buffer_url}
    finals: Dict[str, AirbyteStateMessage] = {m.stream.stream_descriptor.name: m for m in rig.state}
    for message in output.state_messages:
        finals[message.state.stream.stream_descriptor.name] = message.state
    rig.state = list(finals.values())
    rig.destination.apply((m.record.stream, m.record.data) for m in output.records)
    return output


def drain_through(rig: WebhookRig, error_allowed: bool, arranged: Any) -> EntrypointOutput:
    """A sync with the fault, then (if it failed clearly) a sync without it; the destination must end exact."""
    output = sync_allowing_failure(rig)
    print(f"{'failed: ' + '; '.join(error_messages(output)) if output.errors else 'synced through it'}")
    assert_fault_was_hit(rig.sim, arranged, output)
    if output.errors:
        assert error_allowed, f"the sync failed: {error_messages(output)}"
        assert_clear_error(output)
        assert {m.stream.stream_descriptor.name for m in rig.state} == set(STREAMS), "no state to resume from"
        rig.sim.clear_injections()
        rig.sim.settings.credits_remaining = rig.sim.settings.credits_per_day
        resumed = rig.sync()
        assert not resumed.output.errors
    rig.assert_exact()
    return output


TICKET_TURNS = itertools.count()


def now_ms() -> str:
    return str(int(time.time() * 1000))


def slim_ticket_event(rig: WebhookRig, subject: str) -> str:
    """Zoho changes a ticket and sends a partial payload: the drain must fetch the ticket by id."""
    sim = rig.sim
    with sim.lock:
        ticket = sorted(sim.store["tickets"])[next(TICKET_TURNS) % len(sim.store["tickets"])]
    sim.update_ticket(ticket, subject=subject, status="On Hold")
    with sim.hub.cond:
        sim.hub.pending.clear()
    event = {
        "eventType": "Ticket_Update",
        "orgId": sim.org_id,
        "eventTime": now_ms(),
        "payload": {"id": ticket, "subject": subject},
    }
    assert rig.post([event]).json() == {"stored": 1, "duplicates": 0}
    return ticket


def lost_delete_and_a_refusal(rig: WebhookRig) -> str:
    """A ticket is deleted, its Ticket_Delete never arrives, and the receiver recorded a refused delivery: the next
    sync heals by snapshot, and only the recycle bin can tell it about the delete."""
    sim = rig.sim
    with sim.lock:
        ticket = sorted(sim.store["tickets"])[-1]
    sim.delete_ticket(ticket)
    with sim.hub.cond:
        sim.hub.pending.clear()
    rig.buffer.record_refusal(sim.org_id, "buffer_unavailable")
    return ticket


@dataclass
class DrainFault:
    name: str
    fault: Callable[[ZohoDeskSimulator, str], Any]  # (simulator, request path) -> arranged fault
    error_allowed: bool = False
    check: Optional[Callable[[Any, ZohoDeskSimulator, Waits], None]] = None
    xfail: Optional[str] = None  # why this case fails today


def injected(*args: Any, **kwargs: Any) -> Callable[[ZohoDeskSimulator, str], Any]:
    return lambda sim, path: sim.inject(path, *args, **kwargs)


def held(sim: ZohoDeskSimulator, path: str) -> List[Any]:
    return [hold(sim, path, HOLD_SECONDS)]


def credits_spent(sim: ZohoDeskSimulator, path: str) -> None:
    sim.settings.credits_remaining = 0


DRAIN_FAULTS = [
    DrainFault("401-invalid-oauth", injected(401, "INVALID_OAUTH")),
    DrainFault("access-token-expired", lambda sim, path: sim.expire_access_tokens()),
    DrainFault(
        "429-too-many-requests-with-retry-after",
        injected(429, "TOO_MANY_REQUESTS", retry_after=1, times=2),
        check=retry_after_was_honoured,
    ),
    DrainFault("429-too-many-requests-without-retry-after", injected(429, "TOO_MANY_REQUESTS")),
    DrainFault(
        "429-threshold-exceeded-short-retry-after",
        injected(429, "THRESHOLD_EXCEEDED", retry_after=1),
        check=retry_after_was_honoured,
    ),
    DrainFault("daily-credits-spent", credits_spent, error_allowed=True),
    DrainFault("5xx-burst", injected(500, times=3)),
    DrainFault("502-with-html-body", injected(502, body=HTML, times=2)),
    DrainFault("connection-reset", injected(0, times=2)),
    DrainFault("read-timeout", held, check=the_client_gave_up_on_the_held_request),
    DrainFault("truncated-json-with-200", injected(200, body=b'{"id": "1'), error_allowed=True),
    DrainFault("html-with-200", injected(200, body=HTML), error_allowed=True),
    DrainFault("204-instead-of-the-record", injected(204), error_allowed=True),
]
RECYCLE_BIN_FAULTS = [
    f
    for f in DRAIN_FAULTS
    if f.name
    in {
        "401-invalid-oauth",
        "429-too-many-requests-with-retry-after",
        "5xx-burst",
        "connection-reset",
        "read-timeout",
        "truncated-json-with-200",
        "html-with-200",
    }
]


@pytest.mark.parametrize("fault", as_params(DRAIN_FAULTS))
def test_drain_fetch_by_id_through_a_fault(rig, fault, compressed_waits, short_read_timeouts):
    ticket = slim_ticket_event(rig, subject=f"only the API has it ({fault.name})")
    arranged = fault.fault(rig.sim, f"/api/v1/tickets/{ticket}")
    output = drain_through(rig, fault.error_allowed, arranged)
    assert rig.destination.rows("tickets")[ticket]["subject"] == f"only the API has it ({fault.name})"
    if fault.check and not output.errors:
        fault.check(arranged, rig.sim, compressed_waits)


@pytest.mark.parametrize("fault", as_params(RECYCLE_BIN_FAULTS))
def test_healing_reads_the_recycle_bin_through_a_fault(rig, fault, compressed_waits, short_read_timeouts):
    ticket = lost_delete_and_a_refusal(rig)
    arranged = fault.fault(rig.sim, "/api/v1/recycleBin")
    output = drain_through(rig, fault.error_allowed, arranged)
    assert ticket not in rig.destination.rows("tickets"), "the delete only the recycle bin knows was applied"
    if fault.check and not output.errors:
        fault.check(arranged, rig.sim, compressed_waits)

"""Zoho caps concurrent requests per portal (5 on Free) and shares the cap with every integration: with more
`num_workers` than the portal allows, a read lowers its concurrency after the first 429 TOO_MANY_REQUESTS instead of
having every worker retry into the same wall, and still reads everything."""

from __future__ import annotations

from collections import Counter

from airbyte_cdk.test.entrypoint_wrapper import read

from integration_tests.reads import catalog_of
from integration_tests.simulator import ZohoDeskSimulator
from source_zoho_desk.source import SourceZohoDesk

STREAMS = ("tickets", "contacts", "tasks", "ticket_threads")


def test_a_read_with_more_workers_than_the_portal_allows_settles_below_its_limit():
    with ZohoDeskSimulator(seed=7, tickets=120) as sim:
        full = _read(sim, _source(sim, num_workers=1))
        sim.settings.max_concurrency = 2
        sim.settings.latency = 0.02  # requests overlap, as on a real network
        before = len(sim.desk_requests())
        source = _source(sim, num_workers=8)
        output = _read(sim, source)
        refused = [r for r in sim.desk_requests()[before:] if r.status == 429]
        answered = [r for r in sim.desk_requests()[before:] if r.status != 429]

    assert not output.errors, [e.trace.error.message for e in output.errors]
    assert Counter(m.record.stream for m in output.records) == Counter(m.record.stream for m in full.records)
    assert refused, "the portal's limit was reached (the test would show nothing otherwise)"
    # The first refusal drops the limit below the requests then in flight (at most 8 - 1); it is probed upwards by
    # one only after 20 successes per slot, so from 2 these answers cannot carry it past 4.
    assert len(answered) < 20 * (2 + 3 + 4)
    assert source.connector_config.slots.limit <= 4, (source.connector_config.slots.limit, len(refused))


def _source(sim, **config):
    return SourceZohoDesk(config=sim.config(**config), catalog=catalog_of(STREAMS))


def _read(sim, source):
    return read(source, dict(source.connector_config), catalog_of(STREAMS))

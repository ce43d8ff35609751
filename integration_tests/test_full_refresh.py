"""Full refresh of all five streams from the simulator: exact counts, no duplicates, schemas hold, few credits."""

from __future__ import annotations

import re
from collections import Counter

import jsonschema
import pytest
from airbyte_cdk.test.entrypoint_wrapper import discover

from integration_tests.reads import read_streams, records_by_stream
from source_zoho_desk.source import SourceZohoDesk

STREAMS = ["tickets", "departments", "products", "contracts", "organization_fields"]
MODULES = [
    "tickets",
    "contacts",
    "accounts",
    "tasks",
    "calls",
    "events",
    "contracts",
    "products",
    "timeEntry",
    "agents",
]


def read_all(config, streams=STREAMS):
    return read_streams(config, streams)


def expected_counts(sim):
    return {
        "tickets": len(sim.store["tickets"]),
        "departments": len(sim.store["departments"]),
        "products": len(sim.store["products"]),
        "contracts": len(sim.store["contracts"]),
        "organization_fields": sum(len(sim.store.fields[module]) for module in MODULES),
    }


def test_every_stream_reads_completely_and_matches_its_schema(simulator):
    config = simulator.config()
    catalog = discover(SourceZohoDesk(config=config), config).catalog.catalog
    schemas = {stream.name: stream.json_schema for stream in catalog.streams}

    output = read_all(config)

    assert not output.errors, output.errors
    grouped = records_by_stream(output)
    assert {s: len(r) for s, r in grouped.items()} == expected_counts(simulator)
    for stream, records in grouped.items():
        keys = [(r.get("module"), r["id"]) for r in records]
        assert len(set(keys)) == len(keys), f"duplicate keys in {stream}"
        for record in records:
            jsonschema.validate(record, schemas[stream], format_checker=jsonschema.FormatChecker())


def test_records_are_complete_and_keep_zoho_types(simulator):
    grouped = records_by_stream(read_all(simulator.config()))

    tickets = {t["id"]: t for t in grouped["tickets"]}
    for ticket_id, stored in simulator.store["tickets"].items():
        emitted = tickets[ticket_id]
        assert emitted["modifiedTime"] == stored["modifiedTime"]
        listable_cf = {k: v for k, v in stored["cf"].items() if v is not None and k in emitted["cf"]}
        assert listable_cf and emitted["cf"] == {**emitted["cf"], **listable_cf}
        assert emitted["subject"] == stored["subject"]
    assert all(isinstance(t["id"], str) and int(t["id"]) > 2**53 for t in tickets.values())
    assert any(any(ord(ch) > 0x2000 for ch in t["subject"]) for t in tickets.values()), "unicode survives"

    products = {p["id"]: p for p in grouped["products"]}
    assert all("modifiedTime" in p and "cf" in p for p in products.values()), "products come whole, by id"
    contracts = grouped["contracts"]
    assert all("modifiedTime" in c for c in contracts)
    fields = grouped["organization_fields"]
    assert Counter(f["module"] for f in fields).keys() == set(MODULES)


def test_requests_and_credits_per_stream(simulator):
    output = read_all(simulator.config())
    calls = Counter(r.path.split("/")[3] for r in simulator.desk_requests())
    pages = -(-len(simulator.store["tickets"]) // 100)
    assert calls["tickets"] <= pages * 3 + 1  # each page once per chunk of <= 30 field names
    assert calls["departments"] == 1
    assert calls["products"] == 1  # one page with `fields=`: complete rows, no get-by-id
    summaries = [m.log.message for m in output.logs if m.log.message.startswith("Finished ")]
    assert any(s.startswith(f"Finished tickets: {len(simulator.store['tickets'])} records from") for s in summaries)
    assert all("Zoho API credits used" in s for s in summaries if ":" in s)
    for record in simulator.desk_requests():
        assert record.headers.get("Authorization", "").startswith("Zoho-oauthtoken ")


@pytest.mark.parametrize("variant", ["one_based_lists", "fifty_row_ticket_pages"])
def test_uncertain_zoho_behaviours_are_survived(simulator, variant):
    if variant == "one_based_lists":
        simulator.settings.list_from_base = 1
    else:
        simulator.settings.ticket_list_max_limit = 50
    grouped = records_by_stream(read_all(simulator.config(), ["tickets", "contracts"]))
    for stream in ("tickets", "contracts"):
        ids = [r["id"] for r in grouped[stream]]
        assert len(ids) == len(set(ids)) == len(simulator.store[stream])


def test_concurrency_stays_within_the_configured_workers(simulator):
    simulator.settings.latency = 0.05  # requests last long enough to overlap when the connector sends them at once
    # The simulator's gate admits more than the 3 workers, so the peak it records is the connector's own concurrency
    # (a gate at 3 would cap the peak at 3 whatever the connector did, and its 429s would be retried unseen).
    assert simulator.settings.max_concurrency > 3
    output = read_all(simulator.config(num_workers=3), ["products", "contracts"])
    assert not output.errors
    assert simulator.max_in_flight <= 3
    assert not [r for r in simulator.desk_requests() if r.status == 429]


def test_the_cdk_counts_the_records_each_stream_emits(simulator):
    """Offset pages overlap; the repeated rows are dropped before the CDK counts records, so its "Read N records"
    line and the records a destination receives agree (contacts and tasks span several overlapping pages)."""
    output = read_all(simulator.config(), ["contacts", "tasks", "tickets", "ticket_threads"])
    emitted = Counter(message.record.stream for message in output.records)
    counted = {}
    for message in output.logs:
        found = re.match(r"Read (\d+) records from (\w+) stream", message.log.message)
        if found:
            counted[found.group(2)] = int(found.group(1))
    assert counted == dict(emitted)
    assert emitted["contacts"] == len(simulator.store["contacts"]) and emitted["tasks"] > 200

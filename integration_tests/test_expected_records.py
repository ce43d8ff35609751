"""Expected records at high strictness: a full read of every stream of a small, seeded simulator portal must give
exactly the records in `expected_records.jsonl`, field for field, with no stream empty.

The CDK's standard tests refuse `expect_records` in acceptance-test-config.yml (they do not compare records), so
this module is that comparison. The simulator is deterministic per seed (its "today" is fixed), so any difference is
a change in what the connector emits: review it, then regenerate the file with

    python -m integration_tests.test_expected_records

and commit the diff with the change that caused it.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer
from airbyte_cdk.test.entrypoint_wrapper import read

from integration_tests.simulator import ZohoDeskSimulator
from source_zoho_desk.source import SourceZohoDesk

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected_records.jsonl"
CATALOG = HERE / "configured_catalog.json"
PORTAL = dict(
    seed=11, tickets=24, departments=3, products=6, contracts=6, contacts=10, accounts=5, agents=4, calls=8, events=6
)
PORTAL_ARTICLES = 5


def read_portal() -> List[Tuple[str, Dict]]:
    """(stream, record) of a full read of every stream, sorted."""
    catalog = ConfiguredAirbyteCatalogSerializer.load(json.loads(CATALOG.read_text()))
    with ZohoDeskSimulator(**PORTAL, articles=PORTAL_ARTICLES) as sim:  # type: ignore[arg-type]
        config = sim.config()
        output = read(SourceZohoDesk(config=config, catalog=catalog), config, catalog)
        assert not output.errors, [e.trace.error.message for e in output.errors]  # type: ignore[union-attr]
    rows = [(m.record.stream, m.record.data) for m in output.records]  # type: ignore[union-attr]
    return sorted(rows, key=lambda row: (row[0], json.dumps(row[1], sort_keys=True)))


def as_lines(rows: List[Tuple[str, Dict]]) -> List[str]:
    return [json.dumps({"stream": stream, "data": data}, sort_keys=True, ensure_ascii=False) for stream, data in rows]


def test_a_full_read_emits_exactly_the_expected_records():
    expected = EXPECTED.read_text(encoding="utf-8").splitlines()
    actual = as_lines(read_portal())
    catalog_streams = {s["stream"]["name"] for s in json.loads(CATALOG.read_text())["streams"]}
    counts = Counter(json.loads(line)["stream"] for line in actual)
    assert set(counts) == catalog_streams, f"streams without records: {sorted(catalog_streams - set(counts))}"
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    assert not missing and not extra, (
        f"{len(missing)} expected records not emitted, {len(extra)} emitted records not expected; first of each:\n"
        f"{missing[:1]}\n{extra[:1]}\n(if the change is intended: python -m integration_tests.test_expected_records)"
    )
    assert Counter(actual) == Counter(expected)  # and no record twice


if __name__ == "__main__":
    lines = as_lines(read_portal())
    EXPECTED.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    print(f"{EXPECTED}: {len(lines):,} records of {len({json.loads(line)['stream'] for line in lines})} streams")

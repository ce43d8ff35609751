"""Benchmark: what a full sync and an incremental (polling) sync of N tickets cost, in calls and credits (prints figures).

    python -m benchmarks.incremental [N] [--changed-percent P] [--latency S] [--workers W]

Against the offline simulator (`integration_tests.simulator`) with N tickets: a full refresh of `tickets`, a first
incremental sync (polling: it lists every ticket from the search), then P % of the tickets updated and a tenth of
that deleted, and a second incremental sync, which must return exactly those changes. Per sync it prints the Desk
calls, the credits the simulator charged, the records, the largest `from` sent and the wall time. Runtime
dependencies only: it runs from a plain install (`pip install .`) started at the repository root.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any, Dict, List, Optional, Tuple, cast

from airbyte_cdk.models import AirbyteRecordMessage, AirbyteStateMessage, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read

from integration_tests.simulator import ZohoDeskSimulator
from source_zoho_desk.incremental.streams import DELETED_AT_FIELD
from source_zoho_desk.source import SourceZohoDesk


def sync(
    sim: ZohoDeskSimulator, mode: SyncMode, workers: int, state: Optional[List[AirbyteStateMessage]] = None
) -> Tuple[List[Dict[str, Any]], List[AirbyteStateMessage], Dict[str, Any]]:
    catalog = CatalogBuilder().with_stream("tickets", mode).build()
    config = sim.config(num_workers=workers)
    before = len(sim.desk_requests())
    started = time.monotonic()
    output = read(SourceZohoDesk(config=config, catalog=catalog, state=state), config, catalog, state=state)
    seconds = time.monotonic() - started
    if output.errors:
        raise SystemExit(f"the sync failed: {output.errors[0].trace.error.message}")  # type: ignore[union-attr]
    calls = sim.desk_requests()[before:]
    records = [cast(AirbyteRecordMessage, m.record).data for m in output.records]
    states = [cast(AirbyteStateMessage, m.state) for m in output.state_messages]
    figures = {
        "calls": len(calls),
        "credits": sum(r.credits for r in calls),
        "records": len(records),
        "largest_from": max((int(r.query.get("from", 0)) for r in calls), default=0),
        "seconds": seconds,
    }
    return records, states[-1:], figures


def main(tickets: int, changed_percent: float, latency: float, workers: int) -> None:
    with ZohoDeskSimulator(seed=3, tickets=tickets) as sim:
        sim.settings.latency = latency
        rows: Dict[str, Dict[str, Any]] = {}
        _, _, full = sync(sim, SyncMode.full_refresh, workers)
        _, state, first = sync(sim, SyncMode.incremental, workers)
        ids = sorted(sim.store["tickets"])
        rng = random.Random(1)
        changed = rng.sample(ids, max(1, int(len(ids) * changed_percent / 100)))
        deleted = set(changed[: max(1, len(changed) // 10)])
        for ticket_id in changed:
            if ticket_id in deleted:
                sim.delete_ticket(ticket_id)
            else:
                sim.update_ticket(ticket_id, status="Closed")
        records, _, second = sync(sim, SyncMode.incremental, workers, state)
        for row in records:
            rows[row["id"]] = row
        got_deletes = {i for i, r in rows.items() if r.get(DELETED_AT_FIELD)}
        got_updates = set(rows) - got_deletes
        print(f"tickets in the portal: {tickets:,}; changed before the second incremental sync: {len(changed):,}")
        print(
            f"({len(changed) - len(deleted):,} updated, {len(deleted):,} deleted); {latency:g} s a request, {workers} workers"
        )
        print(f"{'sync':<32}{'calls':>8}{'credits':>10}{'records':>10}{'largest from':>14}{'seconds':>9}")
        for name, figures in (
            ("full refresh", full),
            ("first incremental (polling)", first),
            ("incremental, changes only", second),
        ):
            print(
                f"{name:<32}{figures['calls']:>8,}{figures['credits']:>10,}{figures['records']:>10,}"
                f"{figures['largest_from']:>14,}{figures['seconds']:>9.1f}"
            )
        if got_deletes != deleted or got_updates != set(changed) - deleted:
            raise SystemExit("the incremental sync did not return exactly the changes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tickets", nargs="?", type=int, default=10_000)
    parser.add_argument("--changed-percent", type=float, default=1.0, help="tickets changed between the syncs (1)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds each simulated request takes (0)")
    parser.add_argument("--workers", type=int, default=3, help="the config's num_workers (3)")
    args = parser.parse_args()
    main(args.tickets, args.changed_percent, args.latency, args.workers)

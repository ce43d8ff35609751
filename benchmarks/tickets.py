"""Benchmark: what a full read of N tickets costs in calls, Zoho API credits, offsets and seconds (prints figures).

    python -m benchmarks.tickets [N] [--search-credits C] [--latency S] [--workers W]

Reads the `tickets` stream in full from the offline simulator (`integration_tests.simulator`): createdTime windows
of `/tickets/search`, read in parallel (components/ticket_windows.py). `--search-credits` sets what the simulator
charges for a search page (3 by default, as a list page; Zoho does not document it [U]), `--latency` the seconds
each simulated request takes (0.1), `--workers` the config's `num_workers` (3). Also prints what the previous
strategy (`GET /tickets` with two `fields=` chunks a page, one request at a time) and a list plus one get-by-id per
ticket cost for the same N, priced with the simulator's weights, and the physical limit of the wall time (requests
x latency / concurrency). Runtime dependencies only: it runs from a plain install (`pip install .`) started at the
repository root, where the simulator lives.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import cast

from airbyte_cdk.models import AirbyteRecordMessage, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read

from integration_tests.simulator import ZohoDeskSimulator
from source_zoho_desk.components.pagination import PAGE_OVERLAP
from source_zoho_desk.source import SourceZohoDesk

LIST_PAGE_CREDITS = 3  # the simulator's list page, plus 1 per 1,000 of `from`


def list_chunks_cost(tickets: int, chunks: int = 2) -> tuple:
    """Calls and credits of the previous strategy: overlapping list pages of 100, each asked once per chunk."""
    offsets = range(0, max(tickets, 1), 100 - PAGE_OVERLAP)
    return len(offsets) * chunks, sum(chunks * (LIST_PAGE_CREDITS + offset // 1000) for offset in offsets)


def main(tickets: int, search_credits: int, latency: float, workers: int) -> None:
    with ZohoDeskSimulator(seed=3, tickets=tickets) as sim:
        sim.settings.latency = latency
        sim.settings.credit_costs = dict(sim.settings.credit_costs, search=search_credits)
        catalog = CatalogBuilder().with_stream("tickets", SyncMode.full_refresh).build()
        config = sim.config(num_workers=workers)
        started = time.monotonic()
        output = read(SourceZohoDesk(config=config, catalog=catalog), config, catalog)
        seconds = time.monotonic() - started
        calls = [r for r in sim.desk_requests() if r.path.startswith("/api/v1/tickets")]
        credits = sum(r.credits for r in sim.desk_requests())
        counts = [r for r in calls if r.query.get("limit") == "1"]
        windows = len({r.query.get("createdTimeRange") for r in calls if r.query.get("limit") != "1"})
        largest_from = max((int(r.query.get("from", 0)) for r in calls), default=0)
        records = len(output.records)
        # a RECORD message always carries .record; the CDK model types every payload Optional
        unique_ids = len({cast(AirbyteRecordMessage, r.record).data["id"] for r in output.records})
        old_calls, old_credits = list_chunks_cost(tickets)
        per_ticket_alternative = sum(3 + (offset // 1000) for offset in range(0, tickets, 100)) + tickets
        concurrency = min(workers, sim.settings.max_concurrency)
        print(f"tickets in the portal:        {tickets:,}")
        print(f"records emitted:              {records:,} (unique ids: {unique_ids:,})")
        print(f"search credits per page:      {search_credits} (list page: {LIST_PAGE_CREDITS})")
        print(f"ticket calls:                 {len(calls):,} ({len(counts):,} window counts, {windows:,} windows)")
        print(f"partitions (windows):         {windows:,}")
        print(f"largest `from` sent:          {largest_from:,}")
        print(f"credits spent (all calls):    {credits:,}  = {credits / max(records, 1):.3f} per ticket")
        print(f"list + fields chunks cost:    {old_calls:,} calls, {old_credits:,} credits (the previous strategy)")
        print(f"list + get-by-id would cost:  {per_ticket_alternative:,} credits")
        print(
            f"wall time:                    {seconds:.1f} s at {latency:g} s a request, {workers} workers "
            f"({records / seconds:,.0f} records/s; requests x latency / concurrency = "
            f"{math.ceil(len(calls) * latency / concurrency):,} s)"
        )
        if records != tickets or unique_ids != tickets or largest_from > 999:
            raise SystemExit("the read was incomplete, repeated rows or paged past from 999")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tickets", nargs="?", type=int, default=10_000)
    parser.add_argument("--search-credits", type=int, default=3, help="credits of a search page (3 = a list page's)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds each simulated request takes")
    parser.add_argument("--workers", type=int, default=3, help="the config's num_workers")
    args = parser.parse_args()
    main(args.tickets, args.search_credits, args.latency, args.workers)

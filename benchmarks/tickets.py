"""Benchmark: what a full read of N tickets costs in calls, Zoho API credits and seconds (prints figures).

    python -m benchmarks.tickets [N]        # N tickets in the simulated portal, 10000 by default

Reads the `tickets` stream in full from the offline simulator (`integration_tests.simulator`) and compares the
`fields`-chunk strategy the connector uses with the per-ticket alternative (a list page plus one get-by-id per
ticket), priced with the simulator's credit weights. Runtime dependencies only: it runs from a plain install
(`pip install .`) started at the repository root, where the simulator lives.
"""

from __future__ import annotations

import sys
import time
from typing import cast

from airbyte_cdk.models import AirbyteRecordMessage, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read

from integration_tests.simulator import ZohoDeskSimulator
from source_zoho_desk.source import SourceZohoDesk


def main(tickets: int) -> None:
    with ZohoDeskSimulator(seed=3, tickets=tickets) as sim:
        catalog = CatalogBuilder().with_stream("tickets", SyncMode.full_refresh).build()
        config = sim.config()
        started = time.monotonic()
        output = read(SourceZohoDesk(config=config, catalog=catalog), config, catalog)
        seconds = time.monotonic() - started
        calls = [r for r in sim.desk_requests() if r.path.startswith("/api/v1/tickets")]
        credits = sum(r.credits for r in sim.desk_requests())
        records = len(output.records)
        # a RECORD message always carries .record; the CDK model types every payload Optional
        unique_ids = len({cast(AirbyteRecordMessage, r.record).data["id"] for r in output.records})
        pages = -(-tickets // 100)
        per_ticket_alternative = sum(3 + (offset // 1000) for offset in range(0, tickets, 100)) + tickets
        print(f"tickets in the portal:        {tickets:,}")
        print(f"records emitted:              {records:,} (unique ids: {unique_ids:,})")
        print(f"ticket list calls:            {len(calls):,} ({pages:,} pages of 100 without overlap)")
        print(f"credits spent (all calls):    {credits:,}  = {credits / max(records, 1):.3f} per ticket")
        print(f"list + get-by-id would cost:  {per_ticket_alternative:,}")
        print(
            f"wall time:                    {seconds:.1f} s ({records / seconds:,.0f} records/s against the local simulator)"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)

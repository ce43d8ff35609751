"""Benchmark: events/s of a whole incremental read that drains the webhook buffer through `SourceZohoDesk`.

    python -m benchmarks.drain --buffer-url sqlite:////tmp/drain.db \
        [--buffer-url postgresql://postgres@127.0.0.1:5432/bench] [--events 20000 --tickets 5000]
        [--skip-subprocess]

For each buffer it stores N `Ticket_Update` events with full ticket payloads (about 2 KB of JSON each) for a
fresh org, records a receiver heartbeat covering the read, and runs an incremental read of `tickets` from
`{"position": 0, "covered_until": <a minute ago>}`, so the plan is a pure drain (any Zoho API call would fail:
the config points at a closed port). Two figures:

* in process: `SourceZohoDesk.read` plus the JSON serialization the entrypoint does for every message;
* console script: `source-zoho-desk read` as a subprocess writing its messages to a file (includes start-up).

Both check that every event came out as one record and that the final state reached the last position.
Standard library plus runtime dependencies only: it runs from a plain install (`pip install .`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import cast

from zoho_desk_webhooks.buffer import open_buffer, redact_url

REPO_ROOT = Path(__file__).resolve().parents[1]
APPEND_CHUNK = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buffer-url", action="append", required=True)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--tickets", type=int, default=5_000, help="distinct tickets the events are spread over")
    parser.add_argument("--skip-subprocess", action="store_true")
    args = parser.parse_args()
    logging.getLogger("airbyte").setLevel(logging.WARNING)
    for url in args.buffer_url:
        bench_one(url, args)


def bench_one(url: str, args: argparse.Namespace) -> None:
    org = str(70_000_000 + uuid.uuid4().int % 10_000_000)  # a fresh org: its positions start at 1
    with open_buffer(url) as buffer:
        started = time.perf_counter()
        for start in range(0, args.events, APPEND_CHUNK):
            buffer.append(
                org, [_event(org, n, args.tickets) for n in range(start, min(start + APPEND_CHUNK, args.events))]
            )
        load_seconds = time.perf_counter() - started
        now = datetime.now(timezone.utc)
        buffer.record_heartbeat(f"bench-{org}", now - timedelta(hours=1), now + timedelta(hours=1))
        head = buffer.head_position(org)
    assert head == args.events, f"expected {args.events} buffered events, found {head}"
    payload_bytes = len(json.dumps(_event(org, 0, args.tickets)["payload"]))
    config = {
        "data_center": "com",
        "org_id": org,
        "desk_base_url": "http://127.0.0.1:9/api/v1",
        "accounts_base_url": "http://127.0.0.1:9",
        "credentials": {
            "auth_type": "oauth2.0",
            "client_id": "1000.BENCH",
            "client_secret": "bench",
            "refresh_token": "1000.bench",
        },
        "webhook_buffer_url": url,
    }
    state = [
        {
            "type": "STREAM",
            "stream": {
                "stream_descriptor": {"name": "tickets"},
                "stream_state": {"position": 0, "covered_until": (now - timedelta(minutes=1)).isoformat()},
            },
        }
    ]
    catalog = {
        "streams": [
            {
                "stream": {
                    "name": "tickets",
                    "json_schema": {},
                    "supported_sync_modes": ["full_refresh", "incremental"],
                    "source_defined_cursor": True,
                    "default_cursor_field": ["_ab_cdc_cursor"],
                },
                "sync_mode": "incremental",
                "destination_sync_mode": "append_dedup",
                "cursor_field": ["_ab_cdc_cursor"],
                "primary_key": [["id"]],
            }
        ]
    }

    in_process = _in_process(config, catalog, state, args.events)
    print(
        f"{redact_url(url)}\n"
        f"  loaded {args.events:,} events ({payload_bytes:,} B payloads) in {load_seconds:.2f} s\n"
        f"  in process:     {args.events / in_process:,.0f} events/s ({in_process:.2f} s for {args.events:,} records)",
        flush=True,
    )
    if not args.skip_subprocess:
        seconds = _console_script(config, catalog, state, args.events)
        print(
            f"  console script: {args.events / seconds:,.0f} events/s ({seconds:.2f} s wall, start-up included)",
            flush=True,
        )
    with open_buffer(url) as buffer:
        buffer.prune(org, head + 1)


def _in_process(config: dict, catalog: dict, state: list, expected: int) -> float:
    from airbyte_cdk.entrypoint import AirbyteEntrypoint
    from airbyte_cdk.models import (
        AirbyteStateMessage,
        AirbyteStateMessageSerializer,
        ConfiguredAirbyteCatalogSerializer,
        Type,
    )

    from source_zoho_desk.source import SourceZohoDesk

    configured = ConfiguredAirbyteCatalogSerializer.load(catalog)
    states = [AirbyteStateMessageSerializer.load(s) for s in state]
    source = SourceZohoDesk(config=dict(config), catalog=configured, state=states)
    records, last_position = 0, None
    started = time.perf_counter()
    for message in source.read(logging.getLogger("airbyte"), dict(config), configured, states):
        AirbyteEntrypoint.airbyte_message_to_string(message)  # what the entrypoint does before printing
        if message.type == Type.RECORD:
            records += 1
        elif message.type == Type.STATE:
            # a STATE message always carries .state; the CDK model types every payload Optional
            state_message = cast(AirbyteStateMessage, message.state)
            if state_message.stream:
                last_position = state_message.stream.stream_state.__dict__.get("position")
    seconds = time.perf_counter() - started
    assert records == expected and last_position == expected, (records, last_position)
    return seconds


def _console_script(config: dict, catalog: dict, state: list, expected: int) -> float:
    with tempfile.TemporaryDirectory() as directory:
        paths = {}
        for name, content in (("config", config), ("catalog", catalog), ("state", state)):
            paths[name] = os.path.join(directory, f"{name}.json")
            with open(paths[name], "w") as handle:
                json.dump(content, handle)
        output = os.path.join(directory, "out.jsonl")
        started = time.perf_counter()
        with open(output, "w") as handle:
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "from source_zoho_desk.run import run; run()",
                    "read",
                    "--config",
                    paths["config"],
                    "--catalog",
                    paths["catalog"],
                    "--state",
                    paths["state"],
                ],
                stdout=handle,
                check=True,
                cwd=REPO_ROOT,
                env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
            )
        seconds = time.perf_counter() - started
        records, last_position = 0, None
        with open(output) as handle:
            for line in handle:
                message = json.loads(line)
                if message["type"] == "RECORD":
                    records += 1
                elif message["type"] == "STATE":
                    last_position = message["state"]["stream"]["stream_state"].get("position")
    assert records == expected and last_position == expected, (records, last_position)
    return seconds


def _event(org: str, n: int, tickets: int) -> dict:
    ticket = 1_892_000_000_000_000 + n % tickets
    moment = datetime(2026, 11, 1, tzinfo=timezone.utc) + timedelta(seconds=n)
    stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    payload = {
        "id": str(ticket),
        "ticketNumber": str(100 + n % tickets),
        "layoutId": "1892000000074011",
        "subject": f"Printer on floor {n % 9} keeps jamming on duplex jobs ({n})",
        "description": "<div>Customer reports the printer jams whenever a duplex job is sent. " * 3 + "</div>",
        "status": ("Open", "On Hold", "Escalated", "Closed")[n % 4],
        "statusType": "Open",
        "priority": "High",
        "channel": "Email",
        "channelCode": None,
        "category": "Hardware",
        "subCategory": "Printers",
        "classification": "Problem",
        "language": "English",
        "departmentId": "1892000000006907",
        "contactId": "1892000000042001",
        "accountId": "1892000000041005",
        "assigneeId": "1892000000056007",
        "teamId": None,
        "productId": None,
        "contractId": None,
        "email": "carol@example.com",
        "phone": "+1 555 0100",
        "createdTime": "2026-10-01T09:00:00.000Z",
        "modifiedTime": stamp,
        "modifiedBy": "1892000000056007",
        "closedTime": None,
        "dueDate": "2026-11-03T09:00:00.000Z",
        "responseDueDate": None,
        "customerResponseTime": stamp,
        "onholdTime": None,
        "isOverDue": False,
        "isEscalated": False,
        "isSpam": False,
        "isDeleted": False,
        "isTrashed": False,
        "isArchived": False,
        "isResponseOverdue": False,
        "threadCount": str(n % 7),
        "commentCount": "1",
        "attachmentCount": "0",
        "taskCount": "0",
        "timeEntryCount": "0",
        "followerCount": "2",
        "tagCount": "1",
        "approvalCount": "0",
        "sentiment": "NEGATIVE",
        "resolution": None,
        "webUrl": f"https://desk.zoho.com/support/acme/ShowHomePage.do#Cases/dv/{ticket}",
        "source": {"appName": None, "extId": None, "type": "SYSTEM", "permalink": None, "appPhotoURL": None},
        "cf": {
            "cf_order_number": f"SO-{n:06d}",
            "cf_impact_level": "High",
            "cf_follow_up_date": "2026-11-05",
            "cf_escalated_at": None,
            "cf_affected_users": str(n % 50),
            "cf_refund_amount": "0.00",
            "cf_csat_score": None,
            "cf_sla_breach_pct": "12.5",
            "cf_is_vip": "false",
            "cf_platforms": "Windows;macOS",
            "cf_portal_url": "https://portal.example.com",
        },
    }
    return {
        "eventType": "Ticket_Update",
        "orgId": org,
        "eventTime": str(int(moment.timestamp() * 1000)),
        "payload": payload,
    }


if __name__ == "__main__":
    main()

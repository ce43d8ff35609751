"""Benchmark: CPU seconds and peak memory of a full ticket read, ours against a stock-CDK manifest and a plain loop.

    python -m benchmarks.cpu [N ...] [--seed S]

For each N (50000 by default) the offline simulator serves N tickets in this process, with no latency, and three
readers run one after the other as subprocesses, each writing Airbyte RECORD lines to a file:

* `source-zoho-desk read` of the `tickets` stream (the createdTime windows of `/tickets/search`);
* a minimal manifest of our own run by the stock CDK (`ConcurrentDeclarativeSource`, no custom component): the same
  windows as a ListPartitionRouter, pages of 100 with `from`/`limit`, records from `data`;
* a plain loop: `requests` and `json` over the same windows and pages, one RECORD line per row.

Each reader's CPU (user + system, from the kernel's rusage of the child) is reported with its start-up taken out
(the same program's `spec`, or its imports, measured alone), as records per CPU-second; its peak RSS is the child's
`ru_maxrss`. The simulator's own CPU is not counted: it runs in this process. Exits non-zero if a reader missed or
repeated a ticket. Runtime dependencies only (a plain `pip install .`, started from the repository root).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from integration_tests.simulator import ZohoDeskSimulator

REPO_ROOT = Path(__file__).resolve().parents[1]
CATALOG = {
    "streams": [
        {
            "stream": {"name": "tickets", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            "sync_mode": "full_refresh",
            "destination_sync_mode": "overwrite",
        }
    ]
}

# The stock-CDK reader: a manifest with no custom component, asking for the pages ours reads.
STOCK_MANIFEST = {
    "version": "7.0.0",
    "type": "DeclarativeSource",
    "check": {"type": "CheckStream", "stream_names": ["tickets"]},
    "spec": {"type": "Spec", "connection_specification": {"type": "object", "properties": {}}},
    "streams": [
        {
            "type": "DeclarativeStream",
            "name": "tickets",
            "primary_key": ["id"],
            "schema_loader": {"type": "InlineSchemaLoader", "schema": {"type": "object"}},
            "retriever": {
                "type": "SimpleRetriever",
                "requester": {
                    "type": "HttpRequester",
                    "url": "{{ config.desk_base_url }}/tickets/search",
                    "http_method": "GET",
                    "authenticator": {
                        "type": "ApiKeyAuthenticator",
                        "api_token": "Zoho-oauthtoken {{ config.access_token }}",
                        "inject_into": {
                            "type": "RequestOption",
                            "inject_into": "header",
                            "field_name": "Authorization",
                        },
                    },
                    "request_headers": {"orgId": "{{ config.org_id }}"},
                    "request_parameters": {"sortBy": "createdTime"},
                },
                "partition_router": {
                    "type": "ListPartitionRouter",
                    "cursor_field": "window",
                    "values": "{{ config.windows }}",
                    "request_option": {
                        "type": "RequestOption",
                        "inject_into": "request_parameter",
                        "field_name": "createdTimeRange",
                    },
                },
                "record_selector": {
                    "type": "RecordSelector",
                    "extractor": {"type": "DpathExtractor", "field_path": ["data"]},
                },
                "paginator": {
                    "type": "DefaultPaginator",
                    "page_token_option": {
                        "type": "RequestOption",
                        "inject_into": "request_parameter",
                        "field_name": "from",
                    },
                    "page_size_option": {
                        "type": "RequestOption",
                        "inject_into": "request_parameter",
                        "field_name": "limit",
                    },
                    "pagination_strategy": {
                        "type": "OffsetIncrement",
                        "page_size": 100,
                        "inject_on_first_request": True,
                    },
                },
            },
        }
    ],
}

STOCK_PROGRAM = """
import sys, yaml
from airbyte_cdk.entrypoint import launch
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
manifest = yaml.safe_load(open(sys.argv[1]))
args = sys.argv[2:]
config = ConcurrentDeclarativeSource.read_config(args[args.index("--config") + 1]) if "--config" in args else {}
launch(ConcurrentDeclarativeSource(source_config=manifest, config=config), args)
"""

PLAIN_PROGRAM = """
import json, sys, time, requests
config = json.load(open(sys.argv[1]))
if config["windows"]:
    session = requests.Session()
    session.headers.update({"Authorization": "Zoho-oauthtoken " + config["access_token"], "orgId": config["org_id"]})
    write = sys.stdout.write
    for window in config["windows"]:
        start = 0
        while True:
            response = session.get(config["desk_base_url"] + "/tickets/search", params={
                "sortBy": "createdTime", "createdTimeRange": window, "from": start, "limit": 100})
            response.raise_for_status()
            rows = response.json()["data"] if response.status_code == 200 else []
            now = int(time.time() * 1000)
            for row in rows:
                write(json.dumps({"type": "RECORD", "record": {"stream": "tickets", "data": row, "emitted_at": now}}))
                write("\\n")
            if len(rows) < 100:
                break
            start += 100
"""


@dataclass
class Run:
    cpu_seconds: float
    max_rss_mb: float
    records: int
    unique_ids: int


def run_child(argv: list[str], output: Path) -> Run:
    """Runs one reader as a subprocess writing to `output`; its CPU comes from the kernel (wait4), its peak RSS from
    /proc's VmHWM, read until it exits (ru_maxrss would count the pages of this process it was forked from)."""
    with output.open("w") as handle:
        child = subprocess.Popen(argv, stdout=handle, cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
        peak_kb = [0]
        watcher = threading.Thread(target=_watch_peak_rss, args=(child.pid, peak_kb), daemon=True)
        watcher.start()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        watcher.join()
    if child.returncode:
        raise SystemExit(f"{argv[:4]} failed with exit code {child.returncode}")
    ids = []
    with output.open() as handle:
        for line in handle:
            if line.startswith('{"type":"RECORD"') or line.startswith('{"type": "RECORD"'):
                ids.append(json.loads(line)["record"]["data"]["id"])
    return Run(usage.ru_utime + usage.ru_stime, peak_kb[0] / 1024, len(ids), len(set(ids)))


def _watch_peak_rss(pid: int, peak_kb: list[int]) -> None:
    """Keeps the child's high-water RSS (VmHWM only grows) until its /proc entry is gone or turns zombie."""
    while True:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), None)
        if line is None:  # a zombie has no memory left to report
            return
        peak_kb[0] = max(peak_kb[0], int(line.split()[1]))
        time.sleep(0.02)


def bench(tickets: int, seed: int) -> dict:
    with ZohoDeskSimulator(seed=seed, tickets=tickets) as sim, tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        config_path, catalog_path = folder / "config.json", folder / "catalog.json"
        config_path.write_text(json.dumps(sim.config()))
        catalog_path.write_text(json.dumps(CATALOG))
        ours = [sys.executable, "-c", "from source_zoho_desk.run import run; run()"]
        read_args = ["read", "--config", str(config_path), "--catalog", str(catalog_path)]
        ours_startup = run_child([*ours, "spec"], folder / "spec.jsonl")
        sim.reset_requests()
        ours_run = run_child([*ours, *read_args], folder / "ours.jsonl")
        ours_requests = len(sim.desk_requests())
        windows = list(
            dict.fromkeys(
                r.query["createdTimeRange"]
                for r in sim.desk_requests()
                if r.path.endswith("/tickets/search") and r.query.get("limit") != "1"
            )
        )

        manifest_path, plain_config = folder / "manifest.yaml", folder / "plain.json"
        manifest_path.write_text(yaml.safe_dump(STOCK_MANIFEST))
        reader_config = {
            "desk_base_url": sim.desk_base_url,
            "org_id": sim.org_id,
            "access_token": sim.access_token(),
            "windows": windows,
        }
        config_path.write_text(json.dumps(reader_config))
        stock = [sys.executable, "-c", STOCK_PROGRAM, str(manifest_path)]
        stock_startup = run_child([*stock, "spec"], folder / "stock-spec.jsonl")
        sim.reset_requests()
        stock_run = run_child([*stock, *read_args], folder / "stock.jsonl")
        stock_requests = len(sim.desk_requests())

        plain = [sys.executable, "-c", PLAIN_PROGRAM, str(plain_config)]
        plain_config.write_text(json.dumps(dict(reader_config, windows=[])))
        plain_startup = run_child(plain, folder / "plain-empty.jsonl")
        plain_config.write_text(json.dumps(reader_config))
        sim.reset_requests()
        plain_run = run_child(plain, folder / "plain.jsonl")
        plain_requests = len(sim.desk_requests())

    readers = {}
    for name, run, startup, requests in (
        ("source-zoho-desk", ours_run, ours_startup, ours_requests),
        ("stock CDK manifest", stock_run, stock_startup, stock_requests),
        ("plain requests + json", plain_run, plain_startup, plain_requests),
    ):
        if run.records != tickets or run.unique_ids != tickets:
            raise SystemExit(f"{name} emitted {run.records:,} records ({run.unique_ids:,} ids) of {tickets:,}")
        cpu = max(run.cpu_seconds - startup.cpu_seconds, 1e-6)
        readers[name] = {
            "requests": requests,
            "cpu_seconds": round(run.cpu_seconds, 2),
            "startup_cpu_seconds": round(startup.cpu_seconds, 2),
            "records_per_cpu_second": round(tickets / cpu),
            "peak_rss_mb": round(run.max_rss_mb, 1),
        }
    return {"tickets": tickets, "windows": len(windows), "readers": readers}


def print_figures(figures: dict) -> None:
    print(f"tickets: {figures['tickets']:,} in {figures['windows']} createdTime windows, no latency")
    print(f"{'reader':<24}{'requests':>10}{'CPU s':>8}{'start-up':>10}{'records/CPU s':>15}{'peak RSS MB':>13}")
    for name, row in figures["readers"].items():
        print(
            f"{name:<24}{row['requests']:>10,}{row['cpu_seconds']:>8.1f}{row['startup_cpu_seconds']:>10.1f}"
            f"{row['records_per_cpu_second']:>15,}{row['peak_rss_mb']:>13.0f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tickets", nargs="*", type=int, default=[50_000])
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    for size in args.tickets:
        print_figures(bench(size, args.seed))

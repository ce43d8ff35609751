"""A complete demo sync against the bundled Zoho Desk simulator: spec, check, discover, read of every stream.

Runs the installed `source-zoho-desk` console script exactly as Airbyte would, and prints a short summary.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from integration_tests.simulator import ZohoDeskSimulator


def connector(*args: str) -> list:
    executable = shutil.which("source-zoho-desk") or str(Path(sys.executable).parent / "source-zoho-desk")
    result = subprocess.run([executable, *args], capture_output=True, text=True, timeout=600)
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    errors = [
        m["trace"]["error"]["message"] for m in messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"
    ]
    if result.returncode != 0 or errors:
        sys.exit(f"source-zoho-desk {args[0]} failed (exit {result.returncode}): {errors or result.stderr[-2000:]}")
    return messages


def main() -> None:
    with ZohoDeskSimulator(seed=7) as sim, tempfile.TemporaryDirectory() as workdir:
        config_path = Path(workdir) / "config.json"
        config_path.write_text(json.dumps(sim.config()))

        spec = next(m["spec"] for m in connector("spec") if m["type"] == "SPEC")
        print(
            f"spec:     {len(spec['connectionSpecification']['properties'])} settings "
            f"({', '.join(spec['connectionSpecification']['required'])} required)"
        )

        status = next(
            m["connectionStatus"]
            for m in connector("check", "--config", str(config_path))
            if m["type"] == "CONNECTION_STATUS"
        )
        print(f"check:    {status['status']}")

        catalog = next(
            m["catalog"] for m in connector("discover", "--config", str(config_path)) if m["type"] == "CATALOG"
        )
        print(f"discover: {', '.join(s['name'] for s in catalog['streams'])}")

        configured = {
            "streams": [
                {"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
                for s in catalog["streams"]
            ]
        }
        catalog_path = Path(workdir) / "catalog.json"
        catalog_path.write_text(json.dumps(configured))
        calls_before = len(sim.desk_requests())
        started = time.monotonic()  # the read alone: spec, check and discover are not part of a sync's time
        messages = connector("read", "--config", str(config_path), "--catalog", str(catalog_path))
        counts = Counter(m["record"]["stream"] for m in messages if m["type"] == "RECORD")
        print(
            f"read:     {sum(counts.values())} records in {time.monotonic() - started:.1f} s "
            f"({len(sim.desk_requests()) - calls_before} Desk API calls)"
        )
        for line in (m["log"]["message"] for m in messages if m["type"] == "LOG"):
            if line.startswith("Finished ") and ":" in line:
                print(f"          {line[len('Finished ') :]}")
        print(f"The simulator served {len(sim.desk_requests())} Desk API calls in all (check and discover included).")


if __name__ == "__main__":
    main()

"""The connector through PyAirbyte (`airbyte`), offline, against the Zoho Desk simulator.

PyAirbyte brings its own pins (rich<14, cryptography<47, an older protobuf and google-api-core ...) that would
downgrade packages of the connector's environment, so it lives in its own venv, `.venv-pyairbyte`, and runs the
connector's installed console script as a subprocess (`local_executable`), as it would any connector:

    python3 -m venv .venv-pyairbyte && .venv-pyairbyte/bin/pip install airbyte==0.71.3
    .venv/bin/python -m pytest integration_tests/test_pyairbyte.py

The test (in the connector's venv) starts the simulator, runs this same file as a script with PyAirbyte's python
(`python integration_tests/test_pyairbyte.py --config ... --executable ... --result ...`), and compares the JSON
result with the simulator's data. Without PyAirbyte anywhere the test is skipped. PyAirbyte's python is, in order:
$PYAIRBYTE_PYTHON, <repo>/.venv-pyairbyte/bin/python, or this interpreter if it can import `airbyte`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

try:
    import pytest
except ImportError:  # PyAirbyte's venv runs this file as a script and has no pytest
    pytest = None  # type: ignore[assignment]

REPO = Path(__file__).resolve().parents[1]


# ---- the PyAirbyte side (runs in PyAirbyte's venv; imports nothing from this repository) -------------------------


def run_pyairbyte(config_path: str, executable: str, result_path: str) -> None:
    os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")  # no registry lookups
    os.environ.setdefault("DO_NOT_TRACK", "1")  # no telemetry
    from importlib.metadata import version

    import airbyte as ab

    config = json.loads(Path(config_path).read_text())
    started = time.monotonic()

    def keep_new_config(new_config: dict) -> None:
        # A grant code works once: check() trades it for a refresh token and says so in a CONNECTOR_CONFIG
        # message. Keep the new config, for this session and for the next (PyAirbyte runs each command with a
        # temporary copy of the config, which the connector's own write-back cannot reach).
        Path(config_path).write_text(json.dumps(new_config))
        source.set_config(new_config)

    source = ab.get_source(
        "source-zoho-desk", local_executable=executable, config=config, config_change_callback=keep_new_config
    )
    source.check()
    source.select_all_streams()
    result = source.read()  # into the default DuckDB cache, under $AIRBYTE_CACHE_ROOT
    counts = {name: len(dataset) for name, dataset in result.streams.items()}
    cache = ab.get_default_cache()
    Path(result_path).write_text(
        json.dumps(
            {
                "airbyte_version": version("airbyte"),
                "airbyte_cdk_version_in_pyairbyte_venv": version("airbyte-cdk"),
                "streams": sorted(source.get_selected_streams()),
                "counts": counts,
                "processed_records": result.processed_records,
                "cache_db": str(cache.db_path),
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )


# ---- the pytest side (runs in the connector's venv) --------------------------------------------------------------


def _pyairbyte_python() -> Optional[str]:
    candidates = [os.environ.get("PYAIRBYTE_PYTHON"), str(REPO / ".venv-pyairbyte" / "bin" / "python")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    if importlib.util.find_spec("airbyte") is not None:
        return sys.executable
    return None


def _connector_executable() -> Optional[str]:
    beside = Path(sys.executable).parent / "source-zoho-desk"
    if beside.is_file():
        return str(beside)
    return shutil.which("source-zoho-desk")


@(pytest.mark.parametrize("auth", ["refresh_token", "grant_code"]) if pytest else (lambda test: test))
def test_pyairbyte_reads_every_stream(simulator, tmp_path, auth):

    python = _pyairbyte_python()
    if python is None:
        pytest.skip(
            "PyAirbyte (`airbyte`) is not installed: create .venv-pyairbyte "
            "(python3 -m venv .venv-pyairbyte && .venv-pyairbyte/bin/pip install airbyte==0.71.3) "
            "or set PYAIRBYTE_PYTHON"
        )
    executable = _connector_executable()
    if executable is None:
        pytest.skip("the console script source-zoho-desk is not installed (pip install -e . in the connector's venv)")
    if python != sys.executable:
        probe = subprocess.run(
            [python, "-c", "import airbyte"],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "DO_NOT_TRACK": "1", "AIRBYTE_OFFLINE_MODE": "1"},
        )
        if probe.returncode != 0:
            pytest.skip(f"{python} cannot import PyAirbyte: {probe.stderr.strip().splitlines()[-1:]}")

    config_path, result_path = tmp_path / "config.json", tmp_path / "result.json"
    config = simulator.config()
    if auth == "grant_code":
        config["credentials"] = {
            "auth_type": "grant_code",
            "client_id": simulator.client_id,
            "client_secret": simulator.client_secret,
            "grant_code": simulator.grant_code(),
        }
    config_path.write_text(json.dumps(config))
    env = {
        **os.environ,
        "AIRBYTE_OFFLINE_MODE": "1",
        "DO_NOT_TRACK": "1",
        "AIRBYTE_CACHE_ROOT": str(tmp_path / "cache"),
        "AIRBYTE_PROJECT_DIR": str(tmp_path),
    }
    env.pop("PYTHONPATH", None)  # PyAirbyte's venv must not see the connector's packages
    completed = subprocess.run(
        [
            python,
            str(Path(__file__).resolve()),
            "--config",
            str(config_path),
            "--executable",
            executable,
            "--result",
            str(result_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, (completed.stdout[-4000:], completed.stderr[-4000:])
    result = json.loads(result_path.read_text())
    print(json.dumps(result, indent=2))  # shown with pytest -s: versions, counts, time

    from integration_tests.test_streams import ALL_STREAMS as STREAMS
    from integration_tests.test_streams import expected_counts

    store = simulator.store
    expected = expected_counts(simulator)  # every stream's count in the simulator's store (test_streams.py)
    assert len(store.org_fields) == 8
    assert result["streams"] == sorted(STREAMS)
    assert result["counts"] == expected
    assert result["processed_records"] == sum(expected.values())
    assert Path(result["cache_db"]).is_file()
    assert Path(result["cache_db"]).is_relative_to(tmp_path)
    saved = json.loads(config_path.read_text())["credentials"]
    if auth == "grant_code":  # the callback kept the refresh token the spent code was traded for
        assert saved["auth_type"] == "oauth2.0" and saved["refresh_token"] and "grant_code" not in saved


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Read every stream of source-zoho-desk through PyAirbyte.")
    parser.add_argument("--config", required=True)
    parser.add_argument("--executable", required=True, help="path of the installed source-zoho-desk console script")
    parser.add_argument("--result", required=True, help="where to write the JSON result")
    arguments = parser.parse_args()
    run_pyairbyte(arguments.config, arguments.executable, arguments.result)

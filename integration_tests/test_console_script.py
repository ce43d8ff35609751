"""The installed `source-zoho-desk` script, run as Airbyte runs it, against the simulator."""

from __future__ import annotations

import json
import subprocess
import sys

from source_zoho_desk import run as connector_run


def test_demo_runs_spec_check_discover_and_read_through_the_console_script():
    result = subprocess.run(
        [sys.executable, "-m", "integration_tests.demo"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert "check:    SUCCEEDED" in lines
    discovered = next(line for line in lines if line.startswith("discover: ")).removeprefix("discover: ").split(", ")
    assert discovered[:5] == ["tickets", "departments", "products", "contracts", "organization_fields"]
    assert len(discovered) == len(set(discovered)) == 31
    assert any(line.strip().startswith("tickets: 237 records from") for line in lines)
    # 153 field definitions from /fields in 10 modules (the simulator's; organizationFields has 128 in 8)
    assert any(line.strip().startswith("organization_fields: 153 records from") for line in lines)


def test_eleven_runs_in_ten_minutes_mint_one_access_token(simulator, tmp_path, capsys):
    """Zoho allows 10 access tokens per refresh token in 10 minutes: runs must reuse the saved one."""
    config_path = tmp_path / "config.json"
    written = json.dumps(simulator.config())
    config_path.write_text(written)
    for _ in range(11):
        connector_run.run(["check", "--config", str(config_path)])
        statuses = [
            json.loads(line)["connectionStatus"]["status"]
            for line in capsys.readouterr().out.splitlines()
            if '"CONNECTION_STATUS"' in line
        ]
        assert statuses == ["SUCCEEDED"]
    assert simulator.tokens_minted() == 1
    # Reused from the local token cache: the config file the user wrote is never rewritten for a token.
    assert config_path.read_text() == written


def test_a_grant_code_works_once_and_the_saved_refresh_token_carries_on(simulator, tmp_path, capsys):
    config = simulator.config()
    config["credentials"] = {
        "auth_type": "grant_code",
        "client_id": simulator.client_id,
        "client_secret": simulator.client_secret,
        "grant_code": simulator.grant_code(),
    }
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    for _ in range(2):
        connector_run.run(["check", "--config", str(config_path)])
        assert '"status":"SUCCEEDED"' in capsys.readouterr().out
    saved = json.loads(config_path.read_text())["credentials"]
    assert saved["auth_type"] == "oauth2.0" and saved["refresh_token"] and "grant_code" not in saved

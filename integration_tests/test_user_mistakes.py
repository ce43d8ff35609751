"""User mistakes in the config, catalog or state get one actionable sentence, never a stack trace or silence."""

from __future__ import annotations

import json

import pytest
from airbyte_cdk.models import AirbyteMessageSerializer
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk import run as connector_run

DEPARTMENTS_INCREMENTAL = {
    "streams": [
        {
            "stream": {
                "name": "departments",
                "json_schema": {},
                "supported_sync_modes": ["full_refresh", "incremental"],
            },
            "sync_mode": "incremental",
            "destination_sync_mode": "append_dedup",
            "primary_key": [["id"]],
        }
    ]
}


def _run(tmp_path, capsys, command, config, catalog=None, state=None):
    args = [command, "--config", str(_write(tmp_path / "config.json", config))]
    if catalog is not None:
        args += ["--catalog", str(_write(tmp_path / "catalog.json", catalog))]
    if state is not None:
        args += ["--state", str(_write(tmp_path / "state.json", state))]
    raised = []
    try:
        connector_run.run(args)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    except AirbyteTracedException as error:  # in a process of its own, the CDK's excepthook prints it as a trace
        code, raised = 1, [json.loads(json.dumps(AirbyteMessageSerializer.dump(error.as_airbyte_message())))]
    return code, [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")] + raised


def _write(path, value):
    path.write_text(json.dumps(value))
    return path


def _errors(messages):
    return [m["trace"]["error"]["message"] for m in messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]


def test_a_postgresql_buffer_url_without_host_names_the_field(simulator, tmp_path, capsys):
    config = dict(simulator.config(), webhook_buffer_url="postgresql://airbyte:pg-pass-123@/zoho")
    code, messages = _run(tmp_path, capsys, "check", config)
    status = next(m["connectionStatus"] for m in messages if m["type"] == "CONNECTION_STATUS")
    assert code == 0 and status["status"] == "FAILED"
    assert status["message"].startswith("'webhook_buffer_url' has no database host: expected postgresql://")
    assert "pg-pass-123" not in json.dumps(messages)


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("sometimes", "'incremental_mode' is 'sometimes'; expected one of polling, webhooks, both."),
        ("both", "'incremental_mode' both follows Zoho Desk webhooks, so it needs 'webhook_buffer_url'"),
    ],
)
def test_an_incremental_mode_that_cannot_work_is_refused(simulator, tmp_path, capsys, mode, expected):
    code, messages = _run(tmp_path, capsys, "check", dict(simulator.config(), incremental_mode=mode))
    status = next(m["connectionStatus"] for m in messages if m["type"] == "CONNECTION_STATUS")
    assert status["status"] == "FAILED" and status["message"].startswith(expected)


def test_an_unknown_stream_in_the_catalog_is_named(simulator, tmp_path, capsys):
    catalog = {
        "streams": [
            dict(
                DEPARTMENTS_INCREMENTAL["streams"][0],
                sync_mode="full_refresh",
                stream={"name": "ticket", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            )
        ]
    }
    code, messages = _run(tmp_path, capsys, "read", simulator.config(), catalog)
    assert code == 1
    assert _errors(messages)[0].startswith(
        "The catalog names streams this connector does not have: ticket. Its streams are tickets, departments,"
    )
    assert not [m for m in messages if m["type"] == "RECORD"]


@pytest.mark.parametrize(
    "state",
    [
        {"departments": {"position": 3}},  # the legacy dict-per-stream state
        [{"type": "GLOBAL", "global": {"shared_state": {}}}],  # another connector's global state
        "not a state",
    ],
)
def test_a_legacy_or_foreign_state_gets_a_sentence(simulator, tmp_path, capsys, state):
    code, messages = _run(tmp_path, capsys, "read", simulator.config(), DEPARTMENTS_INCREMENTAL, state)
    assert code == 1
    (error,) = _errors(messages)
    assert error.startswith(
        f"The state file {tmp_path / 'state.json'} is not an Airbyte state this connector can read ("
    )
    assert "reset the connection's state in Airbyte, or leave out --state" in error
    assert "Traceback" not in json.dumps(messages)


def test_incremental_without_a_webhook_buffer_warns_and_reads_everything(simulator, tmp_path, capsys):
    code, messages = _run(tmp_path, capsys, "read", simulator.config(), DEPARTMENTS_INCREMENTAL)
    warnings = [m["log"]["message"] for m in messages if m["type"] == "LOG" and m["log"]["level"] == "WARN"]
    assert code == 0
    assert any(
        w.startswith("Incremental sync was asked for departments, which can only be read in full")
        and "need webhook_buffer_url" in w
        for w in warnings
    )
    assert len([m for m in messages if m["type"] == "RECORD"]) == len(simulator.store["departments"])


def test_version_names_the_package_and_the_cdk(capsys):
    from importlib.metadata import version

    connector_run.run(["--version"])
    assert (
        capsys.readouterr().out
        == f"source-zoho-desk {version('source-zoho-desk')} (airbyte-cdk {version('airbyte-cdk')})\n"
    )


def test_a_0_0_x_config_is_migrated_once_and_works(simulator, tmp_path, capsys):
    """The manifest-only 0.0.x connector's flat config: OAuth fields at the top, the data center as a token URL."""
    current = simulator.config()
    old = {
        "client_id": current["credentials"]["client_id"],
        "client_secret": current["credentials"]["client_secret"],
        "refresh_token": current["credentials"]["refresh_token"],
        "include_custom_domain": False,
        "token_refresh_endpoint": "https://accounts.zoho.eu/oauth/v2/token",
        # only to reach the simulator instead of Zoho:
        "desk_base_url": current["desk_base_url"],
        "accounts_base_url": current["accounts_base_url"],
    }
    code, messages = _run(tmp_path, capsys, "check", old)
    status = next(m["connectionStatus"] for m in messages if m["type"] == "CONNECTION_STATUS")
    assert code == 0 and status["status"] == "SUCCEEDED", status
    migrated = json.loads((tmp_path / "config.json").read_text())
    assert migrated["data_center"] == "eu"
    assert migrated["credentials"] == {
        "auth_type": "oauth2.0",
        "client_id": old["client_id"],
        "client_secret": old["client_secret"],
        "refresh_token": old["refresh_token"],
    }
    assert not {"client_id", "client_secret", "refresh_token", "token_refresh_endpoint", "include_custom_domain"} & set(
        migrated
    )
    announced = [m["control"]["connectorConfig"]["config"] for m in messages if m["type"] == "CONTROL"]
    assert announced and announced[0]["data_center"] == "eu"


def test_credentials_without_auth_type_are_read_by_the_secret_they_hold(simulator, tmp_path, capsys):
    config = simulator.config()
    del config["credentials"]["auth_type"]
    code, messages = _run(tmp_path, capsys, "check", config)
    status = next(m["connectionStatus"] for m in messages if m["type"] == "CONNECTION_STATUS")
    assert code == 0 and status["status"] == "SUCCEEDED", status
    assert "auth_type" not in json.loads((tmp_path / "config.json").read_text())["credentials"]  # not written back

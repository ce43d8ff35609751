"""`zoho-desk-webhooks register | list | delete` against the Zoho Desk simulator and a served receiver."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests
import yaml

from integration_tests.simulator import ZohoDeskSimulator
from source_zoho_desk.webhook_registration import main, subscriptions_of
from zoho_desk_webhooks import open_buffer

from .served import REPO_ROOT, ServedReceiver

ALL_EVENTS = ["Ticket_Add", "Ticket_Update", "Ticket_Delete", "Department_Add", "Department_Update"]


@pytest.fixture(scope="module")
def sim():
    with ZohoDeskSimulator(seed=7, tickets=20) as simulator:
        yield simulator


@pytest.fixture
def buffer_url(tmp_path):
    return f"sqlite:///{tmp_path}/buffer.db"


@pytest.fixture
def endpoint(sim, buffer_url):
    with open_buffer(buffer_url) as buffer:
        return buffer.create_endpoint(sim.org_id, sim.jwks_url)  # (endpoint_id, token)


@pytest.fixture
def receiver(buffer_url, endpoint):
    served = ServedReceiver(buffer_url)
    yield served
    served.kill()


@pytest.fixture
def config_path(sim, tmp_path):
    return write_config(tmp_path, sim.config())


@pytest.fixture(autouse=True)
def no_webhooks_left(sim):
    yield
    with sim.lock:
        sim.store["webhooks"].clear()


def write_config(directory, config, name="config.json"):
    path = directory / name
    path.write_text(json.dumps(config))
    return str(path)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def secrets_of(config):
    credentials = config["credentials"]
    return [v for k, v in credentials.items() if k != "auth_type" and k != "client_id" and v]


def test_register_list_delete(sim, capsys, config_path, buffer_url, endpoint, receiver):
    endpoint_id, token = endpoint
    url = f"{receiver.base_url}/webhooks/{token}"
    code, out, err = run(
        capsys,
        "register",
        "--config",
        config_path,
        "--url",
        url,
        "--buffer-url",
        buffer_url,
        "--endpoint-id",
        endpoint_id,
    )
    assert code == 0, err
    webhook_id = out.strip()
    hook = sim.store["webhooks"][webhook_id]
    assert hook["url"] == url and hook["isEnabled"] is True
    assert hook["subscriptions"] == {
        "Ticket_Add": None,
        "Ticket_Update": {"includePrevState": True},
        "Ticket_Delete": None,
        "Department_Add": None,
        "Department_Update": None,
    }
    assert [(v.method, v.status) for v in sim.hub.validations if v.url == url] == [("GET", 200)]
    with open_buffer(buffer_url) as buffer:
        assert buffer.list_endpoints()[0].webhook_id == webhook_id

    # Zoho now delivers to the receiver, which checks the audience strictly.
    ticket = sim.create_ticket(subject="registered", status="Open")
    sim.update_ticket(ticket["id"], status="Closed")
    sim.create_department(name="Registered dept")
    assert sim.wait_for_deliveries()
    foreign = sim.signer.sign(sim.org_id, "999", 300)
    refused = requests.post(
        url,
        json=[{"eventType": "Ticket_Add", "orgId": sim.org_id, "eventTime": "1", "payload": {"id": "1"}}],
        headers={"X-ZDesk-JWT": foreign},
        timeout=5,
    )
    assert refused.status_code == 401
    with open_buffer(buffer_url) as buffer:
        stored = buffer.read(sim.org_id, 0)
    assert [e.event_type for e in stored] == ["Ticket_Add", "Ticket_Update", "Department_Add"]
    assert stored[1].prev_state["status"] != "Closed"

    code, out, err = run(capsys, "list", "--config", config_path)
    assert code == 0
    assert webhook_id in out and ",".join(ALL_EVENTS) in out
    assert token not in out + err

    assert run(capsys, "delete", "--config", config_path, webhook_id)[0] == 0
    assert webhook_id not in sim.store["webhooks"]
    code, out, _ = run(capsys, "list", "--config", config_path)
    assert code == 0 and out.strip().splitlines() == ["webhook_id\tenabled\tname\tevents\turl"]
    code, _, err = run(capsys, "delete", "--config", config_path, webhook_id)
    assert code == 2 and "no webhook" in err

    assert all(secret not in out + err for secret in secrets_of(json.loads(open(config_path).read())))


def test_register_selected_streams_without_an_endpoint(sim, capsys, config_path, endpoint, receiver):
    _, token = endpoint
    code, out, err = run(
        capsys,
        "register",
        "--config",
        config_path,
        "--url",
        f"{receiver.base_url}/webhooks/{token}",
        "--streams",
        "departments",
        "--name",
        "depts",
    )
    assert code == 0, err
    hook = sim.store["webhooks"][out.strip()]
    assert hook["name"] == "depts" and set(hook["subscriptions"]) == {"Department_Add", "Department_Update"}
    assert "set-webhook-id" in err  # the tip to tighten the audience check later


def test_a_spent_grant_code_is_replaced_in_the_config_file(sim, capsys, tmp_path):
    config = sim.config()
    config["credentials"].pop("refresh_token")
    config["credentials"]["grant_code"] = sim.grant_code()
    path = write_config(tmp_path, config)
    assert run(capsys, "list", "--config", path)[0] == 0
    saved = json.loads(open(path).read())["credentials"]
    assert "grant_code" not in saved and saved["refresh_token"].startswith("1000.")
    code, _, err = run(capsys, "list", "--config", path)  # the code is spent; the refresh token works
    assert code == 0, err


def missing_scope(sim, tmp_path):
    config = sim.config()
    config["credentials"]["refresh_token"] = sim.refresh_token("Desk.tickets.READ,Desk.basic.READ")
    return write_config(tmp_path, config)


def revoked_token(sim, tmp_path):
    config = sim.config()
    sim.revoke(config["credentials"]["refresh_token"])
    return write_config(tmp_path, config)


def bad_org(sim, tmp_path):
    return write_config(tmp_path, sim.config(org_id="my-org"))


def unreachable_zoho(sim, tmp_path):
    return write_config(tmp_path, sim.config(desk_base_url="http://127.0.0.1:9/api/v1"))


def not_json(sim, tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{'not': json")
    return str(path)


# (case, config maker or None for the default, argv after --config with {url}/{token}/{endpoint}/{buffer}, message)
ERRORS = [
    ("receiver not reachable", None, ["--url", "http://127.0.0.1:9/webhooks/{token}"], "could not validate"),
    ("unknown path token", None, ["--url", "{base}/webhooks/not-the-token"], "could not validate"),
    ("missing scope", missing_scope, ["--url", "{url}"], "Desk.webhooks.CREATE"),
    ("revoked refresh token", revoked_token, ["--url", "{url}"], "refresh token"),
    ("bad org id", bad_org, ["--url", "{url}"], "'org_id'"),
    ("config not JSON", not_json, ["--url", "{url}"], "is not JSON"),
    ("Zoho unreachable", unreachable_zoho, ["--url", "{url}"], "cannot reach Zoho"),
    ("URL too long", None, ["--url", "https://" + "h" * 60 + ".example.com/webhooks/{token}"], "at most 100"),
    ("plain http", None, ["--url", "http://example.com/webhooks/{token}"], "https"),
    ("no endpoint path", None, ["--url", "https://example.com/hooks"], "/webhooks/<token>"),
    ("unknown stream", None, ["--url", "{url}", "--streams", "tickets,products"], "tickets, departments only"),
    ("endpoint without buffer", None, ["--url", "{url}", "--endpoint-id", "{endpoint}"], "needs --buffer-url"),
    ("another endpoint", None, ["--url", "{url}", "--buffer-url", "{buffer}", "--endpoint-id", "abc"], "belongs to"),
]


@pytest.mark.parametrize("case, make_config, argv, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_register_mistakes_give_one_line_and_exit_2(
    sim, capsys, tmp_path, monkeypatch, buffer_url, endpoint, receiver, case, make_config, argv, message
):
    monkeypatch.delenv("ZOHO_DESK_WEBHOOK_BUFFER_URL", raising=False)
    endpoint_id, token = endpoint
    path = make_config(sim, tmp_path) if make_config else write_config(tmp_path, sim.config())
    filled = [
        a.format(
            url=f"{receiver.base_url}/webhooks/{token}",
            base=receiver.base_url,
            token=token,
            endpoint=endpoint_id,
            buffer=buffer_url,
        )
        for a in argv
    ]
    code, out, err = run(capsys, "register", "--config", path, *filled)
    assert code == 2, out + err
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and token not in err and out == ""
    config = json.loads(open(path).read()) if make_config is not not_json else sim.config()
    assert all(secret not in err for secret in secrets_of(config))
    assert not sim.store["webhooks"]


def test_other_commands_report_zoho_problems_in_one_line(sim, capsys, tmp_path):
    assert run(capsys, "list", "--config", missing_scope(sim, tmp_path))[1:] == (
        "",
        "zoho-desk-webhooks: error: the config's OAuth token may not list webhooks (SCOPE_MISMATCH): generate a "
        "new grant code or refresh token that also has Desk.webhooks.READ (or Desk.settings.READ) and put it in "
        "the config\n",
    )
    code, _, err = run(capsys, "delete", "--config", write_config(tmp_path, sim.config()), "../tickets")
    assert code == 2 and "not a Zoho webhook id" in err
    code, _, err = run(capsys, "list", "--config", str(tmp_path / "nowhere.json"))
    assert code == 2 and "cannot read --config" in err


def test_errors_are_one_line_when_run_as_a_module(tmp_path):
    """`python -m ...cli` loads cli.py as __main__: registration's errors must still be caught there."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "source_zoho_desk.webhook_registration",
            "register",
            "--config",
            str(tmp_path / "none.json"),
            "--url",
            "https://example.com/webhooks/abc",
        ],
        cwd=REPO_ROOT,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        result.stderr.startswith("zoho-desk-webhooks: error: cannot read --config") and "Traceback" not in result.stderr
    )


def test_subscriptions_are_the_events_of_the_manifest_incremental_streams():
    manifest = yaml.safe_load((REPO_ROOT / "source_zoho_desk" / "manifest.yaml").read_text())
    streams = {name: s for name, s in manifest["definitions"]["incremental_streams"].items() if s.get("events")}
    assert subscriptions_of(list(streams)) == {
        event: ({"includePrevState": True} if event == "Ticket_Update" else None)
        for stream in streams.values()
        for event in stream["events"]
    }
    assert subscriptions_of(["departments"]) == {"Department_Add": None, "Department_Update": None}

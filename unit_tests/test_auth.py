"""OAuth: grant-code exchange, persisted tokens, token reuse, refresh on 401, and errors a person can act on."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest
import requests_mock

from unit_tests.conftest import DESK, ORG_ID, TOKEN_URL, make_config, run_read, token_answer

DEPARTMENTS = {"json": {"data": [{"id": "1892000000000001", "name": "Support"}]}}


def control_configs(capsys) -> list:
    """CONNECTOR_CONFIG messages go straight to stdout (the CDK prints them as soon as tokens change)."""
    found = []
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("{") and '"CONNECTOR_CONFIG"' in line:
            found.append(json.loads(line)["control"]["connectorConfig"]["config"])
    return found


def token_requests(mocker: requests_mock.Mocker) -> list:
    return [parse_qs(r.text) for r in mocker.request_history if r.url.startswith(TOKEN_URL)]


def test_grant_code_is_exchanged_once_and_the_refresh_token_is_persisted(capsys):
    config = make_config(auth_type="grant_code", refresh_token=None, grant_code="1000.code-xyz")
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer("1000.access-A", refresh_token="1000.refresh-NEW"))
        mocker.get(f"{DESK}/departments", **DEPARTMENTS)
        output = run_read(config, "departments")
        desk_calls = [r for r in mocker.request_history if r.url.startswith(DESK)]

    assert len(output.records) == 1
    exchanges = token_requests(mocker)
    assert len(exchanges) == 1
    assert exchanges[0]["grant_type"] == ["authorization_code"]
    assert exchanges[0]["code"] == ["1000.code-xyz"]
    assert desk_calls[0].headers["Authorization"] == "Zoho-oauthtoken 1000.access-A"
    assert desk_calls[0].headers["orgId"] == ORG_ID

    persisted = control_configs(capsys)
    assert persisted, "the spent grant code must be replaced by a refresh token in a CONNECTOR_CONFIG message"
    credentials = persisted[-1]["credentials"]
    assert credentials["refresh_token"] == "1000.refresh-NEW"
    assert credentials["auth_type"] == "oauth2.0"
    assert "grant_code" not in credentials
    assert credentials["access_token"] == "1000.access-A"
    assert datetime.fromisoformat(credentials["token_expiry_date"]) > datetime.now(timezone.utc) + timedelta(minutes=50)


def test_a_persisted_unexpired_access_token_is_reused_without_minting_a_new_one(capsys):
    expiry = (datetime.now(timezone.utc) + timedelta(minutes=40)).isoformat()
    config = make_config(access_token="1000.still-good", token_expiry_date=expiry)
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer("1000.should-not-be-used"))
        mocker.get(f"{DESK}/departments", **DEPARTMENTS)
        run_read(config, "departments")
        desk_calls = [r for r in mocker.request_history if r.url.startswith(DESK)]

    assert token_requests(mocker) == []
    assert desk_calls[0].headers["Authorization"] == "Zoho-oauthtoken 1000.still-good"
    assert control_configs(capsys) == []


def test_a_token_close_to_expiry_is_refreshed_and_persisted(capsys):
    expiry = (datetime.now(timezone.utc) + timedelta(minutes=2)).isoformat()
    config = make_config(access_token="1000.nearly-expired", token_expiry_date=expiry)
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer("1000.fresh"))
        mocker.get(f"{DESK}/departments", **DEPARTMENTS)
        run_read(config, "departments")

    refreshes = token_requests(mocker)
    assert [r["grant_type"] for r in refreshes] == [["refresh_token"]]
    assert refreshes[0]["refresh_token"] == ["1000.refresh-abc"]
    assert control_configs(capsys)[-1]["credentials"]["access_token"] == "1000.fresh"


def test_parallel_streams_share_one_token():
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/departments", **DEPARTMENTS)
        mocker.get(f"{DESK}/organizationFields", json={"data": [{"id": "5", "apiName": "subject"}]})
        output = run_read(make_config(), "departments", "organization_fields")

    assert len(output.records) == 1 + 10  # one department, one field in each of the 10 modules
    assert len(token_requests(mocker)) == 1


def test_a_rejected_access_token_is_refreshed_once_and_the_call_retried():
    expiry = (datetime.now(timezone.utc) + timedelta(minutes=40)).isoformat()
    config = make_config(access_token="1000.revoked", token_expiry_date=expiry)
    seen_tokens = []

    def departments(request, context):
        # The CDK re-sends the same prepared request, so read the header at call time.
        seen_tokens.append(request.headers["Authorization"])
        if len(seen_tokens) == 1:
            context.status_code = 401
            return {"errorCode": "INVALID_OAUTH", "message": "The OAuth Token you provided is invalid."}
        return DEPARTMENTS["json"]

    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer("1000.renewed"))
        mocker.get(f"{DESK}/departments", json=departments)
        output = run_read(config, "departments")

    assert len(output.records) == 1
    assert len(token_requests(mocker)) == 1
    assert seen_tokens == ["Zoho-oauthtoken 1000.revoked", "Zoho-oauthtoken 1000.renewed"]


@pytest.mark.parametrize(
    "credentials, token_error, expected",
    [
        (
            dict(auth_type="grant_code", refresh_token=None, grant_code="used"),
            "invalid_code",
            ["expired or was already used", "Generate Code", "Desk.tickets.READ"],
        ),
        ({}, "invalid_code", ["rejected the refresh token"]),
        ({}, "invalid_client", ["'eu' data center", "client id"]),
        ({}, "Access Denied", ["too many", "10 minutes"]),
    ],
)
def test_token_errors_answered_with_http_200_become_actionable_messages(credentials, token_error, expected):
    config = make_config(**credentials)
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json={"error": token_error})
        mocker.get(f"{DESK}/departments", **DEPARTMENTS)
        output = run_read(config, "departments", expect_failure=True)

    assert not output.records
    message = " ".join(e.trace.error.message for e in output.errors)
    for fragment in expected:
        assert fragment in message
    assert "s3cr3t-client" not in message and "1000.refresh-abc" not in message


def test_org_mismatch_names_the_org_id():
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(
            f"{DESK}/departments",
            status_code=401,
            json={"errorCode": "OAUTH_ORG_MISMATCH", "message": "orgId mismatch"},
        )
        output = run_read(make_config(), "departments", expect_failure=True)

    message = " ".join(e.trace.error.message for e in output.errors)
    assert f"Organization id {ORG_ID} does not belong" in message
    assert len(token_requests(mocker)) == 1, "an org mismatch is not a token problem: no refresh loop"


def test_missing_scope_names_the_stream_and_its_scope():
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/products", status_code=403, json={"errorCode": "SCOPE_MISMATCH", "message": "scope"})
        output = run_read(make_config(), "products", expect_failure=True)

    message = " ".join(e.trace.error.message for e in output.errors)
    assert "'products' stream needs: Desk.products.READ" in message


def test_the_exchanged_refresh_token_is_written_back_to_the_config_file(tmp_path):
    path = tmp_path / "config.json"
    config = make_config(auth_type="grant_code", refresh_token=None, grant_code="1000.code-xyz")
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer("1000.access-A", refresh_token="1000.refresh-NEW"))
        mocker.get(f"{DESK}/departments", **DEPARTMENTS)
        run_read(config, "departments", config_path=str(path))

    saved = json.loads(path.read_text())
    assert saved["credentials"]["refresh_token"] == "1000.refresh-NEW"
    assert "grant_code" not in saved["credentials"]
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_refresh_never_rewrites_the_config_file_and_the_next_run_reuses_the_token(tmp_path, capsys):
    path = tmp_path / "config.json"
    original = json.dumps(make_config())
    path.write_text(original)
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, [{"json": token_answer("1000.minted-once")}, {"json": token_answer("1000.second")}])
        mocker.get(f"{DESK}/departments", **DEPARTMENTS)
        run_read(make_config(), "departments", config_path=str(path))
        run_read(make_config(), "departments", config_path=str(path))  # a new run, as a new process would be
        used = [r.headers["Authorization"] for r in mocker.request_history if r.url.startswith(DESK)]

    assert path.read_text() == original
    assert len(token_requests(mocker)) == 1
    assert used == ["Zoho-oauthtoken 1000.minted-once"] * 2


def test_an_unreadable_or_expired_cached_token_is_not_used(tmp_path):
    from source_zoho_desk import token_cache
    from source_zoho_desk.components.auth import ZohoTokenManager

    config = make_config()
    entry = token_cache.cache_file(TOKEN_URL, "1000.CLIENT", "1000.refresh-abc")
    token_cache.save(entry, "1000.expired", (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat())
    assert token_cache.load(entry) is not None and entry.stat().st_mode & 0o777 == 0o600
    ZohoTokenManager(config)
    assert "access_token" not in config["credentials"]
    entry.write_text("{not json")
    ZohoTokenManager(config)
    assert "access_token" not in config["credentials"]

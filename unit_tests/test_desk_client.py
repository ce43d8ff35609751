"""DeskClient, the client of every Desk call outside the streams (check, incremental reads, webhook commands): the
streams' error table, retries, waits and timeouts; one unreadable record is skipped, a refused module stops."""

from __future__ import annotations

import logging
import socket
from datetime import datetime, timedelta, timezone

import pytest
import requests
import requests_mock
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from urllib3.exceptions import MaxRetryError, NewConnectionError

from source_zoho_desk import packaged_manifest
from source_zoho_desk.desk_client import DeskClient
from unit_tests.conftest import DESK, TOKEN_URL, make_config, run_read, token_answer
from unit_tests.scripted_desk import ScriptedDesk

TICKET = "1892000000000009"
RECORD = {"id": TICKET, "subject": "Printer on fire"}


@pytest.fixture
def waits(monkeypatch):
    """Backoff waits are real seconds; the tests only need to know which were asked for."""
    asked = []
    monkeypatch.setattr("time.sleep", lambda seconds: asked.append(seconds))
    return asked


def with_token(**overrides):
    """A config whose access token is still valid, so a test server needs no token endpoint."""
    expiry = (datetime.now(timezone.utc) + timedelta(minutes=40)).isoformat()
    return {**make_config(access_token="1000.access-1", token_expiry_date=expiry), **overrides}


def fetch(status_code, body):
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/tickets/{TICKET}", status_code=status_code, json=body)
        return DeskClient(make_config()).get_record("tickets", TICKET)


def test_a_readable_record_comes_back():
    assert fetch(200, RECORD) == RECORD


@pytest.mark.parametrize(
    "status_code, body",
    [
        (404, {"errorCode": "URL_NOT_FOUND", "message": "gone"}),
        (403, {"errorCode": "FORBIDDEN", "message": "You do not have permission to view this ticket"}),
        (422, {"errorCode": "UNPROCESSABLE_ENTITY", "message": "The ticket is in spam"}),
    ],
)
def test_a_record_zoho_will_not_show_is_skipped_not_fatal(status_code, body, caplog):
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert fetch(status_code, body) is None
    if status_code != 404:
        assert f"Skipped tickets/{TICKET}: Zoho Desk answered HTTP {status_code} ({body['errorCode']})" in caplog.text


def test_a_refused_module_stops_with_a_config_error():
    with pytest.raises(AirbyteTracedException) as error:
        fetch(403, {"errorCode": "SCOPE_MISMATCH", "message": "scope"})
    assert error.value.failure_type.value == "config_error"
    assert (
        "The Zoho token lacks the scope the 'tickets' stream needs: Desk.tickets.READ and Desk.search.READ."
        in error.value.message
    )


def test_other_failures_still_fail_the_sync():
    with pytest.raises(AirbyteTracedException) as error:
        fetch(400, {"errorCode": "INVALID_DATA", "message": "bad"})
    assert "HTTP 400 (INVALID_DATA)" in error.value.message


def test_a_connection_reset_is_retried(waits):
    with ScriptedDesk("reset", ("json", RECORD)) as desk:
        record = DeskClient(with_token(desk_base_url=desk.base_url)).get_record("tickets", TICKET)
    assert record == RECORD
    assert [path for _, path in desk.requests] == [f"/api/v1/tickets/{TICKET}"] * 2


def test_a_read_timeout_is_retried(waits, monkeypatch):
    # The manifest's read timeout is a minute; the server here stays silent for longer than a shorter one.
    monkeypatch.setitem(packaged_manifest.definitions()["requester"], "read_timeout_in_seconds", 0.5)
    with ScriptedDesk("silence", ("json", {"data": [RECORD]})) as desk:
        rows = DeskClient(with_token(desk_base_url=desk.base_url)).list_page("tickets", 0, 100)
    assert rows == [RECORD]
    assert len(desk.requests) == 2


def test_a_post_is_not_repeated_after_its_connection_broke(waits):
    """Zoho may have created the webhook before the connection broke: a second POST would create another."""
    with ScriptedDesk("reset", ("json", {"id": "1"})) as desk:
        with pytest.raises(AirbyteTracedException) as error:
            DeskClient(with_token(desk_base_url=desk.base_url)).request("POST", "webhooks", json={"url": "https://x"})
    assert "broke during a POST that may have taken effect, so it is not repeated" in error.value.message
    assert len(desk.requests) == 1


@pytest.mark.parametrize(
    "first",
    [
        {
            "status_code": 200,
            "text": "<html><body>Down for maintenance</body></html>",
            "headers": {"Content-Type": "text/html"},
        },
        {"status_code": 200, "text": '{"data": [{"id": "1892000000000009", "subj'},
    ],
    ids=["html", "truncated_json"],
)
def test_an_unreadable_200_is_retried_not_read_as_empty(first, waits):
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/recycleBin", [first, {"json": {"data": [RECORD]}}])
        rows = DeskClient(make_config()).list_page("recycleBin", 0, 100)
    assert rows == [RECORD]
    assert len([r for r in mocker.request_history if r.url.startswith(DESK)]) == 2


def test_a_204_instead_of_the_record_is_asked_again_not_taken_for_an_empty_record(waits):
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/tickets/{TICKET}", [{"status_code": 204}, {"json": RECORD}])
        record = DeskClient(make_config()).get_record("tickets", TICKET)
    assert record == RECORD
    assert len([r for r in mocker.request_history if r.url.startswith(DESK)]) == 2


def test_a_rejected_token_is_refreshed_and_the_call_retried_at_once(waits):
    seen = []

    def ticket(request, context):
        seen.append(request.headers["Authorization"])
        if len(seen) == 1:
            context.status_code = 401
            return {"errorCode": "INVALID_OAUTH", "message": "The OAuth Token you provided is invalid."}
        return RECORD

    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer("1000.renewed"))
        mocker.get(f"{DESK}/tickets/{TICKET}", json=ticket)
        record = DeskClient(with_token()).get_record("tickets", TICKET)
    assert record == RECORD
    assert seen == ["Zoho-oauthtoken 1000.access-1", "Zoho-oauthtoken 1000.renewed"]
    assert len([r for r in mocker.request_history if r.url == TOKEN_URL]) == 1
    assert all(wait < 2 for wait in waits), "a refreshed token is tried without the server-error backoff"


def test_a_token_rejected_again_after_the_refresh_says_to_re_authenticate(waits):
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer("1000.renewed"))
        mocker.get(f"{DESK}/departments", status_code=401, json={"errorCode": "INVALID_OAUTH", "message": "invalid"})
        with pytest.raises(AirbyteTracedException) as error:
            DeskClient(with_token()).list_page("departments", 0, 1)
    assert error.value.failure_type.value == "config_error"
    assert "rejected the access token (INVALID_OAUTH) even after refreshing it. Re-authenticate" in error.value.message
    assert len([r for r in mocker.request_history if r.url == TOKEN_URL]) == 1


def test_a_rate_limit_waits_its_retry_after(waits):
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(
            f"{DESK}/departments",
            [
                {
                    "status_code": 429,
                    "headers": {"Retry-After": "7"},
                    "json": {"errorCode": "TOO_MANY_REQUESTS", "message": "slow"},
                },
                {"json": {"data": [RECORD]}},
            ],
        )
        rows = DeskClient(make_config()).list_page("departments", 0, 1)
    assert rows == [RECORD]
    assert any(7 <= wait <= 8 for wait in waits)


def test_spent_daily_credits_end_the_call_with_a_clear_message(waits):
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(
            f"{DESK}/recycleBin",
            status_code=429,
            headers={"Retry-After": "43200"},
            json={"errorCode": "THRESHOLD_EXCEEDED", "message": "limit"},
        )
        with pytest.raises(AirbyteTracedException) as error:
            DeskClient(make_config()).list_page("recycleBin", 0, 100)
    assert error.value.failure_type.value == "transient_error"
    assert "spent its daily API credits" in error.value.message and "reset within 24 hours" in error.value.message
    assert len([r for r in mocker.request_history if r.url.startswith(DESK)]) == 1, "no point retrying for hours"


def test_a_host_that_never_answered_fails_at_once_with_a_sentence(waits):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(AirbyteTracedException) as error:
        DeskClient(with_token(desk_base_url=f"http://127.0.0.1:{port}/api/v1")).get("departments")
    assert f"cannot reach Zoho Desk at 127.0.0.1:{port}" in error.value.message
    assert "desk_base_url" in error.value.message
    assert waits == []


def test_a_host_that_answered_before_is_retried_when_it_refuses_a_connection(waits):
    refused = requests.exceptions.ConnectionError(
        MaxRetryError(None, "/api/v1/departments", NewConnectionError(None, "refused"))
    )
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/departments", [{"json": {"data": []}}, {"exc": refused}, {"json": {"data": [RECORD]}}])
        client = DeskClient(make_config())
        assert client.list_page("departments", 0, 1) == []
        assert client.list_page("departments", 0, 1) == [RECORD]


def test_the_client_retries_and_times_out_like_a_stream(waits):
    down = {"status_code": 503, "json": {"errorCode": "INTERNAL_SERVER_ERROR", "message": "down"}}
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/departments", **down)
        run_read(make_config(), "departments", expect_failure=True)
        stream_calls = [r for r in mocker.request_history if r.url.startswith(DESK)]
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/departments", **down)
        with pytest.raises(AirbyteTracedException):
            DeskClient(make_config()).list_page("departments", 0, 1)
        client_calls = [r for r in mocker.request_history if r.url.startswith(DESK)]
    assert len(client_calls) == len(stream_calls) == 6  # the call and the manifest's 5 retries
    connect, read = client_calls[0].timeout
    assert connect and read, "every call has a connect and a read timeout"
    assert client_calls[0].timeout == stream_calls[0].timeout

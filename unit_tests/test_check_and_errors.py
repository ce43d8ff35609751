"""check answers with sentences a person can act on; rate limits and server errors are retried, spent credits
stop the sync with a clear message."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests_mock

from unit_tests.conftest import DESK, TOKEN_URL, make_config, run_check, run_read, token_answer

DEPARTMENTS = {"json": {"data": [{"id": "1892000000000001", "name": "Support"}]}}


@pytest.fixture
def no_sleep(monkeypatch):
    """Backoff waits are real seconds; the tests only need to know they were asked for."""
    waits = []
    monkeypatch.setattr("time.sleep", lambda seconds: waits.append(seconds))
    return waits


def status_of(output):
    (message,) = output.connection_status_messages
    return message.connectionStatus


def test_check_reports_a_wrong_data_center_plainly():
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json={"error": "invalid_client"})
        status = status_of(run_check(make_config()))
    assert status.status.value == "FAILED"
    assert status.message.startswith("Zoho does not know this client id/secret in the 'eu' data center")


def test_check_reports_an_org_mismatch_plainly():
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(
            f"{DESK}/departments", status_code=401, json={"errorCode": "OAUTH_ORG_MISMATCH", "message": "mismatch"}
        )
        status = status_of(run_check(make_config()))
    assert status.status.value == "FAILED"
    assert "Organization id 700012345 does not belong" in status.message


def test_check_succeeds_when_every_stream_answers():
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/departments", **DEPARTMENTS)
        mocker.get(
            f"{DESK}/organizationFields", json={"data": [{"id": "7", "apiName": "subject", "isCustomField": False}]}
        )
        mocker.get(f"{DESK}/tickets/search", json={"data": [{"id": "1892000000000009"}], "count": 1})
        mocker.get(f"{DESK}/products", json={"data": [{"id": "1892000000000010"}]})
        mocker.get(f"{DESK}/products/1892000000000010", json={"id": "1892000000000010", "productName": "P"})
        mocker.get(f"{DESK}/contracts", status_code=204)
        status = status_of(run_check(make_config()))
    assert status.status.value == "SUCCEEDED", status.message


@pytest.mark.parametrize(
    "config_change, expected",
    [
        ({"org_id": "my-org"}, "'org_id' must be the digits"),
        ({"desk_base_url": "http://proxy.example.com/api/v1"}, "'desk_base_url' must be an https:// URL"),
        ({"data_center": "us"}, "'data_center' is 'us'; expected one of com, eu"),
        ({"data_center": ["eu"]}, "'data_center' is ['eu']; expected one of com, eu"),
        ({"credentials": {"client_id": "a", "client_secret": "b"}}, "needs a refresh_token, or a grant_code"),
    ],
)
def test_console_script_refuses_bad_config_with_a_sentence(tmp_path, config_change, expected):
    config = {**make_config(), **config_change}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = subprocess.run(
        [sys.executable, "-m", "source_zoho_desk.run", "check", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    statuses = [m["connectionStatus"] for m in messages if m["type"] == "CONNECTION_STATUS"]
    assert result.returncode == 0
    assert statuses[0]["status"] == "FAILED"
    assert expected in statuses[0]["message"]
    assert "Traceback" not in result.stdout + result.stderr


def test_concurrency_429_is_retried(no_sleep):
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(
            f"{DESK}/departments",
            [{"status_code": 429, "json": {"errorCode": "TOO_MANY_REQUESTS", "message": "slow down"}}, DEPARTMENTS],
        )
        output = run_read(make_config(), "departments")
    assert len(output.records) == 1
    assert no_sleep, "a 429 must wait before retrying"


def test_server_errors_and_connection_resets_are_retried(no_sleep):
    import requests

    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(
            f"{DESK}/departments",
            [
                {"status_code": 500, "json": {"errorCode": "INTERNAL_SERVER_ERROR", "message": "oops"}},
                {"exc": requests.exceptions.ConnectionError("reset by peer")},
                DEPARTMENTS,
            ],
        )
        output = run_read(make_config(), "departments")
    assert len(output.records) == 1
    assert len([r for r in mocker.request_history if r.url.startswith(DESK)]) == 3


def test_server_errors_give_up_after_bounded_retries(no_sleep):
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(
            f"{DESK}/departments", status_code=503, json={"errorCode": "INTERNAL_SERVER_ERROR", "message": "down"}
        )
        output = run_read(make_config(), "departments", expect_failure=True)
    assert output.errors
    assert len([r for r in mocker.request_history if r.url.startswith(DESK)]) == 6  # the call and 5 retries


def test_a_short_credit_pause_is_waited_out(no_sleep):
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(
            f"{DESK}/departments",
            [
                {
                    "status_code": 429,
                    "headers": {"Retry-After": "30"},
                    "json": {"errorCode": "THRESHOLD_EXCEEDED", "message": "x"},
                },
                DEPARTMENTS,
            ],
        )
        output = run_read(make_config(), "departments")
    assert len(output.records) == 1
    assert any(29 <= w <= 32 for w in no_sleep)


def test_spent_daily_credits_stop_the_sync_with_a_clear_message(no_sleep):
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(
            f"{DESK}/departments",
            status_code=429,
            headers={"Retry-After": "43200"},
            json={"errorCode": "THRESHOLD_EXCEEDED", "message": "x"},
        )
        output = run_read(make_config(), "departments", expect_failure=True)
    message = " ".join(e.trace.error.message for e in output.errors)
    assert "spent its daily API credits" in message and "reset within 24 hours" in message
    assert len([r for r in mocker.request_history if r.url.startswith(DESK)]) == 1, "no point retrying for hours"


def test_credits_are_reported_at_the_end_of_each_stream():
    headers = {"X-Rate-Limit-Request-Weight-v3": "3", "X-Rate-Limit-Remaining-v3": "4990"}
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/departments", json=DEPARTMENTS["json"], headers=headers)
        output = run_read(make_config(), "departments")
    logs = [m.log.message for m in output.logs]
    assert (
        "Finished departments: 1 records from 1 API calls, 3 Zoho API credits used; 4,990 credits left today." in logs
    )


def test_check_names_the_stream_whose_scope_is_missing():
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        for path in ("departments", "tickets/search", "products"):
            mocker.get(f"{DESK}/{path}", status_code=204)
        mocker.get(f"{DESK}/contracts", status_code=403, json={"errorCode": "SCOPE_MISMATCH", "message": "no"})
        status = status_of(run_check(make_config()))
    assert status.status.value == "FAILED"
    assert "'contracts' stream needs: Desk.contracts.READ and Desk.settings.READ" in status.message


def test_check_reports_an_unreachable_webhook_buffer_without_its_password():
    config = {**make_config(), "webhook_buffer_url": "postgresql://airbyte:hunter2@127.0.0.1:1/zoho"}
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(requests_mock.ANY, status_code=204)
        status = status_of(run_check(config))
    assert status.status.value == "FAILED"
    assert "Could not open the webhook buffer postgresql://airbyte:***@127.0.0.1:1/zoho" in status.message
    assert "hunter2" not in status.message


def test_an_html_page_answered_with_200_is_retried_not_read_as_an_empty_list(no_sleep):
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(
            f"{DESK}/departments",
            [
                {
                    "status_code": 200,
                    "text": "<html>Service Unavailable</html>",
                    "headers": {"Content-Type": "text/html"},
                },
                DEPARTMENTS,
            ],
        )
        output = run_read(make_config(), "departments")
    assert len(output.records) == 1
    assert len([r for r in mocker.request_history if r.url.startswith(DESK)]) == 2


def test_one_product_hidden_from_the_user_is_skipped_and_the_others_are_read(caplog):
    products = [{"id": "1892000000000010"}, {"id": "1892000000000011"}]
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/products", json={"data": products})
        mocker.get(
            f"{DESK}/products/1892000000000010",
            status_code=403,
            json={"errorCode": "FORBIDDEN", "message": "no access"},
        )
        mocker.get(f"{DESK}/products/1892000000000011", json={"id": "1892000000000011", "productName": "Printer"})
        with caplog.at_level("WARNING", logger="airbyte"):
            output = run_read(make_config(), "products")
    assert [r.record.data["productName"] for r in output.records] == ["Printer"]
    assert "Skipped products/1892000000000010: Zoho Desk answered HTTP 403 (FORBIDDEN)" in caplog.text


def test_a_refused_module_still_stops_the_product_reads():
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/products", json={"data": [{"id": "1892000000000010"}]})
        mocker.get(
            f"{DESK}/products/1892000000000010",
            status_code=403,
            json={"errorCode": "LICENSE_ACCESS_LIMITED", "message": "Not in your edition"},
        )
        output = run_read(make_config(), "products", expect_failure=True)
    message = " ".join(e.trace.error.message for e in output.errors)
    assert "this portal's Zoho Desk edition does not include it. Deselect the stream." in message


def test_check_names_a_desk_host_that_does_not_answer():
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {**make_config(), "desk_base_url": f"http://127.0.0.1:{port}/api/v1"}
    with requests_mock.Mocker(real_http=True) as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        status = status_of(run_check(config))
    assert status.status.value == "FAILED"
    assert status.message.startswith(f"The connector cannot reach Zoho Desk at 127.0.0.1:{port} (could not connect).")


def test_check_fails_when_the_token_cannot_search_tickets():
    """The tickets snapshot reads /tickets/search: a token without Desk.search.READ fails check, not the sync."""
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/departments", **DEPARTMENTS)
        mocker.get(f"{DESK}/tickets", json={"data": [{"id": "1892000000000009"}]})
        mocker.get(f"{DESK}/tickets/search", status_code=403, json={"errorCode": "SCOPE_MISMATCH", "message": "no"})
        status = status_of(run_check(make_config()))
    assert status.status.value == "FAILED"
    assert "'tickets' stream needs: Desk.tickets.READ and Desk.search.READ" in status.message

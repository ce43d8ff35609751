"""A run's tokens and credits belong to that run: nothing is shared through module state."""

from __future__ import annotations

import requests_mock

from unit_tests.conftest import DESK, TOKEN_URL, make_config, run_read, token_answer

DEPARTMENTS = {"json": {"data": [{"id": "1", "name": "Support"}]}, "headers": {"X-Rate-Limit-Request-Weight-v3": "3"}}


def _finished_line(output, stream):
    return next(m.log.message for m in output.logs if m.log.message.startswith(f"Finished {stream}:"))


def test_each_run_reports_only_its_own_calls_and_credits():
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/departments", **DEPARTMENTS)
        first = run_read(make_config(), "departments")
        second = run_read(make_config(), "departments")

    expected = "Finished departments: 1 records from 1 API calls, 3 Zoho API credits used"
    assert _finished_line(first, "departments").startswith(expected)
    assert _finished_line(second, "departments").startswith(expected)


def test_each_run_has_its_own_token_manager():
    """A second connection's run must not reuse the first one's access token (another client, another org)."""
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, [{"json": token_answer("1000.access-one")}, {"json": token_answer("1000.access-two")}])
        mocker.get(f"{DESK}/departments", **DEPARTMENTS)
        run_read(make_config(), "departments")
        run_read(make_config(client_id="1000.OTHER", refresh_token="1000.refresh-other"), "departments")
        used = [r.headers["Authorization"] for r in mocker.request_history if r.url.startswith(DESK)]

    assert used == ["Zoho-oauthtoken 1000.access-one", "Zoho-oauthtoken 1000.access-two"]

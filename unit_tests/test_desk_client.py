"""Fetching a record by id for a webhook event: one unreadable record is skipped, a refused module stops the sync."""

from __future__ import annotations

import logging

import pytest
import requests_mock
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.desk_client import DeskClient
from unit_tests.conftest import DESK, TOKEN_URL, make_config, token_answer

TICKET = "1892000000000009"


def fetch(status_code, body):
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/tickets/{TICKET}", status_code=status_code, json=body)
        return DeskClient(make_config()).get_record("tickets", TICKET)


def test_a_readable_record_comes_back():
    assert fetch(200, {"id": TICKET, "subject": "Printer on fire"}) == {"id": TICKET, "subject": "Printer on fire"}


@pytest.mark.parametrize("status_code, body", [
    (404, {"errorCode": "URL_NOT_FOUND", "message": "gone"}),
    (403, {"errorCode": "FORBIDDEN", "message": "You do not have permission to view this ticket"}),
    (422, {"errorCode": "UNPROCESSABLE_ENTITY", "message": "The ticket is in spam"}),
])
def test_a_record_zoho_will_not_show_is_skipped_not_fatal(status_code, body, caplog):
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert fetch(status_code, body) is None
    if status_code != 404:
        assert f"Skipped tickets/{TICKET}: Zoho Desk answered HTTP {status_code} ({body['errorCode']})" in caplog.text


def test_a_refused_module_stops_with_a_config_error():
    with pytest.raises(AirbyteTracedException) as error:
        fetch(403, {"errorCode": "SCOPE_MISMATCH", "message": "scope"})
    assert error.value.failure_type.value == "config_error"
    assert "Zoho Desk refused to read tickets (SCOPE_MISMATCH)" in error.value.message


def test_other_failures_still_fail_the_sync():
    with pytest.raises(AirbyteTracedException) as error:
        fetch(400, {"errorCode": "INVALID_DATA", "message": "bad"})
    assert "HTTP 400 (INVALID_DATA)" in error.value.message

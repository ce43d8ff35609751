"""One host rule (zoho_hosts.py): the streams and the DeskClient both call the configured data center's Desk host."""

from __future__ import annotations

import pytest
import requests_mock

from source_zoho_desk import zoho_hosts
from source_zoho_desk.desk_client import DeskClient
from unit_tests.conftest import make_config, run_read, token_answer

EXPECTED_DESK = {
    "com": "https://desk.zoho.com/api/v1",
    "eu": "https://desk.zoho.eu/api/v1",
    "zohocloud.ca": "https://desk.zohocloud.ca/api/v1",
    "com.cn": "https://desk.zoho.com.cn/api/v1",
}


@pytest.mark.parametrize("data_center", sorted(EXPECTED_DESK))
def test_streams_and_the_client_call_the_data_centers_desk_host(data_center):
    config = {**make_config(), "data_center": data_center}
    desk = EXPECTED_DESK[data_center]
    with requests_mock.Mocker() as mocker:
        mocker.post(zoho_hosts.token_url(config), json=token_answer())
        mocker.get(f"{desk}/departments", json={"data": [{"id": "1892000000000001", "name": "Support"}]})
        output = run_read(config, "departments")
        answer = DeskClient(config).get("departments", params={"limit": 1})
    assert [r.record.data["name"] for r in output.records] == ["Support"]
    assert answer.status_code == 200


def test_a_desk_base_url_override_is_used_by_streams_and_client():
    config = {**make_config(), "desk_base_url": "http://127.0.0.1:9/zoho/api/v1/"}
    with requests_mock.Mocker() as mocker:
        mocker.post(zoho_hosts.token_url(config), json=token_answer())
        mocker.get(
            "http://127.0.0.1:9/zoho/api/v1/departments", json={"data": [{"id": "1892000000000001", "name": "Proxy"}]}
        )
        output = run_read(config, "departments")
        client = DeskClient(config)
        rows = client.list_page("departments", 0, 1)
    assert [r.record.data["name"] for r in output.records] == ["Proxy"]
    assert rows == [{"id": "1892000000000001", "name": "Proxy"}]
    assert client.base_url == "http://127.0.0.1:9/zoho/api/v1"


def test_canada_accounts_host_and_overrides():
    assert zoho_hosts.token_url({"data_center": "zohocloud.ca"}) == "https://accounts.zohocloud.ca/oauth/v2/token"
    assert zoho_hosts.token_url({"data_center": "jp"}) == "https://accounts.zoho.jp/oauth/v2/token"
    config = {
        "data_center": "eu",
        "desk_base_url": "http://127.0.0.1:9/api/v1/",
        "accounts_base_url": "http://127.0.0.1:9",
    }
    assert zoho_hosts.desk_api_base(config) == "http://127.0.0.1:9/api/v1"
    assert zoho_hosts.token_url(config) == "http://127.0.0.1:9/oauth/v2/token"


def test_grant_code_help_names_the_right_api_console_for_canada():
    from source_zoho_desk.components.auth import token_error

    canada = token_error("invalid_code", exchanging_code=True, data_center="zohocloud.ca").message
    assert "https://api-console.zohocloud.ca" in canada
    assert "https://api-console.zoho.eu" in token_error("invalid_code", exchanging_code=True, data_center="eu").message

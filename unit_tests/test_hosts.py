"""The manifest's Jinja and zoho_hosts.py must pick the same Desk host for every data center."""

from __future__ import annotations

import pytest
from airbyte_cdk.sources.declarative.interpolation import InterpolatedString

from source_zoho_desk import zoho_hosts
from source_zoho_desk.source import SourceZohoDesk
from unit_tests.conftest import make_config

EXPECTED_DESK = {
    "com": "https://desk.zoho.com/api/v1",
    "eu": "https://desk.zoho.eu/api/v1",
    "zohocloud.ca": "https://desk.zohocloud.ca/api/v1",
    "com.cn": "https://desk.zoho.com.cn/api/v1",
}


@pytest.mark.parametrize("data_center", sorted(zoho_hosts.DATA_CENTERS))
def test_manifest_and_python_agree_on_the_desk_host(data_center):
    config = {**make_config(), "data_center": data_center}
    template = SourceZohoDesk(config=config).resolved_manifest["definitions"]["desk_url_base"]
    from_manifest = InterpolatedString.create(template, parameters={}).eval(config)
    assert from_manifest == zoho_hosts.desk_api_base(config)
    if data_center in EXPECTED_DESK:
        assert from_manifest == EXPECTED_DESK[data_center]


def test_canada_accounts_host_and_overrides():
    assert zoho_hosts.token_url({"data_center": "zohocloud.ca"}) == "https://accounts.zohocloud.ca/oauth/v2/token"
    assert zoho_hosts.token_url({"data_center": "jp"}) == "https://accounts.zoho.jp/oauth/v2/token"
    config = {"data_center": "eu", "desk_base_url": "http://127.0.0.1:9/api/v1/", "accounts_base_url": "http://127.0.0.1:9"}
    assert zoho_hosts.desk_api_base(config) == "http://127.0.0.1:9/api/v1"
    assert zoho_hosts.token_url(config) == "http://127.0.0.1:9/oauth/v2/token"


def test_grant_code_help_names_the_right_api_console_for_canada():
    from source_zoho_desk.components.auth import token_error

    canada = token_error("invalid_code", exchanging_code=True, data_center="zohocloud.ca").message
    assert "https://api-console.zohocloud.ca" in canada
    assert "https://api-console.zoho.eu" in token_error("invalid_code", exchanging_code=True, data_center="eu").message

"""`org_id` may be left out when the token's user belongs to one Zoho Desk organization: the connector uses it
and says which; with several it names them."""

from __future__ import annotations

import copy

import pytest
import requests_mock
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.connector_config import ConnectorConfig
from source_zoho_desk.organization import ensure_org_id
from source_zoho_desk.source import SourceZohoDesk
from unit_tests.conftest import DESK, TOKEN_URL, make_config, token_answer


def test_without_org_id_the_only_organization_is_used_and_named(simulator):
    config = simulator.config()
    del config["org_id"]
    catalog = CatalogBuilder().with_stream("departments", SyncMode.full_refresh).build()
    output = read(SourceZohoDesk(config=copy.deepcopy(config), catalog=catalog, state=None), config, catalog)
    assert not output.errors
    assert len(output.records) == len(simulator.store["departments"])
    name = simulator.store.organization.get("companyName")
    assert any(
        m.log.message == f"No org_id in the config: using the only Zoho Desk organization of this account, "
        f"{name} (org_id {simulator.org_id})."
        for m in output.logs
    )
    desk_calls = [r for r in simulator.desk_requests() if r.path == "/api/v1/departments"]
    assert desk_calls and all(r.headers.get("orgId") == simulator.org_id for r in desk_calls)


@pytest.mark.parametrize(
    "organizations, expected",
    [
        (
            [{"id": "111", "companyName": "Acme"}, {"id": "222", "companyName": "Acme EU"}],
            "belongs to 2 Zoho Desk organizations (Acme (org_id 111); Acme EU (org_id 222)). Set 'org_id' to the one to read.",
        ),
        ([], "belongs to no Zoho Desk organization"),
    ],
)
def test_without_org_id_several_or_no_organizations_are_a_clear_error(organizations, expected):
    config = ConnectorConfig({k: v for k, v in make_config().items() if k != "org_id"})
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        listing = mocker.get(f"{DESK}/organizations", json={"data": organizations})
        with pytest.raises(AirbyteTracedException) as raised:
            ensure_org_id(config)
    assert expected in raised.value.message
    assert "orgId" not in listing.last_request.headers  # the listing is not scoped to an organization
    assert "org_id" not in config

"""Shared helpers for fast tests that mock Zoho's HTTP answers (requests-mock)."""

from __future__ import annotations

import copy
from typing import Any, Dict, Optional

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read

from source_zoho_desk.source import SourceZohoDesk

DESK = "https://desk.zoho.eu/api/v1"
TOKEN_URL = "https://accounts.zoho.eu/oauth/v2/token"
ORG_ID = "700012345"


def make_config(**credentials: Any) -> Dict[str, Any]:
    creds = {
        "auth_type": "oauth2.0",
        "client_id": "1000.CLIENT",
        "client_secret": "s3cr3t-client",
        "refresh_token": "1000.refresh-abc",
    }
    creds.update(credentials)
    return {"data_center": "eu", "org_id": ORG_ID, "credentials": {k: v for k, v in creds.items() if v is not None}}


def token_answer(access_token: str = "1000.access-1", **extra: Any) -> Dict[str, Any]:
    return {
        "access_token": access_token,
        "api_domain": "https://www.zohoapis.eu",
        "token_type": "Bearer",
        "expires_in": 3600,
        **extra,
    }


def run_read(
    config: Dict[str, Any], *streams: str, expect_failure: bool = False, config_path: Optional[str] = None
) -> EntrypointOutput:
    from airbyte_cdk.test.models.outcome import ExpectedOutcome

    builder = CatalogBuilder()
    for stream in streams:
        builder.with_stream(stream, SyncMode.full_refresh)
    catalog = builder.build()
    source = SourceZohoDesk(config=copy.deepcopy(config), catalog=catalog, state=None, config_path=config_path)
    outcome = ExpectedOutcome.EXPECT_EXCEPTION if expect_failure else ExpectedOutcome.EXPECT_SUCCESS
    return read(source, config, catalog, expected_outcome=outcome)


def run_check(config: Dict[str, Any]) -> EntrypointOutput:
    import tempfile
    from pathlib import Path

    from airbyte_cdk.test.entrypoint_wrapper import _run_command, make_file
    from airbyte_cdk.test.models.outcome import ExpectedOutcome

    with tempfile.TemporaryDirectory() as directory:
        path = make_file(Path(directory) / "config.json", config)
        source = SourceZohoDesk(config=copy.deepcopy(config))
        return _run_command(source, ["check", "--config", path], expected_outcome=ExpectedOutcome.EXPECT_SUCCESS)

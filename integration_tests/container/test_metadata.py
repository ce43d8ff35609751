"""metadata.yaml: what the Airbyte registry needs, in agreement with the code and the Dockerfile."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from source_zoho_desk import packaged_manifest, zoho_hosts

REPO = Path(__file__).resolve().parents[2]
STREAMS = {
    "tickets",
    "departments",
    "contacts",
    "accounts",
    "agents",
    "teams",
    "ticket_threads",
    "ticket_comments",
    "tasks",
    "calls",
    "products",
    "contracts",
}


@pytest.fixture(scope="module")
def metadata() -> dict:
    document = yaml.safe_load((REPO / "metadata.yaml").read_text())
    assert document["metadataSpecVersion"] == "1.0"
    return document["data"]


def _manifest() -> dict:
    return yaml.safe_load((REPO / "source_zoho_desk" / "manifest.yaml").read_text())


def test_registry_fields(metadata):
    expected = {
        "name": "Zoho Desk",
        "dockerRepository": "airbyte/source-zoho-desk",
        "dockerImageTag": "1.0.0",
        "connectorType": "source",
        "connectorSubtype": "api",
        "releaseStage": "alpha",
        "supportLevel": "community",
        "license": "MIT",
        "documentationUrl": "https://docs.airbyte.com/integrations/sources/zoho-desk",
    }
    assert {key: metadata.get(key) for key in expected} == expected
    # The registry's existing Zoho Desk source, which this connector replaces (not a second, colliding entry).
    assert metadata["definitionId"] == "08164461-a3fd-49d5-8185-b83d51013585"
    assert set(metadata["tags"]) == {"language:python", "cdk:low-code"}
    assert metadata["registryOverrides"]["cloud"]["enabled"] is True
    assert metadata["registryOverrides"]["oss"]["enabled"] is True
    assert metadata["remoteRegistries"]["pypi"]["enabled"] is False
    assert {suite["suite"] for suite in metadata["connectorTestSuitesOptions"]} == {"unitTests", "integrationTests"}
    assert isinstance(metadata["maxSecondsBetweenMessages"], int) and metadata["maxSecondsBetweenMessages"] >= 3600
    assert (REPO / metadata["icon"]).is_file()


def test_the_major_version_declares_its_breaking_change(metadata):
    change = metadata["releases"]["breakingChanges"][metadata["dockerImageTag"]]
    assert metadata["dockerImageTag"].startswith("1.")
    assert "list_tickets becomes tickets" in change["message"] and "data_center" in change["message"]
    guide = REPO / "docs" / "integrations" / "sources" / "zoho-desk-migrations.md"
    assert change["migrationDocumentationUrl"].endswith("/integrations/sources/zoho-desk-migrations#1.0.0")
    assert "## Upgrading to 1.0.0" in guide.read_text()
    changelog = (REPO / "docs" / "integrations" / "sources" / "zoho-desk.md").read_text()
    assert "| 1.0.0 |" in changelog and "| 0.0.22 | 2025-06-21 |" in changelog and "| 0.0.1 | 2024-10-28 |" in changelog


def test_the_version_matches_the_package():
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.search(r'^version = "1\.0\.0"$', pyproject, re.M)


def test_suggested_streams_exist(metadata):
    suggested = metadata["suggestedStreams"]["streams"]
    assert set(suggested) == STREAMS and len(suggested) == len(STREAMS)
    assert set(packaged_manifest.definitions()["streams"]) >= STREAMS


def test_documentation_url_matches_the_spec(metadata):
    assert _manifest()["spec"]["documentation_url"] == metadata["documentationUrl"]


def _data_center_hosts() -> set[str]:
    hosts = set()
    for data_center in zoho_hosts.DATA_CENTERS:
        config = {"data_center": data_center}
        hosts.add(urlsplit(zoho_hosts.desk_api_base(config)).hostname)
        hosts.add(urlsplit(zoho_hosts.token_url(config)).hostname)
    return hosts


def test_allowed_hosts_cover_every_data_center(metadata):
    allowed = set(metadata["allowedHosts"]["hosts"])
    needed = _data_center_hosts()
    assert len(needed) == 2 * len(zoho_hosts.DATA_CENTERS)
    assert needed - allowed == set(), "hosts the connector calls but the platform would block"
    assert allowed - needed == set(), "hosts allowed that no data center uses"


def test_the_spec_offers_exactly_these_data_centers():
    spec_centers = _manifest()["spec"]["connection_specification"]["properties"]["data_center"]["enum"]
    assert set(spec_centers) == set(zoho_hosts.DATA_CENTERS)


def _dockerfile_base_image() -> str:
    match = re.search(r"^ARG BASE_IMAGE=(\S+)$", (REPO / "Dockerfile").read_text(), re.M)
    assert match, "the Dockerfile declares no default BASE_IMAGE"
    return match.group(1)


def test_dockerfile_builds_on_the_pinned_base_image(metadata):
    base_image = metadata["connectorBuildOptions"]["baseImage"]
    assert re.fullmatch(r"docker\.io/airbyte/python-connector-base:4\.\d+\.\d+@sha256:[0-9a-f]{64}", base_image)
    assert _dockerfile_base_image() == base_image


def test_dockerfile_runs_the_console_script_as_a_non_root_user():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert 'ENV AIRBYTE_ENTRYPOINT="source-zoho-desk"' in dockerfile
    assert 'ENTRYPOINT ["source-zoho-desk"]' in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] == "airbyte"
    pyproject = (REPO / "pyproject.toml").read_text()
    for script in ("source-zoho-desk", "zoho-desk-webhooks"):
        assert re.search(rf'^{script} = "', pyproject, re.M), script

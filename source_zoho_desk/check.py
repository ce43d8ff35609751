"""`check`: one small request per stream proves the token, the organization and every stream's scope.

The CDK's CheckStream reads a record from each stream, which fails for products and contracts when a portal has
none (their records come from per-id calls under a list). Asking each list endpoint for one row works for empty
portals too and costs a few credits.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, MutableMapping, Optional

import requests
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.components.auth import REQUIRED_SCOPES
from source_zoho_desk.desk_client import DeskClient, json_body


def _desk_problem(response: requests.Response, stream: str, scope: str, org_id: str) -> Optional[str]:
    if response.status_code in (200, 204):
        return None
    body = json_body(response)
    code = body.get("errorCode", "")
    if code == "OAUTH_ORG_MISMATCH":
        return (
            f"Organization id {org_id} does not belong to the Zoho account that authorized this connection. Copy "
            "the id from Zoho Desk > Setup > Developer Space > API, or authorize with a user of that organization."
        )
    if code == "SCOPE_MISMATCH":
        return (
            f"The Zoho token lacks the scope the '{stream}' stream needs: {scope}. Generate a new grant code (or "
            f"re-authenticate) with the scopes {REQUIRED_SCOPES}."
        )
    if code == "THRESHOLD_EXCEEDED":
        return "The Zoho Desk portal has spent its daily API credits; they reset within 24 hours."
    if response.status_code == 401:
        return f"Zoho Desk rejected the access token ({code or 'HTTP 401'}). Re-authenticate the connection."
    if response.status_code == 403:
        return f"Zoho Desk refused the '{stream}' stream ({code}: {body.get('message', '')}); deselect it or ask an admin for access."
    return f"Zoho Desk answered HTTP {response.status_code} for the '{stream}' stream ({code or response.text[:200]})."


def check_connection(
    config: MutableMapping[str, Any], check_requests: Iterable[Mapping[str, Any]], scopes: Mapping[str, str]
) -> Optional[str]:
    """Returns None when every stream can be read, else the first problem as a sentence."""
    try:
        client = DeskClient(config)
        for probe in check_requests:
            stream = probe["stream"]
            response = client.get(probe["path"], params=probe.get("params"))
            problem = _desk_problem(response, stream, scopes.get(stream, ""), str(config["org_id"]))
            if problem:
                return problem
    except AirbyteTracedException as error:
        return error.message
    except requests.RequestException as error:
        return (
            f"Could not reach Zoho ({error.__class__.__name__}). Check the data center, and any desk_base_url or "
            "accounts_base_url override."
        )
    return None

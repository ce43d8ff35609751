"""Which Zoho Desk organization a connection reads when its config names none.

Most Zoho Desk users belong to one organization; asking them to find its id in Setup > Developer Space > API is a
step that fails often. `GET /organizations` lists the organizations the token's user belongs to (it needs no orgId
header): with exactly one, the connector uses it and says so; with several, it names them so the user can choose.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, MutableMapping

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.desk_client import DeskClient, json_body

logger = logging.getLogger("airbyte")


def ensure_org_id(config: MutableMapping[str, Any]) -> None:
    """Set `org_id` in the run's config from the token's only organization; a clear error when that is not one."""
    if config.get("org_id"):
        return
    client = DeskClient(config)
    response = client.get("organizations")
    failure = client.refusal(response, stream="organizations")
    if failure is not None:
        raise failure
    organizations: List[Dict[str, Any]] = [o for o in json_body(response).get("data") or [] if isinstance(o, dict)]
    if len(organizations) == 1:
        config["org_id"] = str(organizations[0].get("id"))
        logger.info(
            f"No org_id in the config: using the only Zoho Desk organization of this account, "
            f"{_describe(organizations[0])}."
        )
        return
    if not organizations:
        message = (
            "The Zoho account that authorized this connection belongs to no Zoho Desk organization. Authorize "
            "with a user of the portal you want to read."
        )
    else:
        listed = "; ".join(_describe(o) for o in organizations)
        message = (
            f"The Zoho account that authorized this connection belongs to {len(organizations)} Zoho Desk "
            f"organizations ({listed}). Set 'org_id' to the one to read."
        )
    raise AirbyteTracedException(message=message, failure_type=FailureType.config_error)


def _describe(organization: Dict[str, Any]) -> str:
    name = organization.get("companyName") or organization.get("portalName") or "unnamed"
    return f"{name} (org_id {organization.get('id')})"

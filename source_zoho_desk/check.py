"""`check`: one small request per stream proves the token, the organization and every stream's scope.

The CDK's CheckStream reads a record from each stream, which fails for products and contracts when a portal has
none (their records come from per-id calls under a list). Asking each list endpoint for one row works for empty
portals too and costs a few credits. Zoho's refusals are phrased by the error table (zoho_errors.py), as in a sync.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, MutableMapping, Optional

import requests
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.desk_client import DeskClient


def check_connection(
    config: MutableMapping[str, Any], check_requests: Iterable[Mapping[str, Any]], scopes: Mapping[str, str]
) -> Optional[str]:
    """Returns None when every stream can be read, else the first problem as a sentence."""
    try:
        client = DeskClient(config)
        for probe in check_requests:
            stream = probe["stream"]
            response = client.get(probe["path"], params=probe.get("params"))
            refusal = client.refusal(response, stream=stream, scopes=scopes.get(stream, ""))
            if refusal is not None:
                return refusal.message
    except AirbyteTracedException as error:
        return error.message
    except requests.RequestException as error:  # the token endpoint: Desk calls raise AirbyteTracedException
        return (
            f"Could not reach Zoho ({error.__class__.__name__}). Check the data center, and any desk_base_url or "
            "accounts_base_url override."
        )
    return None

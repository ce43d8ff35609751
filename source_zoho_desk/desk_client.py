"""A small Zoho Desk HTTP client for the calls outside the manifest's streams: `check`, fetching a record by id
for a webhook event, and managing webhooks. Same auth and hosts as the streams; bounded retries."""

from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Mapping, MutableMapping, Optional

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk import zoho_hosts
from source_zoho_desk.components.auth import token_manager

RETRIES = 4
# 403 codes that refuse the whole module rather than one record.
ACCOUNT_WIDE_REFUSALS = frozenset({"SCOPE_MISMATCH", "OAUTH_ORG_MISMATCH", "LICENSE_ACCESS_LIMITED"})
logger = logging.getLogger("airbyte")


class DeskClient:
    def __init__(self, config: MutableMapping[str, Any], *, session: Optional[requests.Session] = None) -> None:
        self._config = config
        self._tokens = token_manager(config)
        self._session = session or requests.Session()
        self.base_url = zoho_hosts.desk_api_base(config)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Sends one Desk call; refreshes the token once on 401 and waits out 429/5xx a few times.
        Token problems raise the same AirbyteTracedException the streams raise."""
        refreshed = False
        for attempt in range(RETRIES + 1):
            headers = {
                "Authorization": f"Zoho-oauthtoken {self._tokens.get_access_token()}",
                "orgId": str(self._config["org_id"]),
                "Accept": "application/json",
                **kwargs.pop("headers", {}),
            }
            response = self._session.request(method, f"{self.base_url}/{path.lstrip('/')}", headers=headers, timeout=60, **kwargs)
            if response.status_code == 401 and _error_code(response) == "INVALID_OAUTH" and not refreshed:
                self._tokens.refresh_and_set_access_token()
                refreshed = True
                continue
            retryable = response.status_code >= 500 or (
                response.status_code == 429 and _error_code(response) != "THRESHOLD_EXCEEDED"
            )
            if retryable and attempt < RETRIES:
                time.sleep(_wait_seconds(response, attempt))
                continue
            return response
        return response

    def get(self, path: str, params: Optional[Mapping[str, Any]] = None) -> requests.Response:
        return self.request("GET", path, params=params)

    def get_record(self, path: str, record_id: str) -> Optional[Dict[str, Any]]:
        """The record at `path/record_id`, or None when Zoho no longer has it or will not show this one record."""
        what = f"{path}/{record_id}"
        response = self.get(what)
        if response.status_code == 404:
            return None
        code = _error_code(response)
        if response.status_code == 403 and code in ACCOUNT_WIDE_REFUSALS:
            raise AirbyteTracedException(
                message=f"Zoho Desk refused to read {path} ({code}): the authorizing user or the token's scopes do not "
                f"cover this module. Re-authenticate with the scopes the stream needs (see check), or deselect it.",
                failure_type=FailureType.config_error,
            )
        if response.status_code in (403, 422):
            # This one record is out of the user's reach (another department, spam, trash...). The API snapshot
            # cannot show it either; failing instead would block every later event of the stream for good.
            logger.warning(f"Skipped {what}: Zoho Desk answered HTTP {response.status_code} ({code or 'no error code'}) "
                           "when the connector fetched it for a webhook event.")
            return None
        return _json_or_raise(response, what)

    def list_page(self, path: str, offset: int, limit: int) -> List[Dict[str, Any]]:
        """One page of a Zoho list (`from`/`limit`); Zoho answers an empty page with 204 and no body."""
        response = self.get(path, params={"from": offset, "limit": limit})
        if response.status_code == 204:
            return []
        return list(_json_or_raise(response, path).get("data", []))


def _json_or_raise(response: requests.Response, what: str) -> Dict[str, Any]:
    if response.status_code != 200:
        raise AirbyteTracedException(
            message=f"Zoho Desk answered HTTP {response.status_code} ({_error_code(response) or 'no error code'}) for {what}.",
            internal_message=response.text[:500],
            failure_type=FailureType.transient_error,
        )
    return response.json()


def json_body(response: requests.Response) -> Dict[str, Any]:
    """The answer's JSON object, or {} for an empty, non-JSON or non-object body (Zoho's 204s, proxies' HTML)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_code(response: requests.Response) -> str:
    return str(json_body(response).get("errorCode", ""))


def _wait_seconds(response: requests.Response, attempt: int) -> float:
    try:
        return min(float(response.headers["Retry-After"]), 60.0)
    except (KeyError, ValueError):
        return min(2.0 ** attempt, 30.0)

"""Zoho data centers and the hosts that serve them.

Zoho runs one isolated copy of Desk per data center; a client registered in one cannot authorize in another.
The token response's `api_domain` names the generic Zoho API host, not the Desk host, so it is never used.
This is the connector's one rule for the Desk host: the streams' requester (components/requester.py) and the
DeskClient both take the base URL from `desk_api_base`. (The spec's OAuth consent and token URLs are Jinja that the
Airbyte platform evaluates, for the accounts host only; they cannot call Python.)
"""

from __future__ import annotations

from typing import Any, Mapping

from zoho_desk_webhooks.data_centers import DATA_CENTERS, domain

__all__ = ["DATA_CENTERS", "accounts_base", "desk_api_base", "domain", "token_url"]


def desk_api_base(config: Mapping[str, Any]) -> str:
    """`https://desk.zoho.<dc>/api/v1`, or the configured override (proxies, tests)."""
    override = config.get("desk_base_url")
    if override:
        return override.rstrip("/")
    return f"https://desk.{domain(config.get('data_center', 'com'))}/api/v1"


def accounts_base(config: Mapping[str, Any]) -> str:
    """`https://accounts.zoho.<dc>`, or the configured override."""
    override = config.get("accounts_base_url")
    if override:
        return override.rstrip("/")
    return f"https://accounts.{domain(config.get('data_center', 'com'))}"


def token_url(config: Mapping[str, Any]) -> str:
    return f"{accounts_base(config)}/oauth/v2/token"

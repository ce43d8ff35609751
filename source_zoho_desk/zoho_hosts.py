"""Zoho data centers and the hosts that serve them.

Zoho runs one isolated copy of Desk per data center; a client registered in one cannot authorize in another.
The token response's `api_domain` names the generic Zoho API host, not the Desk host, so it is never used.
The manifest computes the same URLs in Jinja (`definitions.desk_url_base`/`accounts_url_base`); a unit test keeps
the two in agreement for every data center.
"""

from __future__ import annotations

from typing import Any, Mapping

DATA_CENTERS: dict[str, str] = {
    "com": "United States (zoho.com)",
    "eu": "Europe (zoho.eu)",
    "in": "India (zoho.in)",
    "com.au": "Australia (zoho.com.au)",
    "jp": "Japan (zoho.jp)",
    "zohocloud.ca": "Canada (zohocloud.ca)",
    "sa": "Saudi Arabia (zoho.sa)",
    "com.cn": "China (zoho.com.cn)",
    "sg": "Singapore (zoho.sg)",
    "ae": "United Arab Emirates (zoho.ae)",
}


def domain(data_center: str) -> str:
    if data_center not in DATA_CENTERS:
        raise ValueError(
            f"Unknown data_center {data_center!r}: expected one of {', '.join(DATA_CENTERS)} "
            "(the domain your Zoho Desk portal URL ends with)."
        )
    # Canada is the one data center whose hosts live under a different second-level domain.
    return "zohocloud.ca" if data_center == "zohocloud.ca" else f"zoho.{data_center}"


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


def webhook_jwks_url(data_center: str) -> str:
    return f"https://desk.{domain(data_center)}/.well-known/jwks.json"

"""Zoho data centers and their domains: the one table the receiver (JWKS per data center) and the connector (API
and OAuth hosts) share. It lives here because the receiver imports nothing from the connector."""

from __future__ import annotations

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


def webhook_jwks_url(data_center: str) -> str:
    """Where Zoho Desk publishes the keys that sign its webhook JWTs."""
    return f"https://desk.{domain(data_center)}/.well-known/jwks.json"

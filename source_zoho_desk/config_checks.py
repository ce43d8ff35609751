"""Plain-language checks of a config, run before anything else so a typo gets a sentence, not a regex."""

from __future__ import annotations

import re
from typing import Any, List, Mapping
from urllib.parse import urlparse

from source_zoho_desk.incremental.streams import INCREMENTAL_MODES
from source_zoho_desk.zoho_hosts import DATA_CENTERS

_LOCAL_HOSTS = {"localhost", "127.0.0.1"}


def _url_problem(name: str, value: Any) -> str | None:
    if value in (None, ""):
        return None
    parsed = urlparse(str(value))
    if parsed.scheme == "https" and parsed.hostname:
        return None
    if parsed.scheme == "http" and parsed.hostname in _LOCAL_HOSTS:
        return None
    return (
        f"'{name}' must be an https:// URL (plain http:// is accepted only for localhost), got {value!r}. "
        "Leave it empty to use your data center's Zoho host."
    )


_BUFFER_URL_FORMS = "sqlite:////absolute/path.db or postgresql://user:password@host:port/db"


def _buffer_url_problem(value: Any) -> str | None:
    """The buffer URL's shape, without ever repeating it: it may hold a database password."""
    if value in (None, ""):
        return None
    text = str(value)
    if text.startswith("sqlite:///"):
        return None
    if text.startswith(("postgresql://", "postgres://")):
        parsed = urlparse(text)
        if not parsed.hostname and "host=" not in parsed.query:
            return (
                "'webhook_buffer_url' has no database host: expected postgresql://user:password@host:5432/db, "
                "the URL the zoho-desk-webhooks receiver was started with."
            )
        return None
    return (
        f"'webhook_buffer_url' must be {_BUFFER_URL_FORMS}, the same URL the zoho-desk-webhooks receiver was "
        "started with."
    )


def config_problems(config: Mapping[str, Any]) -> List[str]:
    problems: List[str] = []
    data_center = config.get("data_center", "com")
    if not isinstance(data_center, str) or data_center not in DATA_CENTERS:
        problems.append(
            f"'data_center' is {data_center!r}; expected one of {', '.join(DATA_CENTERS)} "
            "(the domain your Zoho Desk URL ends with)."
        )
    org_id = str(config.get("org_id") or "")
    if org_id and not re.fullmatch(r"[0-9]+", org_id):  # empty: the token's only organization (organization.py)
        problems.append(
            f"'org_id' must be the digits of your Zoho Desk organization id (Setup > Developer Space > API), "
            f"got {org_id!r}."
        )
    credentials = config.get("credentials")
    if not isinstance(credentials, Mapping) or not credentials.get("client_id") or not credentials.get("client_secret"):
        problems.append("'credentials' needs the client_id and client_secret of your Zoho API Console client.")
    elif not credentials.get("refresh_token") and not credentials.get("grant_code"):
        problems.append("'credentials' needs a refresh_token, or a grant_code from your Self Client's 'Generate Code'.")
    buffer_problem = _buffer_url_problem(config.get("webhook_buffer_url"))
    if buffer_problem:
        problems.append(buffer_problem)
    mode = config.get("incremental_mode")
    if mode is not None and mode not in INCREMENTAL_MODES:
        problems.append(f"'incremental_mode' is {mode!r}; expected one of {', '.join(INCREMENTAL_MODES)}.")
    elif mode in ("webhooks", "both") and not config.get("webhook_buffer_url"):
        problems.append(
            f"'incremental_mode' {mode} follows Zoho Desk webhooks, so it needs 'webhook_buffer_url' (the buffer the "
            "zoho-desk-webhooks receiver stores events in); set it, or choose 'polling'."
        )
    for name in ("desk_base_url", "accounts_base_url"):
        problem = _url_problem(name, config.get(name))
        if problem:
            problems.append(problem)
    return problems

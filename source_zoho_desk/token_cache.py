"""Access tokens kept between local runs, beside the user's config rather than in it.

Zoho mints at most ten access tokens per refresh token in ten minutes, and each lasts an hour, so runs must reuse
them. On the Airbyte platform the CONNECTOR_CONFIG message persists the token with the connection. A local run
(the CLI, PyAirbyte, Docker with a mounted cache) keeps it in a file of its own under `$XDG_CACHE_HOME`
(`~/.cache`), readable by the user only, so the `--config` file a user hands the connector is never rewritten for
it. (A grant-code exchange still rewrites that file once: the spent code would leave a config that can never work.)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Optional, Tuple

logger = logging.getLogger("airbyte")


def cache_file(token_url: str, client_id: str, refresh_token: str) -> Path:
    """One file per credential; its name is a hash, so neither the client nor the token shows in it."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256("\n".join((token_url, client_id, refresh_token)).encode()).hexdigest()[:32]
    return base / "source-zoho-desk" / f"{digest}.json"


def load(path: Path) -> Optional[Tuple[str, str]]:
    """(access_token, expiry) from the cache, or None when there is no usable entry."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        return str(entry["access_token"]), str(entry["token_expiry_date"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(path: Path, access_token: str, expiry: str) -> None:
    """Best effort: a read-only home (a container) only costs a new token next run."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8") as handle:
            os.chmod(handle.name, 0o600)
            json.dump({"access_token": access_token, "token_expiry_date": expiry}, handle)
        os.replace(handle.name, path)
    except OSError as error:
        logger.debug(f"Could not keep the access token for the next run in {path.parent}: {error.strerror}")

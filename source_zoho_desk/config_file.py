"""Write the config back to the file it came from, after a grant-code exchange only.

On the Airbyte platform the CONNECTOR_CONFIG control message persists the new refresh token. Run from a shell or
PyAirbyte, nobody may read that message, and the spent grant code would leave the user with a config that can never
work again. So when the connector was started with `--config FILE`, FILE gets the refresh token in place of the
code (atomically, keeping its permissions). Access tokens never go there (see token_cache.py). A read-only file (a
Docker secret mount) is left alone with a warning.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from typing import Any, Mapping, Optional

logger = logging.getLogger("airbyte")


def write_back(config: Mapping[str, Any], path: Optional[str]) -> None:
    if not path:
        return
    try:
        directory = os.path.dirname(os.path.abspath(path))
        mode = os.stat(path).st_mode & 0o777
        with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, suffix=".tmp") as handle:
            json.dump(dict(config), handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, mode)
        os.replace(handle.name, path)
    except OSError as error:
        logger.warning(
            f"Could not save the updated credentials to {path} ({error.strerror}). Save the refresh token from "
            "the CONNECTOR_CONFIG message yourself, or the next run will need a new grant code."
        )

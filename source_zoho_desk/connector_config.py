"""The config a SourceZohoDesk hands to its components, carrying what lives as long as one connector run.

The CDK builds every manifest component with the config alone, so the config is the one thing all of a run's
components share. Handing them a `ConnectorConfig` (a plain dict to everyone else, JSON included) gives them one
token manager, one credit ledger and one set of request slots per run without module-level state: two sources in one process, or two tests,
never see each other's tokens or credits.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Mapping, Optional

from source_zoho_desk.components.concurrency import DEFAULT_WORKERS, RequestSlots
from source_zoho_desk.components.credits import CreditLedger

if TYPE_CHECKING:
    from source_zoho_desk.components.auth import ZohoTokenManager


class ConnectorConfig(dict):  # type: ignore[type-arg]
    """`config_path`: the `--config` file a changed config is written back to (None: nowhere).
    `announce_changes`: emit the CONNECTOR_CONFIG control message Airbyte persists; off for the CLI, whose stdout is
    for a person."""

    def __init__(
        self, values: Mapping[str, Any], *, config_path: Optional[str] = None, announce_changes: bool = True
    ) -> None:
        super().__init__(values)
        self.config_path = config_path
        self.announce_changes = announce_changes
        budget = values.get("max_credits_per_sync")
        self.ledger = CreditLedger(budget=int(budget) if budget else None)
        self.slots = RequestSlots(int(values.get("num_workers") or DEFAULT_WORKERS))
        self._tokens: Optional["ZohoTokenManager"] = None
        self._tokens_lock = threading.Lock()

    def token_manager(self) -> "ZohoTokenManager":
        """One manager for every stream and client of the run (Zoho mints at most 10 tokens per 10 minutes)."""
        from source_zoho_desk.components.auth import ZohoTokenManager

        with self._tokens_lock:
            if self._tokens is None:
                self._tokens = ZohoTokenManager(self)
            return self._tokens

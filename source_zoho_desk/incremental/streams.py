"""Which streams follow Zoho Desk's webhook events, and the fields every incremental record carries.

The manifest's `definitions.webhook_streams` names them; this is its Python shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Tuple

# Dedup destinations keep the record with the highest cursor and delete a row whose record has a deletion time.
CURSOR_FIELD = "_ab_cdc_cursor"
DELETED_AT_FIELD = "_ab_cdc_deleted_at"


@dataclass(frozen=True)
class WebhookStream:
    """How one stream's Zoho webhook events map to its records (from the manifest's `webhook_streams`)."""

    name: str
    event_types: Tuple[str, ...]
    detail_path: str
    complete_when: Tuple[str, ...]
    recycle_bin_type: Optional[str] = None

    @classmethod
    def from_manifest(cls, name: str, definition: Mapping[str, Any]) -> "WebhookStream":
        return cls(
            name=name,
            event_types=tuple(definition["events"]),
            detail_path=definition["detail_path"],
            complete_when=tuple(definition["complete_when"]),
            recycle_bin_type=definition.get("recycle_bin_type"),
        )

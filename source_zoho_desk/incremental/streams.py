"""Which streams follow Zoho Desk's webhook events, and the fields every incremental record carries.

The manifest's `definitions.webhook_streams` names them; this is its Python shape."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any, Dict, Mapping, Optional, Tuple

import yaml

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


def packaged_webhook_streams() -> Dict[str, WebhookStream]:
    """The manifest's `webhook_streams`, for code that runs without a source (the `register` command)."""
    manifest = yaml.safe_load(resources.files("source_zoho_desk").joinpath("manifest.yaml").read_text(encoding="utf-8"))
    return {name: WebhookStream.from_manifest(name, d) for name, d in manifest["definitions"]["webhook_streams"].items()}

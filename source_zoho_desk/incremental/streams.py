"""Which streams have incremental sync and how (webhook events, polling by modified time), and the fields every
incremental record carries. The manifest's `definitions.incremental_streams` names them; this is its Python shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

from source_zoho_desk import packaged_manifest

# Dedup destinations keep the record with the highest cursor and delete a row whose record has a deletion time.
CURSOR_FIELD = "_ab_cdc_cursor"
DELETED_AT_FIELD = "_ab_cdc_deleted_at"


@dataclass(frozen=True)
class IncrementalStream:
    """One entry of the manifest's `incremental_streams`: the Zoho webhook events that change the stream's records,
    the search that lists them by modified time, and their recycle bin entries (the bin's `module` filter, and the
    `type` its rows carry)."""

    name: str
    event_types: Tuple[str, ...] = ()
    detail_path: str = ""
    complete_when: Tuple[str, ...] = ()
    recycle_bin_type: Optional[str] = None
    recycle_bin_module: Optional[str] = None
    search_path: Optional[str] = None
    children_of: Optional[str] = None  # a per-ticket stream: the search lists its parents (incremental/children.py)

    @property
    def has_webhooks(self) -> bool:
        return bool(self.event_types)

    @property
    def can_poll(self) -> bool:
        return bool(self.search_path)

    @classmethod
    def from_manifest(cls, name: str, definition: Mapping[str, Any]) -> "IncrementalStream":
        return cls(
            name=name,
            event_types=tuple(definition.get("events") or ()),
            detail_path=definition.get("detail_path", ""),
            complete_when=tuple(definition.get("complete_when") or ()),
            recycle_bin_type=definition.get("recycle_bin_type"),
            recycle_bin_module=definition.get("recycle_bin_module"),
            search_path=definition.get("search_path"),
            children_of=definition.get("children_of"),
        )


def incremental_streams(definitions: Mapping[str, Any]) -> Dict[str, IncrementalStream]:
    """The streams of a manifest's `definitions.incremental_streams`."""
    return {name: IncrementalStream.from_manifest(name, d) for name, d in definitions["incremental_streams"].items()}


def packaged_webhook_streams() -> Dict[str, IncrementalStream]:
    """The streams with webhook events, for code that runs without a source (the `register` command)."""
    return {name: s for name, s in incremental_streams(packaged_manifest.definitions()).items() if s.has_webhooks}


INCREMENTAL_MODES = ("polling", "webhooks", "both")


def incremental_mode(config: Mapping[str, Any]) -> str:
    """`incremental_mode` from the config; without it, webhooks when a buffer is configured, else polling."""
    return str(config.get("incremental_mode") or ("webhooks" if config.get("webhook_buffer_url") else "polling"))


def readers(
    streams: Mapping[str, IncrementalStream], mode: str
) -> Tuple[Dict[str, IncrementalStream], Dict[str, IncrementalStream]]:
    """(polled, followed): the streams this mode reads from Zoho's search, and those it follows through webhooks.
    A stream Zoho sends no webhook events for is polled in every mode; in `polling`, every stream is."""
    polled = {n: s for n, s in streams.items() if s.can_poll and (mode == "polling" or not s.has_webhooks)}
    followed = {n: s for n, s in streams.items() if s.has_webhooks and mode in ("webhooks", "both")}
    return polled, followed

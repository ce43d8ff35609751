"""Phase 2, snapshot: the streams whose plan needs one are read through the CDK's own read, as full refresh, in
the same concurrent pass as the catalog's other streams.

A snapshot row carries the cursor noted before the snapshot, so it ranks below every event taken after it. The
CDK's STATE and COMPLETE for such a stream are held back: the stream is not finished, nor its state known, until
its events are drained."""

from __future__ import annotations

from typing import Iterator, List, Mapping

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteStreamStatus,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteStream,
    SyncMode,
    Type,
)

from source_zoho_desk.incremental.plan import StreamPlan
from source_zoho_desk.incremental.streams import CURSOR_FIELD
from source_zoho_desk.messages import is_status, stream_of


def api_catalog(
    catalog: ConfiguredAirbyteCatalog, followed: List[str], snapshots: Mapping[str, StreamPlan]
) -> ConfiguredAirbyteCatalog:
    """What the CDK reads: every stream not followed from the buffer, and the snapshots, as full refresh."""
    return ConfiguredAirbyteCatalog(
        streams=[
            ConfiguredAirbyteStream(
                stream=s.stream,
                sync_mode=SyncMode.full_refresh,
                destination_sync_mode=s.destination_sync_mode,
                cursor_field=s.cursor_field,
                primary_key=s.primary_key,
            )
            if s.stream.name in snapshots
            else s
            for s in catalog.streams
            if s.stream.name not in followed or s.stream.name in snapshots
        ]
    )


def stamped(messages: Iterator[AirbyteMessage], snapshots: Mapping[str, StreamPlan]) -> Iterator[AirbyteMessage]:
    """The CDK's messages, with snapshot rows stamped with their cursor and the snapshots' STATE/COMPLETE held."""
    for message in messages:
        held = stream_of(message) in snapshots
        if held and message.type == Type.RECORD:
            message.record.data[CURSOR_FIELD] = snapshots[message.record.stream].snapshot_cursor  # type: ignore[union-attr]
        elif held and (message.type == Type.STATE or is_status(message, AirbyteStreamStatus.COMPLETE)):
            continue
        yield message

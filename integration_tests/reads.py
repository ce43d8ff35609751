"""Reading the connector in a test: a catalog of streams in one sync mode, a read of it through the CDK's entrypoint,
and an output's records grouped by stream."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Dict, Iterable, List, Mapping, Optional

from airbyte_cdk.models import AirbyteStateMessageSerializer, ConfiguredAirbyteCatalog, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read

from source_zoho_desk.source import SourceZohoDesk


def catalog_of(streams: Iterable[str], mode: SyncMode = SyncMode.full_refresh) -> ConfiguredAirbyteCatalog:
    builder = CatalogBuilder()
    for stream in streams:
        builder.with_stream(stream, mode)
    return builder.build()


def read_streams(
    config: Mapping[str, Any],
    streams: Iterable[str],
    mode: SyncMode = SyncMode.full_refresh,
    state: Optional[List[Dict[str, Any]]] = None,
) -> EntrypointOutput:
    """A read of `streams` in `mode`; `state` as serialized state messages (what a previous read's output dumps)."""
    catalog = catalog_of(streams, mode)
    states = [AirbyteStateMessageSerializer.load(s) for s in state] if state else None
    return read(SourceZohoDesk(config=config, catalog=catalog, state=states), config, catalog, state=states)


def records_by_stream(output: EntrypointOutput) -> Dict[str, List[Dict[str, Any]]]:
    grouped: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for message in output.records:
        grouped[message.record.stream].append(message.record.data)  # type: ignore[union-attr]
    return grouped

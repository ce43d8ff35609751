"""The manifest's record transformations (custom fields as typed columns, E.164 phone columns, `ticket_id` on a
ticket's child rows) for the rows the incremental engine reads outside the CDK's streams: search pages, webhook
payloads, records fetched by id. So a record has the same columns however it was read."""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional

from airbyte_cdk.models import AirbyteMessage
from airbyte_cdk.sources.declarative.models import declarative_component_schema as models
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory
from airbyte_cdk.sources.declarative.transformations.transformation import RecordTransformation
from airbyte_cdk.sources.types import StreamSlice

from source_zoho_desk.incremental.streams import DELETED_AT_FIELD
from source_zoho_desk.messages import record_of

# Transforms one row in place; the slice is that of the row's parent (a ticket's child rows: {"ticket_id": ...}).
RowTransform = Callable[[Dict[str, Any], Optional[StreamSlice]], None]


def row_transforms(
    manifest: Mapping[str, Any], names: Iterable[str], config: Mapping[str, Any]
) -> Dict[str, RowTransform]:
    """The transformations each named stream declares in the (resolved, parameter-propagated) manifest, built by the
    CDK's own factory from the same definitions its streams use."""
    wanted = set(names)
    factory = ModelToComponentFactory()
    transforms: Dict[str, RowTransform] = {}
    for stream in manifest["streams"]:
        if stream["name"] not in wanted:
            continue
        components: List[RecordTransformation] = [
            factory.create_component(getattr(models, definition["type"]), definition, config)
            for definition in stream.get("transformations") or ()
        ]
        transforms[stream["name"]] = _applying(components, config)
    return transforms


def _applying(components: List[RecordTransformation], config: Mapping[str, Any]) -> RowTransform:
    def transform(row: Dict[str, Any], stream_slice: Optional[StreamSlice] = None) -> None:
        for component in components:
            component.transform(row, config=config, stream_slice=stream_slice)

    return transform


def transformed(messages: Iterable[AirbyteMessage], transforms: Mapping[str, RowTransform]) -> Iterator[AirbyteMessage]:
    """Applies each stream's transformations to its records, except deletes: a delete carries only the id (and the
    destination drops the row), so there is nothing to type."""
    for message in messages:
        row = record_of(message)
        if row is not None and row.stream in transforms and DELETED_AT_FIELD not in row.data:
            transforms[row.stream](row.data, None)
        yield message

"""The field names the tickets stream asks for with `fields=`: the standard fields of the tickets schema plus the
portal's custom fields, read from `organizationFields?module=tickets` once per sync."""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any, Iterable, List, Mapping, Optional

from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.declarative.schema.schema_loader import SchemaLoader
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

# Zoho refuses multi-line text in `fields`; those values only come with a get-by-id (see BEHAVIOR.md).
MULTI_LINE_TYPES = frozenset({"Textarea", "LargeText"})
# Schema properties that are not names to ask for: `id` rides along in every chunk (QueryProperties), `cf` holds the
# custom fields (asked one by one as `cf_<name>`), and the standard multi-line fields.
NOT_ASKED = frozenset({"id", "cf", "description", "resolution"})
CONNECTOR_FIELD_PREFIX = "_ab_"  # fields the connector adds (the change cursor, the deletion time)


def standard_fields(schema: Mapping[str, Any]) -> List[str]:
    """The schema's properties that Zoho lists with `fields=`, in schema order."""
    return [
        name
        for name in schema.get("properties", {})
        if name not in NOT_ASKED and not name.startswith(CONNECTOR_FIELD_PREFIX)
    ]


def custom_field_key(api_name: str) -> str:
    """Custom fields sit in `cf` under `cf_<name>`; accept an apiName given with or without that prefix."""
    return api_name if api_name.startswith("cf_") else f"cf_{api_name}"


@dataclass
class TicketFieldsRetriever(Retriever):
    """Yields `{"apiName": name}` for each listable ticket field, standard ones (from `schema_loader`) first."""

    schema_loader: SchemaLoader
    organization_fields_retriever: Retriever
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None
    ) -> Iterable[Mapping[str, Any]]:
        standard = standard_fields(self.schema_loader.get_json_schema())
        seen = set(standard)
        for name in standard:
            yield {"apiName": name}
        for field in self.organization_fields_retriever.read_records(
            records_schema={}, stream_slice=StreamSlice(partition={}, cursor_slice={})
        ):
            # a SimpleRetriever with a record selector (the manifest's) yields Records; Retriever's type also admits
            # AirbyteMessages
            assert isinstance(field, Mapping), type(field)
            if not field.get("isCustomField") or field.get("type") in MULTI_LINE_TYPES:
                continue
            name = custom_field_key(str(field["apiName"]))
            if name not in seen:
                seen.add(name)
                yield {"apiName": name}

    def stream_slices(self) -> Iterable[Optional[StreamSlice]]:
        yield StreamSlice(partition={}, cursor_slice={})

    @property
    def state(self) -> StreamState:
        return {}

    @state.setter
    def state(self, value: StreamState) -> None:
        pass

"""The field names the tickets stream asks for with `fields=`: Zoho's standard ticket fields plus the portal's
custom fields, read from `organizationFields?module=tickets` once per sync."""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any, Iterable, List, Mapping, Optional

from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

# Zoho refuses multi-line text in `fields`; those values only come with a get-by-id (see BEHAVIOR.md).
MULTI_LINE_TYPES = frozenset({"Textarea", "LargeText"})


def custom_field_key(api_name: str) -> str:
    """Custom fields sit in `cf` under `cf_<name>`; accept an apiName given with or without that prefix."""
    return api_name if api_name.startswith("cf_") else f"cf_{api_name}"


@dataclass
class TicketFieldsRetriever(Retriever):
    """Yields `{"apiName": name}` for each listable ticket field, standard ones first."""

    standard_fields: List[str]
    organization_fields_retriever: Retriever
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None
    ) -> Iterable[Mapping[str, Any]]:
        seen = set(self.standard_fields)
        for name in self.standard_fields:
            yield {"apiName": name}
        for field in self.organization_fields_retriever.read_records(records_schema={}, stream_slice=StreamSlice(partition={}, cursor_slice={})):
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

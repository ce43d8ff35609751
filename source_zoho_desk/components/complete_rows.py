"""Rows a list gave without a key every complete record has are read by id once, and merged.

Products and contracts are listed with `fields=` (components/custom_fields.py names them), which gives complete
rows (custom fields, modifiedTime) without a get-by-id each. A merged row that still lacks one of `required_keys` (a
portal whose list ignored `fields=`, a row Zoho projects differently) is read with `GET <detail_path>/{id}`; a record
Zoho no longer shows, or hides from this user, is skipped with a warning (as when every row was read by id). These
reads by id are not in the stream's credit summary (the DeskClient makes them). Multi-line fields (`description`) are never
listable and are no reason to read a row by id.

The check runs on the rows the retriever yields, after a page's `fields` chunks were merged (a transformation would
see each chunk's half row).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, List, Mapping, MutableMapping, Optional

from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.types import StreamSlice

from source_zoho_desk.components.custom_fields import flatten_custom_fields, module_fields
from source_zoho_desk.components.whole_pages import WholePagesRetriever


@dataclass
class CompleteRowsRetriever(WholePagesRetriever):
    """WholePagesRetriever that reads by id the rows still lacking `required_keys` (see the module docstring)."""

    detail_path: str = ""
    module: str = ""
    required_keys: List[str] = field(default_factory=lambda: ["modifiedTime"])
    _client: Any = field(default=None, init=False, repr=False)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        evaluate = lambda value: str(InterpolatedString.create(value, parameters=parameters or {}).eval(self.config))  # noqa: E731
        self.detail_path = evaluate(self.detail_path)
        self.module = evaluate(self.module)
        self._stream = str((parameters or {}).get("name") or self.detail_path)
        self._lock = threading.Lock()
        self.read_by_id = 0

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None
    ) -> Iterable[StreamData]:
        for record in super().read_records(records_schema, stream_slice):
            data = getattr(record, "data", record)
            if isinstance(data, MutableMapping) and data.get("id") and not all(k in data for k in self.required_keys):
                if not self._complete(data):
                    continue  # deleted since it was listed, or hidden from this user (the skip is logged)
            yield record

    def _complete(self, row: MutableMapping[str, Any]) -> bool:
        from source_zoho_desk.desk_client import DeskClient

        with self._lock:
            if self._client is None:
                self._client = DeskClient(self.config)  # type: ignore[arg-type]
            self.read_by_id += 1
        whole = self._client.get_record(self.detail_path, str(row["id"]))
        if whole is None:
            return False
        row.update(whole)
        if self.module:
            flatten_custom_fields(row, module_fields(self.config, self.module))
        return True

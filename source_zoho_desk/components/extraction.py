"""Records out of an answer the error handler has already decoded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, MutableMapping, Optional

import requests
from airbyte_cdk.sources.declarative.decoders import JsonDecoder
from airbyte_cdk.sources.declarative.extractors.dpath_extractor import DpathExtractor

from source_zoho_desk.zoho_errors import decoded


@dataclass
class DecodedOnceExtractor(DpathExtractor):
    """A DpathExtractor that takes the body zoho_errors.decoded kept on the response (the error handler and the page
    checks read it first) and follows a path of plain keys itself: decoding each page again and dpath's general walk
    were a third of a ticket read's CPU. Templates, wildcards, record expanders, another decoder and any body that is
    not a JSON object go to DpathExtractor unchanged, so what comes out is what it would give."""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        keys = [str(path.string) for path in self._field_path]
        plain = all("{" not in key and key != "*" for key in keys)
        self._keys: Optional[List[str]] = (
            keys if plain and self.record_expander is None and type(self.decoder) is JsonDecoder else None
        )

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        body = self._object_body(response) if self._keys is not None else None
        if body is None:
            yield from super().extract_records(response)
            return
        extracted: Any = body
        for key in self._keys or ():
            extracted = extracted.get(key, []) if isinstance(extracted, Mapping) else []
        if isinstance(extracted, list):
            yield from extracted
        elif extracted:
            yield extracted

    @staticmethod
    def _object_body(response: requests.Response) -> Optional[MutableMapping[Any, Any]]:
        try:
            body = decoded(response)
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

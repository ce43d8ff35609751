"""List pages that are whole and follow on from each other, even while rows are deleted during the read.

Used by the module lists asked with `fields=` chunks (contacts, accounts, tasks, calls, events, products,
contracts; `module_list_stream`), which tickets were too until their snapshot moved to createdTime windows of the
search (ticket_windows.py, which reuses PageContinuity per window). Examples below say "ticket".

A page is asked once per chunk of `fields` names and the CDK merges the chunks' rows by id. A ticket created
earlier and deleted between two requests moves every later row one place up. Between the chunk requests of one page
that misaligns the chunks, and the merge turns the two edge rows into half rows; between two pages, more deletes than
PAGE_OVERLAP skip rows. So the requester below fetches all chunks of a page together, asks again while they disagree,
and steps back when a page does not join the last one (see BEHAVIOR.md).

The CDK offers no hook between fetching a page's chunks and merging them, and only the retriever knows the chunks;
`WholePagesRetriever` hands them to the requester and otherwise leaves the CDK's SimpleRetriever untouched.
"""

from __future__ import annotations

import logging
from dataclasses import InitVar, dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.query_properties import QueryProperties
from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.types import Config, StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.components.credits import ledger_of
from source_zoho_desk.components.pagination import DropRepeatedRows, page_overlap, sent_limit, sent_offset
from source_zoho_desk.components.requester import ZohoDeskRequester
from source_zoho_desk.zoho_errors import json_body

LOGGER = logging.getLogger("airbyte")

# Chunks that disagree mean a delete landed between two requests of one page. Deletes come in bursts, so a page is
# asked a few times before the read fails: a failed read is retried by the platform, a half row would stay.
MAX_CHUNK_DISAGREEMENTS = 5


def listed_rows(response: Optional[requests.Response]) -> List[Mapping[str, Any]]:
    """The rows of a list page; Zoho answers an empty page with 204 and no body (json_body gives {} then)."""
    rows = json_body(response).get("data") if response is not None else None
    return rows if isinstance(rows, list) else []


def chunks_agree(pages: Iterable[List[Mapping[str, Any]]]) -> bool:
    """Whether the chunk answers of one page list the same tickets in the same order."""
    id_lists = {tuple(str(row.get("id")) for row in rows) for rows in pages}
    return len(id_lists) <= 1


@dataclass
class PageContinuity:
    """Remembers the last page kept and tells whether a new page joins it, i.e. starts at a row already read.

    The list is sorted ascending and new tickets land at its end, so a page joins when its first row was on the last
    page or sorts before that page's last row. Otherwise rows may lie between the two pages that neither read."""

    sort_field: Optional[str] = None
    _last_page_ids: Optional[frozenset] = None
    _last_page_end: Optional[str] = None

    def joins(self, offset: int, rows: List[Mapping[str, Any]]) -> bool:
        if offset == 0 or self._last_page_ids is None:
            return True  # the start of the list: nothing lies before it
        if not rows:
            return False  # the list shrank below this offset: rows moved into the range already passed
        first = rows[0]
        if str(first.get("id")) in self._last_page_ids:
            return True
        first_sort_value = first.get(self.sort_field) if self.sort_field else None
        return (
            first_sort_value is not None
            and self._last_page_end is not None
            and str(first_sort_value) < self._last_page_end
        )

    def keep(self, rows: List[Mapping[str, Any]]) -> None:
        self._last_page_ids = frozenset(str(row.get("id")) for row in rows)
        last_sort_value = rows[-1].get(self.sort_field) if rows and self.sort_field else None
        self._last_page_end = None if last_sort_value is None else str(last_sort_value)


def merged_by_id(chunk_pages: Iterable[List[Mapping[str, Any]]]) -> List[Mapping[str, Any]]:
    """One page's rows with the chunks' fields together (only the top-level fields the checks read)."""
    merged: Dict[str, Dict[str, Any]] = {}
    for rows in chunk_pages:
        for row in rows:
            merged.setdefault(str(row.get("id")), {}).update(row)
    return list(merged.values())


@dataclass
class WholePageRequester(ZohoDeskRequester):
    """Fetches every `fields` chunk of a page at the first chunk's request, then answers the CDK's request for each
    chunk from what it fetched. A page is asked again while its chunks disagree, and from an earlier offset while it
    does not join the last page kept; the paginator continues from the offset actually sent.

    Holds per-read state, which is sound because the streams using it are read as a single partition."""

    _field_chunks: Optional[QueryProperties] = field(default=None, init=False, repr=False)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._fetched_page: Optional[Tuple[Any, ...]] = None
        self._fetched_chunks: Dict[Tuple[str, ...], Optional[requests.Response]] = {}
        self._continuity = PageContinuity()

    def fetch_whole_pages_of(self, field_chunks: QueryProperties) -> None:
        self._field_chunks = field_chunks

    def send_request(
        self, *args: Any, request_params: Optional[Mapping[str, Any]] = None, **kwargs: Any
    ) -> Optional[requests.Response]:
        stream_slice: Optional[StreamSlice] = kwargs.get("stream_slice")
        if self._field_chunks is None or stream_slice is None:
            return super().send_request(*args, request_params=request_params, **kwargs)
        chunk = tuple(stream_slice.extra_fields.get("query_properties") or ())
        page = tuple(sorted((str(k), str(v)) for k, v in (request_params or {}).items()))
        if page != self._fetched_page or chunk not in self._fetched_chunks:
            self._fetched_page = page
            self._fetched_chunks = self._fetch_whole_page(args, dict(request_params or {}), kwargs)
        if chunk not in self._fetched_chunks:  # not a chunk of the plan: ask for it alone
            return super().send_request(*args, request_params=request_params, **kwargs)
        return self._fetched_chunks.pop(chunk)

    def _fetch_whole_page(
        self, args: Tuple[Any, ...], params: Dict[str, Any], kwargs: Dict[str, Any]
    ) -> Dict[Tuple[str, ...], Optional[requests.Response]]:
        assert self._field_chunks is not None
        chunks = [tuple(names) for names in self._field_chunks.get_request_property_chunks()]
        slice_: StreamSlice = kwargs["stream_slice"]
        sort_field = str((self.request_parameters or {}).get("sortBy") or "")
        self._continuity.sort_field = sort_field if sort_field and not sort_field.startswith("-") else None
        disagreements = 0
        while True:
            answers: Dict[Tuple[str, ...], Optional[requests.Response]] = {}
            for chunk in chunks:
                chunk_slice = StreamSlice(
                    partition=slice_.partition,
                    cursor_slice=slice_.cursor_slice,
                    extra_fields={**slice_.extra_fields, "query_properties": list(chunk)},
                )
                answers[chunk] = super().send_request(
                    *args, **{**kwargs, "stream_slice": chunk_slice, "request_params": params}
                )
            chunk_pages = [listed_rows(answer) for answer in answers.values()]
            any_answer = next((a for a in answers.values() if a is not None), None)
            offset = sent_offset(any_answer) if any_answer is not None else None
            offset = int(params.get("from", 0)) if offset is None else offset
            if not chunks_agree(chunk_pages):
                disagreements += 1
                if disagreements > MAX_CHUNK_DISAGREEMENTS:
                    raise AirbyteTracedException(
                        message=(
                            f"Zoho Desk's {self.name} list kept changing while one page was read "
                            f"({MAX_CHUNK_DISAGREEMENTS + 1} attempts at offset {offset}); stopping rather than "
                            "emitting incomplete rows. The next sync will read the list again."
                        ),
                        failure_type=FailureType.transient_error,
                    )
                LOGGER.info(
                    f"{self.name}: rows moved between the requests of the page at offset {offset}; asking again."
                )
            else:
                rows = merged_by_id(chunk_pages)  # in list order: the chunks agree on it
                limit = (sent_limit(any_answer) if any_answer is not None else None) or int(params.get("limit", 1))
                # Without overlap no page can show that it joins the last one; such tiny pages go unchecked.
                if page_overlap(limit) == 0 or self._continuity.joins(offset, rows):
                    self._continuity.keep(rows)
                    return answers
                earlier = max(0, offset - (limit - page_overlap(limit)))
                LOGGER.info(
                    f"{self.name}: the page at offset {offset} does not start at a row already read (more rows were "
                    f"deleted meanwhile than pages overlap); reading from offset {earlier} instead."
                )
                params["from"] = earlier
            for answer in answers.values():
                if answer is not None:
                    ledger_of(self.config).observe(self.name, answer)  # discarded, but Zoho charged for it


@dataclass
class WholePagesRetriever(Retriever):
    """The module lists' retriever: a plain SimpleRetriever, built by the CDK from the manifest, whose WholePageRequester
    is told the `fields` chunks the retriever will ask each page for."""

    retriever: SimpleRetriever
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        requester = self.retriever.requester
        field_chunks = self.retriever.additional_query_properties
        if not isinstance(requester, WholePageRequester) or field_chunks is None:
            raise ValueError("WholePagesRetriever needs a WholePageRequester and a QueryProperties `fields` parameter.")
        requester.fetch_whole_pages_of(field_chunks)
        # The selector sees each chunk's rows before they are merged by id, and cannot tell the chunks apart: a row
        # repeated by the page overlap is dropped here, once merged, by the selector's own filter.
        selector = self.retriever.record_selector
        repeats = getattr(selector, "record_filter", None)
        self._repeats = (
            repeats if isinstance(repeats, DropRepeatedRows) else DropRepeatedRows(parameters={}, config=self.config)
        )
        selector.record_filter = None  # type: ignore[attr-defined]

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None
    ) -> Iterable[StreamData]:
        for item in self.retriever.read_records(records_schema, stream_slice):
            if isinstance(item, Mapping) and not self._repeats.is_new(item, stream_slice):
                continue
            yield item

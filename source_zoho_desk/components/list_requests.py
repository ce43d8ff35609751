"""Two answers a list stream goes on after, instead of failing the sync.

**A module the portal refuses.** Zoho refuses a whole endpoint when the token lacks its scope (403 SCOPE_MISMATCH),
the edition lacks the module (403 LICENSE_ACCESS_LIMITED), the user may not see it (403 FORBIDDEN) or the feature
is off (404). Which answers those are is the error table's (zoho_errors.py rows `scope_missing`,
`edition_lacks_module`, `forbidden`, `not_found`); what a list stream declared `skips_refused_stream` does with them
is this module's: the stream ends empty with ONE warning that names the scope or the edition, no later request of
the stream is sent (a per-ticket stream would otherwise ask once per ticket), and the other streams go on. On a
per-ticket stream (`refusals_per_partition`) a 404 or a FORBIDDEN concerns one ticket (deleted since it was listed,
or in a department this user cannot see): that ticket's list is skipped, the stream goes on.

**A `fields=` name Zoho does not take.** A 422 whose `errors[].fieldName` are names the request asked for in
`fields` (a custom field deleted since its definitions were read, a standard name this portal's list does not
accept) drops those names for the rest of the sync, with one warning each, and asks the page again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, MutableMapping, Optional, Set, Union
from urllib.parse import parse_qs, urlparse

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.interpolation.interpolated_boolean import InterpolatedBoolean
from airbyte_cdk.sources.streams.http.error_handlers import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.components.credits import CreditCountingExtractor, ledger_of
from source_zoho_desk.components.error_handler import ZohoErrorHandler
from source_zoho_desk.components.pagination import SentLimitOffsetIncrement
from source_zoho_desk.components.requester import ZohoDeskRequester
from source_zoho_desk.components.whole_pages import WholePageRequester
from source_zoho_desk.zoho_errors import json_body, judge

LOGGER = logging.getLogger("airbyte")

# Rows of the error table that refuse a whole endpoint rather than one request.
STREAM_REFUSALS = frozenset({"scope_missing", "edition_lacks_module", "forbidden", "not_found"})
# ... of which these concern one record when the list belongs to one ticket.
PARTITION_REFUSALS = frozenset({"forbidden", "not_found"})
FIELDS_PARAMETER = "fields"
_IGNORE = ErrorResolution(response_action=ResponseAction.IGNORE)


def sent_fields(response: requests.Response) -> List[str]:
    """The names the request asked for in `fields` (comma-separated)."""
    request = getattr(response, "request", None)
    values = parse_qs(urlparse(str(getattr(request, "url", "") or "")).query).get(FIELDS_PARAMETER) or []
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def refused_field_names(response: Optional[requests.Response]) -> List[str]:
    """The `fields` names a 422 refuses, when it refuses nothing else (a 422 about `limit`, `from` or the length of
    `fields` itself is not about a name)."""
    if response is None or response.status_code != 422:
        return []
    asked = set(sent_fields(response))
    named = [str(e.get("fieldName")) for e in json_body(response).get("errors") or [] if isinstance(e, Mapping)]
    if not asked or not named or not all(name in asked for name in named):
        return []
    return named


@dataclass
class ListErrorHandler(ZohoErrorHandler):
    """The manifest's handler (zoho_errors.py's table) for list streams, with the two exceptions above.

    `skips_refused_stream`: a refused module ends the stream with one warning. `refusals_per_partition`: the stream
    reads one list per ticket, so a 404/FORBIDDEN skips that ticket's list only."""

    skips_refused_stream: Union[bool, str] = False
    refusals_per_partition: bool = False

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        if isinstance(self.skips_refused_stream, str):  # "{{ parameters.get('skip_if_refused', True) }}"
            self.skips_refused_stream = InterpolatedBoolean(
                condition=self.skips_refused_stream, parameters=parameters or {}
            ).eval(self.config)
        self._refusal_lock = threading.Lock()
        self.refusal: Optional[str] = None

    def interpret_response(
        self, response_or_exception: Optional[Union[requests.Response, Exception]]
    ) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response) and response_or_exception.status_code >= 400:
            answer = response_or_exception
            if refused_field_names(answer):
                return _IGNORE  # the requester drops the names and asks again
            verdict = judge(answer, longest_wait=self.longest_wait)
            if self.skips_refused_stream and verdict is not None and verdict.error.name in STREAM_REFUSALS:
                if self.refusals_per_partition and verdict.error.name in PARTITION_REFUSALS:
                    if verdict.status != 404:
                        LOGGER.warning(verdict.skip_note(self._requested(answer)))
                    return _IGNORE
                self._note_refusal(
                    verdict.sentence(
                        self.config, stream=self._stream, scopes=self._scopes, required_scopes=self.required_scopes
                    ),
                    verdict.status,
                    verdict.code,
                )
                return _IGNORE
        return super().interpret_response(response_or_exception)

    def _note_refusal(self, sentence: str, status: Optional[int], code: str) -> None:
        with self._refusal_lock:
            if self.refusal is not None:
                return
            self.refusal = sentence
        if status == 404:
            sentence = (
                f"Zoho Desk answered HTTP 404 ({code or 'no error code'}) for the '{self._stream}' stream: the feature "
                "is turned off in this portal, or its edition does not include it."
            )
        LOGGER.warning(
            f"Skipped the '{self._stream}' stream, which this portal refuses: {sentence} The other streams go on."
        )


@dataclass
class ListRequester(ZohoDeskRequester):
    """The requester of list streams: sends nothing more once the stream was refused, and drops `fields` names Zoho
    refused (see the module docstring). State is per stream: the CDK shares one requester among its partitions."""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._dropped_fields: Set[str] = set()
        self._fields_lock = threading.Lock()

    @property
    def dropped_fields(self) -> Set[str]:
        with self._fields_lock:
            return set(self._dropped_fields)

    def _refused(self) -> bool:
        return isinstance(self.error_handler, ListErrorHandler) and self.error_handler.refusal is not None

    def _request_params(
        self,
        stream_state: Any,
        stream_slice: Optional[StreamSlice],
        next_page_token: Optional[Mapping[str, Any]],
        extra_params: Optional[Mapping[str, Any]] = None,
    ) -> Mapping[str, Any]:
        params = dict(super()._request_params(stream_state, stream_slice, next_page_token, extra_params))
        dropped = self.dropped_fields
        if dropped and isinstance(params.get(FIELDS_PARAMETER), str):
            kept = [n for n in params[FIELDS_PARAMETER].split(",") if n and n not in dropped]
            params[FIELDS_PARAMETER] = ",".join(kept or ["id"])
        return params

    def send_request(self, *args: Any, **kwargs: Any) -> Optional[requests.Response]:
        if self._refused():
            return None
        response = super().send_request(*args, **kwargs)
        while response is not None:
            names = refused_field_names(response)
            with self._fields_lock:
                new = [n for n in names if n not in self._dropped_fields]
                self._dropped_fields.update(new)
            if not new:
                if names:  # the names were dropped, yet Zoho still refuses them: never read such a page as empty
                    raise AirbyteTracedException(
                        message=f"Zoho Desk keeps refusing the field(s) {', '.join(names)} of the '{self.name}' list.",
                        internal_message=response.text[:500],
                        failure_type=FailureType.system_error,
                    )
                break
            LOGGER.warning(
                f"{self.name}: Zoho Desk does not list the field(s) {', '.join(new)} with `fields=` (HTTP 422); they are "
                "left out for the rest of this sync."
            )
            response = super().send_request(*args, **kwargs)
        if self._refused():
            return None
        return response


@dataclass
class ListWholePageRequester(WholePageRequester, ListRequester):
    """WholePageRequester (all `fields` chunks of a page together, see whole_pages.py) over a ListRequester: each
    chunk request it sends drops refused names and stops once the stream was refused."""


@dataclass
class FirstOffsetIncrement(SentLimitOffsetIncrement):
    """SentLimitOffsetIncrement for lists whose `from` starts at `first_offset` (Zoho's articles refuse `from=0`)."""

    first_offset: int = 0

    @property
    def initial_token(self) -> Optional[Any]:
        return self.first_offset if self.inject_on_first_request else None


@dataclass
class ListExtractor(CreditCountingExtractor):
    """CreditCountingExtractor that reads Zoho's empty page (204, no body) as no rows without handing the empty body
    to the JSON decoder, which logs an ERROR line for it: a per-ticket stream meets one for every ticket without
    such children."""

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        if response.content.strip():
            yield from super().extract_records(response)
            return
        if not getattr(response, "_zoho_credits_booked", False):
            response._zoho_credits_booked = True  # type: ignore[attr-defined]
            ledger_of(self.config).observe(self._stream, response)

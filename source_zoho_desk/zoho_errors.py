"""Zoho Desk's answers that are not plain successes, in one table: what each one means for the request, and the
sentence a person reads when it ends a sync, a check or a command.

Every Desk call of the connector is judged here: the manifest's streams (components/error_handler.py) and the
DeskClient (check, webhook drains, webhook registration). How long to wait and how often to retry is declared once,
in the manifest's error handler; this table only says *whether* an answer is worth another try.

Zoho's error body is `{"errorCode": "...", "message": "..."}`, and a 422 adds `errors: [{fieldName, ...}]`
(../shared/reference/zoho-desk-api.md). A row matches by errorCode first, then by HTTP status.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any, Dict, Mapping, Optional, Tuple, TypeGuard, Union
from urllib.parse import urlsplit

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from urllib3.exceptions import NameResolutionError, NewConnectionError

Answer = Union[requests.Response, Exception, None]


class Do(Enum):
    RETRY = "retry after the declared backoff"
    SLOW_DOWN = "retry after the pause Zoho asks for (Retry-After)"
    REFRESH_THEN_RETRY = "refresh the access token, then retry"
    FAIL = "fail"
    IGNORE = "ignore: the caller acts on the answer itself"


@dataclass(frozen=True)
class ZohoError:
    """One row. `fails_as` and `message` apply when the answer ends the request: at once for FAIL, after the
    retries (or the refresh) for the others. `one_record` replaces `does` for a read of one record by id, where a
    record deleted since it was listed, or hidden from this user, is skipped rather than failing the stream."""

    name: str
    does: Do
    fails_as: FailureType
    message: str
    codes: Tuple[str, ...] = ()
    statuses: Tuple[int, ...] = ()
    one_record: Optional[Do] = None


_ANSWERED = "Zoho Desk answered HTTP {status} ({code}) for the '{stream}' stream: {detail}."

ERRORS: Dict[str, ZohoError] = {
    row.name: row
    for row in (
        ZohoError(
            "org_mismatch",
            Do.FAIL,
            FailureType.config_error,
            "Organization id {org_id} does not belong to the Zoho account that authorized this connection. Copy the "
            "id from Zoho Desk > Setup > Developer Space > API (the 'orgId' shown there), or authorize with a user of "
            "that organization.",
            codes=("OAUTH_ORG_MISMATCH",),
        ),
        ZohoError(
            "token_rejected",
            Do.REFRESH_THEN_RETRY,
            FailureType.config_error,
            "Zoho Desk rejected the access token ({code}) even after refreshing it. Re-authenticate the connection "
            "(a new refresh token, or a new grant code) with a client of the '{data_center}' data center.",
            codes=("INVALID_OAUTH",),
            statuses=(401,),
        ),
        ZohoError(
            "scope_missing",
            Do.FAIL,
            FailureType.config_error,
            "The Zoho token lacks the scope the '{stream}' stream needs: {scopes}. Generate a new grant code (or "
            "re-authenticate) with the scopes {required_scopes}, or deselect the stream.",
            codes=("SCOPE_MISMATCH",),
        ),
        ZohoError(
            "edition_lacks_module",
            Do.FAIL,
            FailureType.config_error,
            "Zoho Desk refused the '{stream}' stream ({code}: {detail}): this portal's Zoho Desk edition does not "
            "include it. Deselect the stream.",
            codes=("LICENSE_ACCESS_LIMITED",),
        ),
        ZohoError(
            "forbidden",
            Do.FAIL,
            FailureType.config_error,
            "Zoho Desk refused the '{stream}' stream ({code}: {detail}). The authorizing user needs access to this "
            "module, or the portal's edition does not include it; deselect the stream if so.",
            codes=("FORBIDDEN",),
            statuses=(403,),
            one_record=Do.IGNORE,
        ),
        ZohoError(
            "credits_pause",
            Do.SLOW_DOWN,
            FailureType.transient_error,
            "Zoho Desk paused this portal's API calls for {retry_after} seconds ({code}); waiting, then asking again.",
        ),
        ZohoError(
            "credits_spent",
            Do.FAIL,
            FailureType.transient_error,
            "The Zoho Desk portal has spent its daily API credits (shared by every integration of the portal). "
            "Credits reset within 24 hours; the next sync continues from the saved state. Zoho Desk > Setup > "
            "Developer Space > API shows the usage.",
            codes=("THRESHOLD_EXCEEDED",),
        ),
        ZohoError(
            "too_many_requests",
            Do.SLOW_DOWN,
            FailureType.transient_error,
            "Zoho Desk asked to slow down ({code}): the portal allows fewer requests at once. Lower 'Parallel "
            "requests' if this keeps happening.",
            codes=("TOO_MANY_REQUESTS",),
            statuses=(429,),
        ),
        ZohoError(
            "page_too_large",
            Do.IGNORE,
            FailureType.system_error,
            "Zoho Desk refused the page size of the '{stream}' stream ({detail}); asking again with a smaller page.",
        ),
        ZohoError(
            "not_found",
            Do.FAIL,
            FailureType.config_error,
            "Zoho Desk has nothing at this address for the '{stream}' stream (HTTP 404 {code}: {detail}). If "
            "desk_base_url is set, it must be the Desk API base, e.g. https://desk.zoho.com/api/v1.",
            codes=("URL_NOT_FOUND",),
            statuses=(404,),
            one_record=Do.IGNORE,
        ),
        ZohoError(
            "unprocessable",
            Do.FAIL,
            FailureType.system_error,
            _ANSWERED,
            codes=("UNPROCESSABLE_ENTITY",),
            statuses=(422,),
            one_record=Do.IGNORE,
        ),
        ZohoError("refused", Do.FAIL, FailureType.system_error, _ANSWERED),
        ZohoError(
            "server_error",
            Do.RETRY,
            FailureType.transient_error,
            "Zoho Desk answered HTTP {status} ({code}); asking again.",
            codes=("INTERNAL_SERVER_ERROR",),
        ),
        ZohoError(
            "unreadable_answer",
            Do.RETRY,
            FailureType.transient_error,
            "Zoho Desk answered HTTP {status} with a body that is not JSON (an HTML page or a cut-off answer); "
            "asking again.",
        ),
        ZohoError(
            "no_record",
            Do.RETRY,
            FailureType.transient_error,
            "Zoho Desk answered HTTP {status} without the record the '{stream}' stream asked for; asking again.",
        ),
        ZohoError(
            "connection_broken",
            Do.RETRY,
            FailureType.transient_error,
            "The connection to Zoho Desk broke or timed out ({detail}); asking again.",
        ),
        ZohoError(
            "not_repeatable",
            Do.FAIL,
            FailureType.transient_error,
            "The connection to Zoho Desk broke during a {method} that may have taken effect, so it is not repeated "
            "({detail}).",
        ),
        ZohoError(
            "unreachable",
            Do.FAIL,
            FailureType.transient_error,
            "The connector cannot reach Zoho Desk at {host} ({detail}). Check the data center and any desk_base_url "
            "override, and that this machine can reach {host}.",
        ),
    )
}
_BY_CODE = {code: row for row in ERRORS.values() for code in row.codes}
_BY_STATUS = {status: row for row in ERRORS.values() for status in row.statuses}
# Asked again after a connection broke mid-request: reads. A POST or DELETE may have taken effect (a second create
# makes a second webhook; a second delete answers 404).
_REPEATABLE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Verdict:
    """What the table says about one answer."""

    error: ZohoError
    does: Do
    status: Optional[int] = None
    code: str = ""
    detail: str = ""
    host: str = ""
    method: str = ""
    retry_after: Optional[float] = None

    def sentence(
        self, config: Mapping[str, Any], *, stream: str = "", scopes: str = "", required_scopes: str = ""
    ) -> str:
        return self.error.message.format(
            org_id=config.get("org_id", ""),
            data_center=config.get("data_center", "com"),
            stream=stream or "requested",
            scopes=scopes or required_scopes,
            required_scopes=required_scopes,
            status=self.status,
            code=self.code or f"HTTP {self.status}",
            detail=self.detail or "no details",
            host=self.host,
            method=self.method,
            retry_after=f"{self.retry_after:g}" if self.retry_after is not None else "some",
        )

    def failure(self, config: Mapping[str, Any], **context: str) -> AirbyteTracedException:
        return AirbyteTracedException(
            message=self.sentence(config, **context),
            internal_message=f"HTTP {self.status} {self.code}: {self.detail}"[:500],
            failure_type=self.error.fails_as,
        )

    def skip_note(self, what: str) -> str:
        """The warning for a record read by id that is skipped (`one_record` IGNORE)."""
        return (
            f"Skipped {what}: Zoho Desk answered HTTP {self.status} ({self.code or 'no error code'}); the record was "
            "deleted since, or this user may not see it. The rest of the stream goes on."
        )


def judge(
    answer: Answer, *, reads_one_record: bool = False, longest_wait: Optional[float] = None, host_answered: bool = True
) -> Optional[Verdict]:
    """The row for an answer, or None for a success.

    `longest_wait` is the longest Retry-After the manifest's backoff accepts: Zoho answers spent daily credits with
    a wait of hours, which fails the sync instead. `host_answered`: an unreachable host that never answered in this
    run is a configuration problem (fail at once); one that answered before is having a blip (retry)."""
    if isinstance(answer, requests.Response):
        return _judge_response(answer, reads_one_record, longest_wait)
    if isinstance(answer, requests.RequestException):
        return _judge_exception(answer, host_answered)
    return Verdict(ERRORS["connection_broken"], Do.RETRY, detail=type(answer).__name__)


def is_page_too_large(response: Optional[requests.Response]) -> TypeGuard[requests.Response]:
    """A 422 about `limit`: the endpoint accepts smaller pages. One about `from` (the search offset cap) is not."""
    if response is None or response.status_code != 422:
        return False
    body = json_body(response)
    fields = [e.get("fieldName") for e in body.get("errors") or [] if isinstance(e, Mapping)]
    if fields:
        return "limit" in fields
    message = str(body.get("message", "")).lower()
    return "exceeds the range" in message and "limit" in message


def decoded(response: requests.Response) -> Any:
    """The answer's JSON, decoded once per response and kept on it: the error handler, the page checks and the
    record extractor all read the same body. Raises ValueError for an empty or non-JSON body (Zoho's 204s, proxies'
    HTML, a body cut off). orjson, several times faster; the standard library for what orjson refuses (NaN). One
    difference from `response.json()`: orjson reads an integer beyond 64 bits as a float; Zoho sends its ids (and
    every number that large) as strings, and a scan for such numbers cost a third of the time saved."""
    cached = getattr(response, _DECODED, _NOT_YET)
    if cached is _NOT_YET:
        content = response.content
        try:
            cached = orjson.loads(content)
        except orjson.JSONDecodeError:
            try:
                cached = json.loads(content)
            except ValueError as error:  # also UnicodeDecodeError
                cached = _Unreadable(str(error))
        setattr(response, _DECODED, cached)
    if isinstance(cached, _Unreadable):
        raise ValueError(cached.reason)
    return cached


@dataclass(frozen=True)
class _Unreadable:
    reason: str


_DECODED, _NOT_YET = "_zoho_decoded_body", object()


def json_body(response: requests.Response) -> Dict[str, Any]:
    """The answer's JSON object, or {} for an empty, non-JSON or non-object body (Zoho's 204s, proxies' HTML)."""
    try:
        body = decoded(response)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _judge_response(
    response: requests.Response, reads_one_record: bool, longest_wait: Optional[float]
) -> Optional[Verdict]:
    status = response.status_code
    if 200 <= status < 300:
        try:
            answered = decoded(response) if response.content.strip() else None
        except ValueError:  # an HTML page, or JSON cut off
            return Verdict(ERRORS["unreadable_answer"], Do.RETRY, status=status) if status == 200 else None
        if reads_one_record and not (isinstance(answered, dict) and answered):  # a 204 or {} where a record was asked
            return Verdict(ERRORS["no_record"], Do.RETRY, status=status)
        return None
    body = json_body(response)
    code = str(body.get("errorCode") or "")
    retry_after = _retry_after(response)
    if is_page_too_large(response):
        row = ERRORS["page_too_large"]
    elif code == "THRESHOLD_EXCEEDED" and _shorter(retry_after, longest_wait):
        row = ERRORS["credits_pause"]
    else:
        fallback = ERRORS["server_error"] if status >= 500 else ERRORS["refused"]
        row = _BY_CODE.get(code) or _BY_STATUS.get(status) or fallback
    does = row.one_record if reads_one_record and row.one_record else row.does
    return Verdict(
        row, does, status=status, code=code, detail=_detail(body), retry_after=retry_after, method=_method(response)
    )


def _judge_exception(error: requests.RequestException, host_answered: bool) -> Verdict:
    request = error.request
    method = str(getattr(request, "method", "") or "").upper()
    host = urlsplit(str(getattr(request, "url", "") or "")).netloc or "the configured host"
    reason = getattr(error.args[0], "reason", None) if error.args else None
    refused = isinstance(reason, NewConnectionError)  # refused, unroutable or unknown host: nothing was sent
    if refused and not host_answered:
        detail = "the host name does not resolve" if isinstance(reason, NameResolutionError) else "could not connect"
        return Verdict(ERRORS["unreachable"], Do.FAIL, detail=detail, host=host, method=method)
    sent = not (refused or isinstance(error, requests.ConnectTimeout))
    if sent and method and method not in _REPEATABLE_METHODS:
        return Verdict(ERRORS["not_repeatable"], Do.FAIL, detail=type(error).__name__, host=host, method=method)
    return Verdict(ERRORS["connection_broken"], Do.RETRY, detail=type(error).__name__, host=host, method=method)


def _detail(body: Mapping[str, Any]) -> str:
    fields = [e for e in body.get("errors") or [] if isinstance(e, Mapping)]
    detail = "; ".join(str(e.get("errorMessage") or e.get("fieldName")) for e in fields)
    detail = detail or str(body.get("message") or "")
    return " ".join(detail.split())[:300]


def _retry_after(response: requests.Response) -> Optional[float]:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _shorter(wait: Optional[float], longest_wait: Optional[float]) -> bool:
    return wait is not None and longest_wait is not None and wait < longest_wait


def _method(response: requests.Response) -> str:
    return str(getattr(response.request, "method", "") or "").upper()

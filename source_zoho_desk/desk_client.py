"""The one HTTP client for Zoho Desk calls outside the manifest's streams: `check`, the incremental reads' fetch by
id, search and recycle-bin pages, and the webhook commands (register, list, delete).

It is the CDK's HttpClient with what the manifest declares for the streams: the requester's headers and timeouts,
its error handler (Zoho's answers judged by zoho_errors.py, the same retries, waits and Retry-After cap) and its
OAuth authenticator. One difference, on purpose: a stream's refusal ends the stream with the table's sentence, while
a caller here often says more (which webhook scope is missing), so refusals come back as answers and `refusal()`
turns one into the table's error.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import replace
from typing import Any, Dict, List, Mapping, MutableMapping, Optional, Tuple, Union

import requests
from airbyte_cdk.sources.declarative.interpolation.interpolated_mapping import InterpolatedMapping
from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    CustomErrorHandler as CustomErrorHandlerModel,
)
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory
from airbyte_cdk.sources.streams.http import HttpClient
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler, ErrorResolution, ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk import packaged_manifest, zoho_hosts
from source_zoho_desk.components.auth import ZohoOAuthAuthenticator
from source_zoho_desk.components.credits import ledger_of
from source_zoho_desk.components.error_handler import ZohoErrorHandler
from source_zoho_desk.zoho_errors import Do, Verdict, json_body, judge

__all__ = ["DeskClient", "json_body"]

logger = logging.getLogger("airbyte")
# The CDK client's own logs (retries, give-ups) join the connector's log in a sync. A webhook command configures no
# logging; there its errors are the one line the command prints, not a second copy on stderr.
_HTTP_LOGGER = logging.getLogger("airbyte.zoho_desk_client")
_HTTP_LOGGER.addHandler(logging.NullHandler())


class DeskClient:
    def __init__(self, config: MutableMapping[str, Any], *, http_logger: logging.Logger = _HTTP_LOGGER) -> None:
        """`http_logger` gets the CDK client's request logs; its debug lines hold request URLs and bodies."""
        self._config = config
        self.base_url = zoho_hosts.desk_api_base(config)
        definitions = packaged_manifest.definitions()
        requester = definitions["requester"]
        self._scopes: Mapping[str, str] = definitions["scopes"]
        headers = InterpolatedMapping(requester["request_headers"], parameters={}).eval(config)
        # An orgId of digits evaluates to an int; without an org_id (organization.py is finding it) none is sent.
        self._headers = {name: str(value) for name, value in headers.items() if value is not None}
        authenticator = ZohoOAuthAuthenticator(config=config, parameters={})
        timeouts = (requester["connect_timeout_in_seconds"], requester["read_timeout_in_seconds"])
        self._handler = _manifest_error_handler(definitions["error_handlers"]["default"], config)
        self._http = _http_client(self._handler, authenticator, timeouts, http_logger)
        # Reads of one record by id, as the manifest's products and contracts streams make them.
        self._one_record_http = _http_client(
            _manifest_error_handler(definitions["error_handlers"]["one_record"], config),
            authenticator,
            timeouts,
            http_logger,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, Any]] = None,
        json: Optional[Mapping[str, Any]] = None,
        headers: Optional[Mapping[str, str]] = None,
        stream: Optional[str] = None,
    ) -> requests.Response:
        """Sends one Desk call under the manifest's policy and returns Zoho's final answer: a success, or a refusal
        for the caller to phrase (see `refusal`). Token problems, spent retries and an unreachable host raise the
        AirbyteTracedException a stream would raise."""
        return self._send(self._http, method, path, params=params, json=json, headers=headers, stream=stream)

    def get(
        self, path: str, params: Optional[Mapping[str, Any]] = None, stream: Optional[str] = None
    ) -> requests.Response:
        return self.request("GET", path, params=params, stream=stream)

    def refusal(
        self, response: requests.Response, *, stream: str, scopes: Optional[str] = None
    ) -> Optional[AirbyteTracedException]:
        """The table's error for a final answer that is not a success, phrased for `stream`; None for a success."""
        verdict = judge(response, longest_wait=self._handler.longest_wait)
        return None if verdict is None else self._failure(verdict, stream, scopes)

    def get_record(self, path: str, record_id: str) -> Optional[Dict[str, Any]]:
        """The record at `path/record_id`, or None when Zoho no longer has it or will not show this one record (the
        table's `one_record` column; the error handler logs the skip): failing would block every later event of the
        stream for good."""
        response = self._send(self._one_record_http, "GET", f"{path}/{record_id}", stream=path)
        verdict = judge(response, reads_one_record=True, longest_wait=self._handler.longest_wait)
        if verdict is None:
            return json_body(response)
        if verdict.does is Do.IGNORE:
            return None
        raise self._failure(verdict, path)

    def list_page(
        self,
        path: str,
        offset: int,
        limit: int,
        params: Optional[Mapping[str, Any]] = None,
        stream: Optional[str] = None,
    ) -> List[Dict[str, Any]]:
        """One page of a Zoho list or search (`from`/`limit`, plus `params`); Zoho answers an empty page with 204.
        Its credits count for `stream` (by default the path's first part)."""
        stream = stream or path.split("/")[0]
        response = self._send(
            self._http, "GET", path, params={**(params or {}), "from": offset, "limit": limit}, stream=stream
        )
        failure = self.refusal(response, stream=stream)
        if failure is not None:
            raise failure
        rows = json_body(response).get("data")
        return list(rows) if isinstance(rows, list) else []

    def _failure(self, verdict: Verdict, stream: str, scopes: Optional[str] = None) -> AirbyteTracedException:
        return verdict.failure(
            self._config,
            stream=stream,
            scopes=self._scopes.get(stream, "") if scopes is None else scopes,
            required_scopes=self._handler.required_scopes,
        )

    def _send(
        self,
        http: HttpClient,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, Any]] = None,
        json: Optional[Mapping[str, Any]] = None,
        headers: Optional[Mapping[str, str]] = None,
        stream: Optional[str] = None,
    ) -> requests.Response:
        """Sends under the run's credit budget and books the answer's credits to `stream` (the path's first part)."""
        stream = stream or path.split("/")[0]
        ledger = ledger_of(self._config)
        ledger.check_budget(stream)
        _, response = http.send_request(
            method.upper(),
            f"{self.base_url}/{path.lstrip('/')}",
            request_kwargs={},
            headers={**self._headers, **(headers or {})},
            params=dict(params or {}),
            json=json,
        )
        ledger.observe(stream, response)
        return response


class _RefusalsComeBack(ErrorHandler):
    """The manifest's handler, except that a refusal is handed back to the DeskClient's caller instead of raised,
    and a rate limit is waited out without the stream status message a stream would print (stdout is a person's
    here, or a stream's whose status the client does not own)."""

    def __init__(self, handler: ZohoErrorHandler) -> None:
        self._handler = handler

    @property
    def max_retries(self) -> Optional[int]:
        return self._handler.max_retries  # type: ignore[return-value]

    @property
    def max_time(self) -> Optional[int]:
        return self._handler.max_time

    def interpret_response(self, response: Optional[Union[requests.Response, Exception]]) -> ErrorResolution:
        resolution = self._handler.interpret_response(response)
        if resolution.response_action == ResponseAction.RATE_LIMITED:
            return replace(resolution, response_action=ResponseAction.RETRY)
        if resolution.response_action == ResponseAction.FAIL and isinstance(response, requests.Response):
            return ErrorResolution(
                response_action=ResponseAction.IGNORE, error_message=f"Zoho Desk answered HTTP {response.status_code}."
            )
        return resolution


def _http_client(
    handler: ZohoErrorHandler,
    authenticator: ZohoOAuthAuthenticator,
    timeouts: Tuple[float, float],
    logger: logging.Logger,
) -> HttpClient:
    return HttpClient(
        name="zoho_desk",
        logger=logger,
        error_handler=_RefusalsComeBack(handler),
        backoff_strategy=handler.backoff_strategies,
        authenticator=authenticator,
        request_timeout=timeouts,
    )


def _manifest_error_handler(definition: Mapping[str, Any], config: Mapping[str, Any]) -> ZohoErrorHandler:
    definition = copy.deepcopy(dict(definition))
    handler = ModelToComponentFactory().create_component(CustomErrorHandlerModel, definition, config)
    assert isinstance(handler, ZohoErrorHandler), "definitions.error_handlers.default must be a ZohoErrorHandler"
    return handler

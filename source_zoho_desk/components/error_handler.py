"""The error handler of every Desk request: Zoho's answers are judged by the one table in zoho_errors.py; retries,
waits and the Retry-After cap are the manifest's own (DefaultErrorHandler's `max_retries` and `backoff_strategies`).
The DeskClient builds this same handler from the manifest for the calls outside the streams."""

from __future__ import annotations

import logging
import threading
from dataclasses import InitVar, dataclass
from typing import Any, List, Mapping, Optional, Set, Union
from urllib.parse import urlsplit

import requests
from airbyte_cdk.sources.declarative.requesters.error_handlers.backoff_strategies import (
    WaitTimeFromHeaderBackoffStrategy,
)
from airbyte_cdk.sources.declarative.requesters.error_handlers.backoff_strategies.max_waiting_time_helper import (
    evaluate_max_waiting_time,
    interpolated_max_waiting_time,
)
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy, ErrorResolution, ResponseAction
from airbyte_cdk.sources.streams.http.error_handlers.response_models import SUCCESS_RESOLUTION
from airbyte_cdk.sources.types import Config

from source_zoho_desk import zoho_hosts
from source_zoho_desk.components.concurrency import slots_of
from source_zoho_desk.zoho_errors import Do, judge

LOGGER = logging.getLogger("airbyte")
TOO_MANY_REQUESTS = "too_many_requests"  # the zoho_errors row of 429 TOO_MANY_REQUESTS

_ACTIONS = {
    Do.RETRY: ResponseAction.RETRY,
    Do.SLOW_DOWN: ResponseAction.RATE_LIMITED,
    Do.REFRESH_THEN_RETRY: ResponseAction.REFRESH_TOKEN_THEN_RETRY,
    Do.FAIL: ResponseAction.FAIL,
    Do.IGNORE: ResponseAction.IGNORE,
}


@dataclass
class ZohoErrorHandler(DefaultErrorHandler):
    """`required_scopes`: the scope list error messages tell a user to grant. `reads_one_record`: the requests read
    one record by id, so a record deleted since it was listed, or hidden from this user, is skipped with a warning.
    A stream's `$parameters` `name` and `scopes` name it and its scope in messages."""

    required_scopes: str = ""
    reads_one_record: bool = False

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        # The id lists under products and contracts (`products_list`) are reported as the stream they feed.
        parameters = parameters or {}
        self._stream = str(parameters.get("name", "")).removesuffix("_list")
        self._scopes = str(parameters.get("scopes", ""))
        self.longest_wait = _longest_wait(self.backoff_strategies or [], self.config)
        self._host_answered = False
        self._rejected_tokens: Set[int] = set()
        self._lock = threading.Lock()
        self._slots = slots_of(self.config)

    def interpret_response(
        self, response_or_exception: Optional[Union[requests.Response, Exception]]
    ) -> ErrorResolution:
        verdict = judge(
            response_or_exception,
            reads_one_record=self.reads_one_record,
            longest_wait=self.longest_wait,
            host_answered=self._host_answered,
        )
        if isinstance(response_or_exception, requests.Response):
            self._host_answered = True
        if verdict is None:
            self._slots.succeeded()
            return SUCCESS_RESOLUTION
        if verdict.error.name == TOO_MANY_REQUESTS:
            self._slots.throttled()  # fewer requests at once from now on; this one is retried after a short wait
        does = verdict.does
        if does is Do.REFRESH_THEN_RETRY and self._second_token_rejected(response_or_exception):
            does = Do.FAIL
        if does is Do.IGNORE and verdict.error.one_record is Do.IGNORE and self.reads_one_record:
            if verdict.status != 404:  # a record deleted since it was listed is no news
                LOGGER.warning(verdict.skip_note(self._requested(response_or_exception)))
            return ErrorResolution(response_action=ResponseAction.IGNORE)
        return ErrorResolution(
            response_action=_ACTIONS[does],
            failure_type=verdict.error.fails_as,
            error_message=verdict.sentence(
                self.config, stream=self._stream, scopes=self._scopes, required_scopes=self.required_scopes
            ),
        )

    def _second_token_rejected(self, answer: Any) -> bool:
        """A refresh helps once: when Zoho rejects a second, different token in this run, stop. (The same token
        again is a request sent before the refresh; the CDK retries it with the new token without refreshing.)"""
        sent = getattr(getattr(answer, "request", None), "headers", {}).get("Authorization", "")
        with self._lock:
            if hash(sent) in self._rejected_tokens or not self._rejected_tokens:
                self._rejected_tokens.add(hash(sent))
                return False
            return True

    def _requested(self, answer: Any) -> str:
        """`products/123` for a request to `<Desk API base>/products/123`."""
        path = urlsplit(str(getattr(getattr(answer, "request", None), "url", "") or "")).path
        return path.removeprefix(urlsplit(zoho_hosts.desk_api_base(self.config)).path).strip("/")


@dataclass
class NoWaitAfterTokenRefresh(BackoffStrategy):
    """Listed first in the manifest's backoff: a request refused for its access token is asked again with the new
    token at once, not after the exponential backoff meant for overloaded servers. (The CDK adds one second to every
    wait it takes.)"""

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def backoff_time(
        self, response_or_exception: Optional[Union[requests.Response, requests.RequestException]], attempt_count: int
    ) -> Optional[float]:
        verdict = judge(response_or_exception) if isinstance(response_or_exception, requests.Response) else None
        return 0.001 if verdict is not None and verdict.does is Do.REFRESH_THEN_RETRY else None


@dataclass
class ShortWaitWhenTooMany(BackoffStrategy):
    """A request refused with 429 TOO_MANY_REQUESTS is asked again after a second (plus the CDK's one): the run's
    request slots have already dropped below the portal's limit (components/concurrency.py), so the wait of an
    overloaded server's exponential backoff would only idle the worker. A `Retry-After` Zoho sends is waited instead."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def backoff_time(
        self, response_or_exception: Optional[Union[requests.Response, requests.RequestException]], attempt_count: int
    ) -> Optional[float]:
        if not isinstance(response_or_exception, requests.Response) or "Retry-After" in response_or_exception.headers:
            return None
        verdict = judge(response_or_exception)
        return 1.0 if verdict is not None and verdict.error.name == TOO_MANY_REQUESTS else None


def _longest_wait(strategies: List[BackoffStrategy], config: Config) -> Optional[float]:
    """The Retry-After cap of the manifest's WaitTimeFromHeader: Zoho's longer waits end the request instead."""
    for strategy in strategies:
        if isinstance(strategy, WaitTimeFromHeaderBackoffStrategy):
            cap = interpolated_max_waiting_time(strategy.max_waiting_time_in_seconds, {})
            return evaluate_max_waiting_time(cap, config)
    return None

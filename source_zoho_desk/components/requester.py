"""The requester of every Desk stream: it sends to the configured data center's Desk API, and asks a page again with
a smaller `limit` when Zoho refuses the page size.

Hosts: `url` in the manifest is relative to `zoho_hosts.desk_api_base(config)`, the connector's one rule for the
Desk host (the DeskClient uses the same), so the manifest does not repeat it in Jinja.

Page sizes: Zoho documents a different maximum `limit` per endpoint, and some endpoints are reported to cap lower than
documented. Asking for the largest documented page saves API credits (a page costs the same whatever its size), so
when Zoho refuses the limit (zoho_errors.is_page_too_large; the error handler ignores that answer so that it comes
back here) the requester halves `limit`, asks for the same page again and keeps the smaller limit for the rest of
the stream. The CDK's own `page_size_reduction` cannot be combined with the `fields` chunking that tickets need, so
this one mechanism serves every stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional
from urllib.parse import urlparse

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.requesters.request_options.interpolated_request_options_provider import (
    InterpolatedRequestOptionsProvider,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk import zoho_hosts
from source_zoho_desk.components.concurrency import slots_of
from source_zoho_desk.components.credits import ledger_of
from source_zoho_desk.components.pagination import sent_limit, sent_url
from source_zoho_desk.zoho_errors import is_page_too_large


@dataclass
class ZohoDeskRequester(HttpRequester):
    """An HttpRequester whose `url` is relative to the Desk API base, and which halves a refused page size.

    A custom requester receives the manifest's `request_parameters`/`request_headers` raw, so it builds the
    request options provider the CDK would have built for an HttpRequester."""

    request_parameters: Optional[Mapping[str, Any]] = None
    request_headers: Optional[Mapping[str, Any]] = None
    query_properties_key: Optional[str] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        if self.request_options_provider is None:
            self.request_options_provider = InterpolatedRequestOptionsProvider(
                config=self.config,
                parameters=parameters,
                request_parameters=self.request_parameters,
                request_headers=self.request_headers,
                query_properties_key=self.query_properties_key,
            )
        super().__post_init__(parameters)
        self._accepted_limit: Optional[int] = None
        self._slots = slots_of(self.config)

    def get_url(self, **kwargs: Any) -> str:
        return f"{zoho_hosts.desk_api_base(self.config)}/{super().get_url(**kwargs).lstrip('/')}"

    def send_request(
        self, *args: Any, request_params: Optional[Mapping[str, Any]] = None, **kwargs: Any
    ) -> Optional[requests.Response]:
        """Within the run's credit budget and request slots (components/concurrency.py)."""
        with self._slots.slot():
            return self._send_in_slot(*args, request_params=request_params, **kwargs)

    def _send_in_slot(
        self, *args: Any, request_params: Optional[Mapping[str, Any]] = None, **kwargs: Any
    ) -> Optional[requests.Response]:
        ledger_of(self.config).check_budget(self.name)
        params = dict(request_params or {})
        if self._accepted_limit and "limit" in params and int(params["limit"]) > self._accepted_limit:
            params["limit"] = self._accepted_limit
        # request_params goes in the keyword dict: mypy objects that `args` could hold it too, but the CDK passes
        # every argument by keyword
        response = super().send_request(*args, **{**kwargs, "request_params": params})
        while is_page_too_large(response):
            limit = sent_limit(response) or 0
            if limit <= 1:
                raise AirbyteTracedException(
                    message=f"Zoho Desk rejects every page size for {urlparse(sent_url(response)).path}.",
                    internal_message=response.text[:500],
                    failure_type=FailureType.system_error,
                )
            self._accepted_limit = params["limit"] = limit // 2
            response = super().send_request(*args, **{**kwargs, "request_params": params})
        return response

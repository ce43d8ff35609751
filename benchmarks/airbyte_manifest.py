"""Benchmark: Airbyte's own source-zoho-desk manifest, read against the offline simulator (per-stream figures).

    python -m benchmarks.airbyte_manifest PATH [--tickets N] [--latency S] [--products P] [--contracts C]

Runs the public manifest-only connector of airbytehq/airbyte (`airbyte-integrations/connectors/source-zoho-desk/
manifest.yaml`, declarative `version: 5.12.0`) with the airbyte-cdk installed here, in one CDK read, against
`integration_tests.simulator`, so that its calls, credits and seconds can be set beside this connector's. Their
manifest is their code and is not part of this repository; get it yourself:

    curl -fsSL -o airbyte-zoho-desk-manifest.yaml https://raw.githubusercontent.com/airbytehq/airbyte/master/airbyte-integrations/connectors/source-zoho-desk/manifest.yaml

It is loaded as published and changed in memory only, to point it at the simulator; each change, and nothing else:

1. `definitions.base_requester.url_base`: `https://desk.zoho.com/api/v1` -> `sim.desk_base_url`.
2. The token, and its URL. The manifest this was written and run against (`version: 5.12.0`, 48,394 characters,
   airbytehq/airbyte commit 097448b) asks in its spec for one `api_key`, a static access token: it has no OAuth flow,
   no token URL and no refresh. This script gets one as a Zoho user would (Self Client refresh token -> access
   token): it posts the client_id, client_secret and refresh token of `sim.config()["credentials"]` to
   `sim.token_url` once and passes the access token as their `api_key`. Nothing refreshes it during the read: when
   it expires (the simulator's `access_token_ttl`, 3600 s as Zoho's) their read fails, as it would against Zoho.
   A later version of their manifest (`version: 5.15.0`, what `master` may serve) has an `OAuthAuthenticator`
   whose spec requires client_id, client_secret, refresh_token and token_refresh_endpoint: those are filled from
   `sim.config()["credentials"]`, the token refresh URL with `sim.token_url`, and their OAuth flow runs as is
   (checked on a copy of 5.12.0 given 5.15.0's authenticator and spec, not on 5.15.0 itself).
3. The auth scheme (Zoho, and the simulator, answer `Authorization: Bearer <token>` with 401 INVALID_OAUTH):
   their `BearerAuthenticator` becomes an `ApiKeyAuthenticator` sending the same token as
   `Authorization: Zoho-oauthtoken <api_key>`; an `OAuthAuthenticator` keeps all its fields and becomes a
   `CustomAuthenticator` (`ZohoOAuthTokenAuthenticator` below: the CDK's class, with `Zoho-oauthtoken` for `Bearer`).
4. `definitions.base_requester.request_headers`: `orgId: <sim.org_id>` on every request (Zoho requires it on every
   Desk endpoint except `GET /organizations`; their manifest sends none).
5. Only when `num_workers` is given: a top-level `concurrency_level` of that many workers. By default (None) none is
   added, and the CDK reads their manifest with its default of 2 workers, as Airbyte runs it.

Their paging (`OffsetIncrement` without a `page_size_option`, so no `limit` is sent), page sizes, partitioning,
error handling, streams and schemas are left as they are. Config: what their spec requires, and nothing more (a
required property this script cannot fill stops it with that property's name); the values some 5.12.0 streams
interpolate without declaring them in their spec (`roles`: `limit`, `isdefault`, `isvisible`, `searchstr`;
`team_members`: `include`) are optional filters, left unset, as a user of their spec would leave them.

A stream that fails is reported with the CDK's error and the simulator's answer, never left out: an endpoint the
simulator does not serve answers 404 URL_NOT_FOUND (which says what the simulator covers, not that Zoho lacks it), a
parameter it rejects 422. Simulator requests are attributed to streams by
path, each stream's requester path made a pattern (`/tickets/{{ stream_partition.ticket_id }}/threads` ->
`/tickets/[^/]+/threads`); a parent's pages requested for a child count under the parent when it is read too, else
under its first selected child. Runtime dependencies only: standard library, airbyte-cdk, pyyaml.
"""

from __future__ import annotations

import argparse
import copy
import json
import pathlib
import re
import time
import urllib.parse
import urllib.request
from collections import Counter
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple

import yaml
from airbyte_cdk.models import AirbyteStreamStatus, SyncMode
from airbyte_cdk.sources.declarative.auth.oauth import DeclarativeOauth2Authenticator
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.models.outcome import ExpectedOutcome

if TYPE_CHECKING:
    from integration_tests.simulator import ZohoDeskSimulator

DESK_PREFIX = "/api/v1"
_INTERPOLATION = re.compile(r"\{\{.*?\}\}")
_FAILED_REQUEST = re.compile(
    r"'(\w+)' request to '([^']*)' failed with status code '(\d+)'.*?Response \(body\): '(.*?)'\. Response \(headers\)",
    re.S,
)


class ZohoOAuthTokenAuthenticator(DeclarativeOauth2Authenticator):
    """The CDK's declarative OAuth authenticator, their fields unchanged, sending Zoho's scheme instead of `Bearer`."""

    def get_auth_header(self) -> Mapping[str, Any]:
        return {"Authorization": f"Zoho-oauthtoken {self.get_access_token()}"}


def load_manifest(manifest_path: pathlib.Path, sim: "ZohoDeskSimulator", num_workers: Optional[int] = None) -> dict:
    """Their manifest as published, with the changes of the module docstring (and only those) made in memory."""
    manifest = yaml.safe_load(pathlib.Path(manifest_path).read_text(encoding="utf-8"))
    requester = manifest["definitions"]["base_requester"]
    requester["url_base"] = sim.desk_base_url
    authenticator = requester.get("authenticator") or {}
    if authenticator.get("type") == "BearerAuthenticator":
        requester["authenticator"] = {
            "type": "ApiKeyAuthenticator",
            "api_token": authenticator["api_token"].replace("{{", "Zoho-oauthtoken {{", 1),
            "inject_into": {"type": "RequestOption", "inject_into": "header", "field_name": "Authorization"},
        }
    elif authenticator.get("type") == "OAuthAuthenticator":
        requester["authenticator"] = {
            **authenticator,
            "type": "CustomAuthenticator",
            "class_name": f"benchmarks.airbyte_manifest.{ZohoOAuthTokenAuthenticator.__name__}",
        }
    else:
        raise ValueError(f"their base_requester's authenticator is {authenticator.get('type')!r}: not adapted here")
    requester["request_headers"] = {**requester.get("request_headers", {}), "orgId": str(sim.org_id)}
    if num_workers is not None:
        manifest["concurrency_level"] = {
            "type": "ConcurrencyLevel",
            "default_concurrency": num_workers,
            "max_concurrency": num_workers,
        }
    return manifest


def manifest_config(manifest: dict, sim: "ZohoDeskSimulator") -> dict:
    """What their spec requires, filled from the simulator (their `api_key` is an access token minted once)."""
    specification = manifest.get("spec", {}).get("connection_specification", {})
    credentials = sim.config()["credentials"]
    values = {
        "client_id": lambda: credentials["client_id"],
        "client_secret": lambda: credentials["client_secret"],
        "refresh_token": lambda: credentials["refresh_token"],
        "token_refresh_endpoint": lambda: sim.token_url,
        "api_key": lambda: access_token(sim),
    }
    required = list(specification.get("required", []))
    missing = [name for name in required if name not in values]
    if missing:
        raise ValueError(f"their spec requires {', '.join(missing)}, which the simulator has no value for")
    return {name: values[name]() for name in required}


def access_token(sim: "ZohoDeskSimulator") -> str:
    """An access token from the simulator's token endpoint, for the refresh token of `sim.config()`."""
    credentials = sim.config()["credentials"]  # a fresh refresh token
    form = urllib.parse.urlencode(
        {
            "grant_type": "refresh_token",
            "client_id": credentials["client_id"],
            "client_secret": credentials["client_secret"],
            "refresh_token": credentials["refresh_token"],
        }
    ).encode()
    with urllib.request.urlopen(urllib.request.Request(sim.token_url, data=form, method="POST"), timeout=30) as answer:
        body = json.loads(answer.read())
    if "access_token" not in body:
        raise RuntimeError(f"the token endpoint refused the refresh token: {body}")
    return str(body["access_token"])


def _path_patterns(resolved_streams: List[Dict[str, Any]]) -> List[Tuple[str, "re.Pattern[str]", int]]:
    """(stream, pattern of its Desk path, literal length), most specific first."""
    patterns = []
    for stream in resolved_streams:
        path = str(stream["retriever"]["requester"]["path"]).split("?", 1)[0].strip("/")
        literal = _INTERPOLATION.sub("", path)
        regex = "".join(
            "[^/]+" if _INTERPOLATION.fullmatch(part) else re.escape(part) for part in re.split(r"(\{\{.*?\}\})", path)
        )
        patterns.append((stream["name"], re.compile(f"^{re.escape(DESK_PREFIX)}/{regex}/?$"), len(literal)))
    return sorted(patterns, key=lambda item: -item[2])


def _parents(resolved_streams: List[Dict[str, Any]]) -> Dict[str, List[str]]:
    """Each stream's parent streams (through their SubstreamPartitionRouter), nearest first."""
    direct: Dict[str, List[str]] = {}
    for stream in resolved_streams:
        routers = stream["retriever"].get("partition_router") or []
        routers = routers if isinstance(routers, list) else [routers]
        direct[stream["name"]] = [
            parent["stream"]["name"]
            for router in routers
            if router.get("type") == "SubstreamPartitionRouter"
            for parent in router.get("parent_stream_configs", [])
        ]

    def ancestors(name: str) -> List[str]:
        found = []
        for parent in direct.get(name, []):
            found += [parent, *ancestors(parent)]
        return found

    return {name: ancestors(name) for name in direct}


def _describe(message: Optional[str], internal: Optional[str]) -> str:
    """The CDK's message, with the request that failed and the simulator's answer when the CDK names them."""
    failed = _FAILED_REQUEST.search(internal or "")
    if failed is None:
        return message or internal or "error"
    url = urllib.parse.urlsplit(failed[2])
    request = url.path + (f"?{url.query}" if url.query else "")
    return f"{message or 'request failed'} ({failed[1]} {request} -> {failed[3]} {failed[4]})"


def read_airbyte_manifest(
    manifest_path: pathlib.Path,
    sim: "ZohoDeskSimulator",
    streams: Optional[List[str]] = None,
    num_workers: Optional[int] = None,
) -> dict:
    """One CDK read of `streams` (None: every stream their manifest declares) from the running simulator.

    Returns `{"wall_seconds", "streams": {name: {"records", "requests", "credits", "error"}}, "unattributed":
    {"requests", "credits"}}`; `error` is None for a stream that completed, else the CDK's error for it.
    """
    manifest = load_manifest(manifest_path, sim, num_workers)
    config = manifest_config(manifest, sim)
    declared = ConcurrentDeclarativeSource(source_config=copy.deepcopy(manifest), config=config).resolved_manifest[
        "streams"
    ]
    names = [stream["name"] for stream in declared] if streams is None else list(streams)
    unknown = sorted(set(names) - {stream["name"] for stream in declared})
    if unknown:
        raise ValueError(f"their manifest has no stream {', '.join(unknown)}")
    builder = CatalogBuilder()
    for name in names:
        builder.with_stream(name, SyncMode.full_refresh)
    catalog = builder.build()
    source = ConcurrentDeclarativeSource(source_config=manifest, config=config, catalog=catalog, state=[])

    sim.reset_requests()
    started = time.monotonic()
    output = read(source, config, catalog, expected_outcome=ExpectedOutcome.ALLOW_ANY)  # failures are figures
    wall_seconds = time.monotonic() - started
    requests = sim.desk_requests()

    records = Counter(message.record.stream for message in output.records if message.record is not None)
    errors: Dict[str, str] = {}
    unscoped: List[str] = []  # errors of the read itself (no stream named), e.g. a manifest the CDK refuses
    for message in output.errors:
        error = message.trace.error if message.trace is not None else None
        if error is None:
            continue
        text = _describe(error.message, error.internal_message)
        if error.stream_descriptor is not None and error.stream_descriptor.name in names:
            errors.setdefault(error.stream_descriptor.name, text)
        else:
            unscoped.append(text)
    for name in names:
        statuses = output.get_stream_statuses(name)
        if name not in errors and AirbyteStreamStatus.COMPLETE not in statuses:
            last = statuses[-1].name if statuses else "never started"
            errors[name] = f"stream did not complete ({last})" + (f": {unscoped[0]}" if unscoped else "")

    patterns, ancestors = _path_patterns(declared), _parents(declared)
    owner: Dict[str, Optional[str]] = {}
    for name, _, _ in patterns:
        if name in names:
            owner[name] = name
        else:  # a parent read only for a selected child
            owner[name] = next((child for child in names if name in ancestors.get(child, [])), None)
    calls: Counter[str] = Counter()
    credits: Counter[str] = Counter()
    for request in requests:
        stream = next((name for name, pattern, _ in patterns if pattern.match(request.path)), None)
        target = owner.get(stream) if stream is not None else None
        calls[target or ""] += 1
        credits[target or ""] += request.credits
    return {
        "wall_seconds": wall_seconds,
        "streams": {
            name: {
                "records": records[name],
                "requests": calls[name],
                "credits": credits[name],
                "error": errors.get(name),
            }
            for name in names
        },
        "unattributed": {"requests": calls[""], "credits": credits[""]},
    }


def main(manifest_path: pathlib.Path, tickets: int, latency: float, products: int, contracts: int) -> None:
    from integration_tests.simulator import ZohoDeskSimulator

    with ZohoDeskSimulator(seed=3, tickets=tickets, products=products, contracts=contracts) as sim:
        sim.settings.latency = latency
        result = read_airbyte_manifest(manifest_path, sim)
    width = max(len(name) for name in result["streams"])
    for name, figures in result["streams"].items():
        print(
            f"{name:<{width}}  records {figures['records']:>7,}  requests {figures['requests']:>6,}  "
            f"credits {figures['credits']:>7,}  error: {figures['error'] or '-'}"
        )
    unattributed = result["unattributed"]
    if unattributed["requests"]:
        print(
            f"{'(unattributed)':<{width}}  requests {unattributed['requests']:,}  credits {unattributed['credits']:,}"
        )
    totals = [sum(figures[key] for figures in result["streams"].values()) for key in ("records", "requests", "credits")]
    failed = sum(1 for figures in result["streams"].values() if figures["error"])
    print(
        f"{'total':<{width}}  records {totals[0]:>7,}  requests {totals[1]:>6,}  credits {totals[2]:>7,}  "
        f"({failed} of {len(result['streams'])} streams failed; {tickets:,} tickets, {latency:g} s latency, "
        f"wall time {result['wall_seconds']:.1f} s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("manifest", type=pathlib.Path, help="their manifest.yaml (see the module docstring)")
    parser.add_argument("--tickets", type=int, default=2_000, help="tickets in the simulated portal")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds each simulated request takes")
    parser.add_argument("--products", type=int, default=41, help="products in the simulated portal")
    parser.add_argument("--contracts", type=int, default=57, help="contracts in the simulated portal")
    args = parser.parse_args()
    main(args.manifest, args.tickets, args.latency, args.products, args.contracts)

"""`register`, `list` and `delete`: the Zoho Desk webhook that delivers to a receiver endpoint.

These commands call the Desk API with the connector's own config file and `DeskClient` (the same OAuth
token manager, data-center hosts, `orgId` header and retries as a sync). Like a sync started with
`--config FILE`, they write refreshed tokens back to FILE: a spent grant code is replaced by its refresh
token, and the access token is reused by the next command instead of minting another one.

Zoho validates the URL while creating the webhook (a GET that must answer 200), so the receiver must be
running and reachable at that URL first. Messages never show the endpoint token in the URL, nor any
credential.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import re
import sys
from typing import Any, Callable, Iterator, Mapping, MutableMapping, Sequence
from urllib.parse import urlsplit

from source_zoho_desk.incremental.streams import packaged_webhook_streams
from zoho_desk_webhooks import cli
from zoho_desk_webhooks.buffer import open_buffer, redact_url
from zoho_desk_webhooks.errors import UserError

# `includePrevState` costs nothing and shows what changed when reading the raw buffer; Zoho's example documents it
# for Ticket_Update only, so only that event asks for it.
PREV_STATE_EVENTS = frozenset({"Ticket_Update"})
# The webhook commands' Desk calls log nothing of their own: a request's debug line would show the webhook URL, whose
# path is the endpoint's secret. Their errors reach the user as the command's one line.
_QUIET_HTTP_LOGGER = logging.getLogger("zoho_desk_webhooks.commands.http")
_QUIET_HTTP_LOGGER.propagate = False
_QUIET_HTTP_LOGGER.addHandler(logging.NullHandler())
ZOHO_URL_MAX_LENGTH = 100  # the OAS limit of a webhook url
ZOHO_NAME_MAX_LENGTH = 100
_TOKEN_PATH = re.compile(r"/webhooks/([A-Za-z0-9_-]+)/?$")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
# Scopes for each action; Zoho also accepts the Desk.settings.* and Desk.events.* equivalents.
_SCOPES = {"register": "Desk.webhooks.CREATE", "list": "Desk.webhooks.READ", "delete": "Desk.webhooks.DELETE"}


def main(argv: Sequence[str] | None = None) -> int:
    """`zoho-desk-webhooks`: the receiver's commands plus the ones that call Zoho with the connector's config."""
    return cli.main(argv, extensions=[add_commands])


def add_commands(
    commands: argparse._SubParsersAction, buffer_url_option: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Adds the commands to the CLI's subparsers; `buffer_url_option` adds its usual --buffer-url."""
    register = commands.add_parser("register", help="create the Zoho Desk webhook that delivers to an endpoint")
    register.add_argument("--config", required=True, help="the connector's config.json (its tokens are kept fresh)")
    register.add_argument(
        "--url",
        required=True,
        help="public https URL of the endpoint: https://host/webhooks/<token> (<= 100 characters)",
    )
    streams = ",".join(packaged_webhook_streams())
    register.add_argument(
        "--streams", default=streams, help=f"comma-separated streams to subscribe (default and choices: {streams})"
    )
    register.add_argument("--name", help="webhook name shown in Zoho Desk")
    buffer_url_option(register)
    register.add_argument(
        "--endpoint-id",
        help="record the new webhook id on this endpoint of --buffer-url, so "
        "the receiver checks the JWT audience strictly",
    )
    register.set_defaults(handler=register_command)

    listing = commands.add_parser("list", help="list the org's Zoho Desk webhooks")
    listing.add_argument("--config", required=True, help="the connector's config.json")
    listing.set_defaults(handler=list_command)

    delete = commands.add_parser("delete", help="delete a Zoho Desk webhook")
    delete.add_argument("--config", required=True, help="the connector's config.json")
    delete.add_argument("webhook_id")
    delete.set_defaults(handler=delete_command)


# ---- commands -------------------------------------------------------------------------------------


def register_command(args: argparse.Namespace) -> int:
    streams = _streams(args.streams)
    url, token = _checked_url(args.url)
    name = args.name or f"Airbyte source-zoho-desk: {', '.join(streams)}"
    if len(name) > ZOHO_NAME_MAX_LENGTH:
        raise UserError(f"--name is {len(name)} characters; Zoho allows at most {ZOHO_NAME_MAX_LENGTH}")
    if args.endpoint_id and not args.buffer_url:
        raise UserError(
            "--endpoint-id needs --buffer-url (or $ZOHO_DESK_WEBHOOK_BUFFER_URL): the buffer of the receiver"
        )
    with _desk(args.config, token) as (config, client):
        if args.endpoint_id:
            _check_endpoint(args.buffer_url, args.endpoint_id, token, str(config["org_id"]))
        subscriptions = subscriptions_of(streams)
        body = {"url": url, "name": name, "subscriptions": subscriptions, "isEnabled": True}
        response = client.request("POST", "webhooks", json=body)
        if response.status_code not in (200, 201):
            raise UserError(_api_problem(response, "register", url=url))
        webhook_id = str(_json(response).get("id") or "")
        if not webhook_id:
            raise UserError("Zoho Desk created the webhook but its answer has no id; see `zoho-desk-webhooks list`")
    print(webhook_id, flush=True)
    print(
        f"created Zoho Desk webhook {webhook_id} ({', '.join(subscriptions)}) delivering to {_redacted(url, token)}",
        file=sys.stderr,
    )
    if not args.endpoint_id:
        print(
            f"tip: `zoho-desk-webhooks endpoint set-webhook-id <endpoint id> {webhook_id}` makes the receiver "
            "accept only this webhook's JWTs",
            file=sys.stderr,
        )
        return 0
    try:
        with open_buffer(args.buffer_url) as buffer:
            recorded = buffer.set_webhook_id(args.endpoint_id, webhook_id)
    except Exception as exc:  # the webhook exists now: say how to finish by hand, whatever the driver raised
        raise UserError(
            f"webhook {webhook_id} was created, but recording it on endpoint {args.endpoint_id} failed "
            f"({exc}); run `zoho-desk-webhooks endpoint set-webhook-id {args.endpoint_id} {webhook_id}`"
        ) from None
    if not recorded:
        raise UserError(f"webhook {webhook_id} was created, but endpoint {args.endpoint_id} no longer exists")
    print(f"endpoint {args.endpoint_id} now accepts only JWTs of webhook {webhook_id}", file=sys.stderr)
    return 0


def list_command(args: argparse.Namespace) -> int:
    with _desk(args.config, None) as (_, client):
        response = client.request("GET", "webhooks")
        if response.status_code == 204:
            hooks: list = []
        elif response.status_code == 200:
            hooks = _json(response).get("data") or []
        else:
            raise UserError(_api_problem(response, "list"))
    print("webhook_id\tenabled\tname\tevents\turl")
    for hook in hooks:
        url = str(hook.get("url") or "")
        match = _TOKEN_PATH.search(urlsplit(url).path)
        events = ",".join(hook.get("subscriptions") or {})
        print(
            f"{hook.get('id')}\t{str(hook.get('isEnabled')).lower()}\t{hook.get('name') or '-'}\t{events}\t"
            f"{_redacted(url, match.group(1)) if match else url}"
        )
    return 0


def delete_command(args: argparse.Namespace) -> int:
    webhook_id = args.webhook_id.strip()
    if not webhook_id.isdigit():
        raise UserError(f"{args.webhook_id!r} is not a Zoho webhook id (digits; see `zoho-desk-webhooks list`)")
    with _desk(args.config, None) as (config, client):
        response = client.request("DELETE", f"webhooks/{webhook_id}")
        if response.status_code == 404:
            raise UserError(f"org {config['org_id']} has no webhook {webhook_id} (see `zoho-desk-webhooks list`)")
        if response.status_code not in (200, 204):
            raise UserError(_api_problem(response, "delete"))
    print(f"deleted Zoho Desk webhook {webhook_id}", file=sys.stderr)
    return 0


# ---- pieces -------------------------------------------------------------------------------------


def subscriptions_of(stream_names: list[str]) -> dict[str, Any]:
    """Zoho's `subscriptions` body for the streams: each stream's events from the manifest's `incremental_streams`."""
    streams = packaged_webhook_streams()
    return {
        event: ({"includePrevState": True} if event in PREV_STATE_EVENTS else None)
        for name in stream_names
        for event in streams[name].event_types
    }


def _streams(text: str) -> list[str]:
    streams = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    known = packaged_webhook_streams()
    unknown = [s for s in streams if s not in known]
    if unknown or not streams:
        raise UserError(f"--streams {text!r}: Zoho sends webhook events for {', '.join(known)} only")
    return streams


def _checked_url(url: str) -> tuple[str, str]:
    """The URL and its endpoint token, or a UserError that does not repeat the token."""
    parts = urlsplit(url.strip())
    match = _TOKEN_PATH.search(parts.path)
    if not match or not parts.hostname:
        raise UserError(
            "--url must be the public URL of an endpoint, https://<host>/webhooks/<token> with the path "
            "printed by `zoho-desk-webhooks endpoint add`"
        )
    token = match.group(1)
    shown = _redacted(url, token)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        raise UserError(
            f"--url {shown}: Zoho Desk delivers only over https (ports 443/80); put a TLS proxy in front "
            "of `zoho-desk-webhooks serve` or give it --tls-cert/--tls-key"
        )
    if len(url.strip()) > ZOHO_URL_MAX_LENGTH:
        raise UserError(
            f"--url is {len(url.strip())} characters; Zoho Desk accepts at most {ZOHO_URL_MAX_LENGTH}. "
            f"The /webhooks/<token> path takes {len(match.group(0))}: use a shorter host name"
        )
    return url.strip(), token


def _check_endpoint(buffer_url: str, endpoint_id: str, token: str, org_id: str) -> None:
    with open_buffer(buffer_url) as buffer:
        endpoint = buffer.find_endpoint(token)
    where = redact_url(buffer_url)
    if endpoint is None:
        raise UserError(
            f"the --url path is not an endpoint of the buffer {where}; use the path printed by "
            "`zoho-desk-webhooks endpoint add` with the same --buffer-url"
        )
    if endpoint.endpoint_id != endpoint_id:
        raise UserError(f"the --url path belongs to endpoint {endpoint.endpoint_id}, not {endpoint_id}")
    if endpoint.org_id != org_id:
        raise UserError(f"endpoint {endpoint_id} receives org {endpoint.org_id}, but the config is for org {org_id}")


@contextlib.contextmanager
def _desk(config_path: str, token: str | None) -> Iterator[tuple[MutableMapping[str, Any], Any]]:
    """The config and a DeskClient; Zoho and network failures become one-line UserErrors."""
    import requests
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    from source_zoho_desk.config_checks import config_problems
    from source_zoho_desk.connector_config import ConnectorConfig
    from source_zoho_desk.desk_client import DeskClient
    from source_zoho_desk.organization import ensure_org_id

    config = _load_config(config_path)
    problems = config_problems(config)
    if problems:
        raise UserError(f"{config_path}: {' '.join(problems)}")
    # Refreshed tokens (and an exchanged grant code) go back to the file. No CONNECTOR_CONFIG message: stdout is
    # for the user here, and that message would print the whole config with its secrets.
    config = ConnectorConfig(config, config_path=config_path, announce_changes=False)
    try:
        ensure_org_id(config)
        yield config, DeskClient(config, http_logger=_QUIET_HTTP_LOGGER)
    except AirbyteTracedException as exc:  # token problems, already phrased for a person
        raise UserError(_scrub(exc.message or "Zoho refused the credentials", token)) from None
    except requests.RequestException as exc:
        raise UserError(
            f"cannot reach Zoho ({type(exc).__name__}); check the network and the config's data_center"
        ) from None


def _load_config(path: str) -> MutableMapping[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except OSError as exc:
        raise UserError(f"cannot read --config {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UserError(
            f"--config {path} is not JSON ({exc.__class__.__name__} at line {getattr(exc, 'lineno', '?')})"
        ) from None
    if not isinstance(config, dict):
        raise UserError(f"--config {path} must hold a JSON object (the connector's config)")
    return config


def _api_problem(response: Any, action: str, *, url: str | None = None) -> str:
    """Zoho's refusal of a webhook command, by the row of the error table (zoho_errors.py) it matches. Webhooks need
    their own scopes, an edition and an administrator, so the rows that say what to grant or buy get sentences of
    their own here; every other row reads as Zoho's answer."""
    from source_zoho_desk.zoho_errors import judge  # lazily, like DeskClient: `serve` needs neither

    verdict = judge(response)
    status = response.status_code
    name = verdict.error.name if verdict else ""
    code = verdict.code if verdict else ""
    token = None
    if url:
        match = _TOKEN_PATH.search(urlsplit(url).path)
        token = match.group(1) if match else None
    detail = _scrub(verdict.detail if verdict else "", token)
    scope, shown = _SCOPES[action], code or status
    sentences = {
        "scope_missing": f"the config's OAuth token may not {action} webhooks (SCOPE_MISMATCH): generate a new grant "
        f"code or refresh token that also has {scope} (or Desk.settings.{scope.rsplit('.', 1)[1]}) and "
        "put it in the config",
        "forbidden": f"Zoho Desk does not let this user {action} webhooks ({shown}): webhooks need the Professional "
        "or Enterprise edition and an administrator",
        "org_mismatch": f"the config's org_id does not belong to the Zoho account that authorized its token "
        f"({shown}): copy the id from Zoho Desk > Setup > Developer Space > API",
        "token_rejected": f"Zoho Desk refused the access token ({shown}) even after a refresh; check the config's "
        "credentials and data_center",
        "credits_spent": "Zoho Desk's daily API credits are used up; try again after they reset (within 24 hours; "
        "Zoho Desk > Setup > Developer Space > API shows the usage)",
    }
    sentences["edition_lacks_module"] = sentences["forbidden"]
    fields = [e for e in _json(response).get("errors") or [] if isinstance(e, Mapping)]
    if name == "unprocessable" and url and any(e.get("fieldName") == "url" for e in fields):
        return (
            f"Zoho Desk could not validate {_redacted(url, token)}: {detail}. Start `zoho-desk-webhooks serve` "
            "and make sure that URL answers GET with 200 from the internet (https, through your proxy)"
        )
    fallback = f"Zoho Desk answered HTTP {status} {code} to {action}: {detail or 'no details'}".replace("  ", " ")
    return sentences.get(name) or fallback


def _json(response: Any) -> dict:
    from source_zoho_desk.zoho_errors import json_body  # lazily, like DeskClient: `serve` needs neither

    return json_body(response)


def _redacted(url: str, token: str | None) -> str:
    return _scrub(url, token)


def _scrub(text: str, token: str | None) -> str:
    if token:
        text = text.replace(token, token[:4] + "…")
    return text


if __name__ == "__main__":
    sys.exit(main())

"""`zoho-desk-webhooks`: run the receiver and manage its endpoints and retention.

Other packages add subcommands through `main(extensions=...)` (the connector adds register/list/delete) (each command sets
`handler`, a function of the parsed args returning an exit code). User mistakes end in one line on
stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import socket
import ssl
import sys
from contextlib import contextmanager
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable, Iterator, Sequence, TypedDict
from urllib.parse import urlsplit

from .buffer import EventBuffer, EventBufferError, open_buffer
from .coverage import COVERAGE_GRACE, MAX_HEARTBEAT_SECONDS
from .data_centers import DATA_CENTERS, webhook_jwks_url
from .errors import UserError

BUFFER_URL_ENV = "ZOHO_DESK_WEBHOOK_BUFFER_URL"  # keeps a database password out of `ps`
GRACEFUL_SHUTDOWN_SECONDS = 5  # Zoho gives up on a delivery after about that long anyway
DEFAULT_METRICS_PORT = 9108
OPS_MAX_CONNECTIONS = 16  # scrapers and health checks, not the public


# A function that adds subcommands: it gets the subparsers and the function that adds the usual --buffer-url.
CommandsExtension = Callable[[argparse._SubParsersAction, Callable[[argparse.ArgumentParser], None]], None]


def main(argv: Sequence[str] | None = None, extensions: Sequence[CommandsExtension] = ()) -> int:
    parser, commands = build_parser()
    for extend in extensions:
        extend(commands, _buffer_url_option)
    args = parser.parse_args(argv)  # usage errors exit 2 here
    try:
        return args.handler(args)
    except (UserError, EventBufferError) as exc:
        print(f"zoho-desk-webhooks: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    parser = argparse.ArgumentParser(
        prog="zoho-desk-webhooks", description="Receive Zoho Desk webhooks into a durable event buffer."
    )
    parser.add_argument("--version", action="version", version=f"zoho-desk-webhooks {_version()}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command", required=True)

    serve = commands.add_parser("serve", help="run the webhook receiver")
    _buffer_url_option(serve)
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this host only, e.g. behind a TLS reverse "
        "proxy); 0.0.0.0 listens on every interface, for --tls-cert/--tls-key or a container",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=8443,
        help="port of the webhook endpoints, the only thing served there (default: 8443; 0 picks a free port, "
        "printed on start)",
    )
    serve.add_argument("--tls-cert", help="PEM certificate chain; with --tls-key the webhook port serves HTTPS")
    serve.add_argument("--tls-key", help="PEM private key of --tls-cert")
    serve.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        help="address of the operator's port, which serves GET /metrics (Prometheus) and GET /healthz over plain "
        "HTTP (default 127.0.0.1: this host only; they describe the buffer, so keep them off the public network)",
    )
    serve.add_argument(
        "--metrics-port",
        type=int,
        default=DEFAULT_METRICS_PORT,
        help=f"port of /metrics and /healthz (default: {DEFAULT_METRICS_PORT}; 0 picks a free port, printed on "
        "start); it must differ from --port",
    )
    serve.add_argument(
        "--heartbeat-seconds",
        type=float,
        default=5.0,
        help=f"how often the receiver records that it is up (default: 5, at most {MAX_HEARTBEAT_SECONDS:g})",
    )
    serve.add_argument(
        "--max-body-bytes", type=int, default=1_000_000, help="larger deliveries are refused (413) (default: 1000000)"
    )
    limits = serve.add_argument_group("connection limits", "so that slow or idle clients cannot use up the sockets")
    limits.add_argument(
        "--max-connections",
        type=int,
        default=200,
        help="open client connections at most; more are closed as soon as accepted (default: 200)",
    )
    limits.add_argument(
        "--header-timeout-seconds",
        type=float,
        default=10.0,
        help="a connection is closed unless its request headers are in within this long of it "
        "opening or of its previous response (default: 10)",
    )
    limits.add_argument(
        "--body-timeout-seconds",
        type=float,
        default=10.0,
        help="a delivery whose body is not in within this long is refused (408) (default: 10)",
    )
    limits.add_argument(
        "--keep-alive-seconds",
        type=float,
        default=5.0,
        help="an idle connection is closed this long after its last response (default: 5)",
    )
    limits.add_argument(
        "--max-header-bytes",
        type=int,
        default=16_384,
        help="a request line and headers larger than this are refused (400) (default: 16384)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="the receiver's log detail (default: info; request paths are never logged: they hold the secret token)",
    )
    serve.add_argument(
        "--require-jwt-exp",
        action="store_true",
        help="refuse JWTs without an exp claim (by default exp/iat are checked when present)",
    )
    serve.set_defaults(handler=serve_command)

    endpoint = commands.add_parser("endpoint", help="manage receiving endpoints").add_subparsers(
        title="endpoint commands", metavar="ACTION", dest="action", required=True
    )
    add = endpoint.add_parser("add", help="create an endpoint and print its secret path once")
    _buffer_url_option(add)
    add.add_argument("--org-id", required=True, help="the Zoho Desk organization id whose events this endpoint takes")
    keys = add.add_mutually_exclusive_group(required=True)
    keys.add_argument("--data-center", choices=list(DATA_CENTERS), help="Zoho data center of the org")
    keys.add_argument("--jwks-url", help="JWKS URL, instead of --data-center")
    add.add_argument("--webhook-id", help="Zoho webhook id, if already known (tightens the JWT audience check)")
    add.set_defaults(handler=endpoint_add_command)

    listing = endpoint.add_parser("list", help="list endpoints (their tokens cannot be shown)")
    _buffer_url_option(listing)
    listing.set_defaults(handler=endpoint_list_command)

    delete = endpoint.add_parser("delete", help="delete an endpoint; its path stops working")
    _buffer_url_option(delete)
    delete.add_argument("endpoint_id", help="as `endpoint list` shows it")
    delete.set_defaults(handler=endpoint_delete_command)

    set_webhook = endpoint.add_parser("set-webhook-id", help="record the Zoho webhook id of an endpoint")
    _buffer_url_option(set_webhook)
    set_webhook.add_argument("endpoint_id", help="as `endpoint list` shows it")
    set_webhook.add_argument("webhook_id", help="the Zoho webhook id (`zoho-desk-webhooks list`)")
    set_webhook.set_defaults(handler=endpoint_set_webhook_command)

    prune = commands.add_parser("prune", help="delete events older than a number of days")
    _buffer_url_option(prune)
    prune.add_argument(
        "--older-than-days",
        type=float,
        required=True,
        help="delete events received more than this many days ago (keep longer than the time between syncs)",
    )
    prune.set_defaults(handler=prune_command)

    return parser, commands


def _buffer_url_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--buffer-url",
        default=os.environ.get(BUFFER_URL_ENV),
        help=f"sqlite:////absolute/path.db (four slashes: a relative path is refused) or "
        f"postgresql://user@host:port/db (default: ${BUFFER_URL_ENV})",
    )


def opened_buffer(args: argparse.Namespace) -> EventBuffer:
    if not args.buffer_url:
        raise UserError(f"--buffer-url is required (or set {BUFFER_URL_ENV})")
    return open_buffer(args.buffer_url)


# ---- commands -------------------------------------------------------------------------------------


def serve_command(args: argparse.Namespace) -> int:
    import uvicorn

    from .http_limits import ConnectionLimits
    from .jwt_verifier import VerifierFactory
    from .receiver import create_app

    ssl_options = _tls_options(args.tls_cert, args.tls_key)
    for option in (
        "max_body_bytes",
        "heartbeat_seconds",
        "max_connections",
        "header_timeout_seconds",
        "body_timeout_seconds",
        "keep_alive_seconds",
        "max_header_bytes",
    ):
        if getattr(args, option) <= 0:
            raise UserError(f"--{option.replace('_', '-')} must be positive")
    if args.heartbeat_seconds > MAX_HEARTBEAT_SECONDS:
        raise UserError(
            f"--heartbeat-seconds must be at most {MAX_HEARTBEAT_SECONDS:g}: a sync treats a receiver silent "
            f"for {COVERAGE_GRACE.total_seconds():g} s as down, so a slower heartbeat would make every sync "
            "re-read its streams"
        )
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.metrics_port == args.port and args.port != 0:
        raise UserError("--metrics-port must differ from --port: /metrics and /healthz are not served to the public")
    buffer = opened_buffer(args)
    sockets: list[socket.socket] = []
    try:
        buffer.check_writable()  # a receiver that cannot store deliveries must not answer Zoho's validation
        sockets.append(_listen(args.host, args.port, "--port"))
        sockets.append(_listen(args.metrics_host, args.metrics_port, "--metrics-port"))
    except BaseException:
        for opened in sockets:
            opened.close()
        buffer.close()
        raise
    sock, ops_sock = sockets
    scheme = "https" if ssl_options else "http"
    host, port = sock.getsockname()[:2]
    ops_host, ops_port = ops_sock.getsockname()[:2]
    print(f"listening on {scheme}://{_url_host(host)}:{port}", file=sys.stderr, flush=True)
    print(f"metrics and health on http://{_url_host(ops_host)}:{ops_port}", file=sys.stderr, flush=True)
    if not ssl_options:
        print(
            "warning: serving plain HTTP. Zoho Desk delivers only to ports 80/443 over HTTPS, so put a "
            "TLS-terminating reverse proxy in front (or pass --tls-cert/--tls-key and listen on 443).",
            file=sys.stderr,
            flush=True,
        )
    app = create_app(
        buffer,
        max_body_bytes=args.max_body_bytes,
        body_timeout_seconds=args.body_timeout_seconds,
        heartbeat_seconds=args.heartbeat_seconds,
        verifier_factory=VerifierFactory(require_exp=args.require_jwt_exp),
    )

    def config(app: Any, max_connections: int, **options: Any) -> uvicorn.Config:
        limits = ConnectionLimits(
            header_timeout=args.header_timeout_seconds,
            max_connections=max_connections,
            max_header_bytes=args.max_header_bytes,
        )
        # access_log off: the access log would print request paths, and the path is the secret.
        # Bounded graceful shutdown: a client holding a keep-alive connection must not keep us from exiting.
        return uvicorn.Config(
            app,
            http=limits.protocol(),  # type: ignore[arg-type]  # called like the class it wants
            ws="none",  # no WebSocket: an Upgrade request must not leave the protocol that holds the limits
            log_level=args.log_level,
            access_log=False,
            log_config=None,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            timeout_keep_alive=args.keep_alive_seconds,
            **options,
        )

    class OpsServer(uvicorn.Server):
        """Leaves the signals to the public server, which stops this one when it stops."""

        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    # The receiver's lifespan (heartbeat, commits) belongs to the public server; the ops server only answers.
    ops = OpsServer(config(app.state.ops, OPS_MAX_CONNECTIONS, lifespan="off"))

    class PublicServer(uvicorn.Server):
        """Starts the ops server once its own startup is done (so /healthz answers only once the receiver is up: its
        first heartbeat written, its commits running), and stops it after its own shutdown."""

        ops_serving: asyncio.Future[None] | None = None

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if not self.should_exit:  # set when the startup failed
                self.ops_serving = asyncio.ensure_future(ops.serve(sockets=[ops_sock]))

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            try:
                await super().shutdown(sockets=sockets)
            finally:
                if self.ops_serving is not None:
                    ops.should_exit = True
                    await self.ops_serving

    try:
        PublicServer(config(app, args.max_connections, **ssl_options)).run(sockets=[sock])
    finally:
        buffer.close()
    return 0


def endpoint_add_command(args: argparse.Namespace) -> int:
    jwks_url = webhook_jwks_url(args.data_center) if args.data_center else _checked_jwks_url(args.jwks_url)
    with opened_buffer(args) as buffer:
        endpoint_id, token = buffer.create_endpoint(args.org_id, jwks_url, args.webhook_id)
    print(f"created endpoint {endpoint_id} for org {args.org_id}; its path is shown only now:", file=sys.stderr)
    print(f"/webhooks/{token}")
    return 0


def endpoint_list_command(args: argparse.Namespace) -> int:
    with opened_buffer(args) as buffer:
        endpoints = buffer.list_endpoints()
    print("endpoint_id\torg_id\twebhook_id\tjwks_url\tcreated_at")
    for e in endpoints:
        print(f"{e.endpoint_id}\t{e.org_id}\t{e.webhook_id or '-'}\t{e.jwks_url}\t{e.created_at.isoformat()}")
    return 0


def endpoint_delete_command(args: argparse.Namespace) -> int:
    with opened_buffer(args) as buffer:
        if not buffer.delete_endpoint(args.endpoint_id):
            raise UserError(f"no endpoint {args.endpoint_id!r} (see `endpoint list`)")
    print(f"deleted endpoint {args.endpoint_id}", file=sys.stderr)
    return 0


def endpoint_set_webhook_command(args: argparse.Namespace) -> int:
    with opened_buffer(args) as buffer:
        if not buffer.set_webhook_id(args.endpoint_id, args.webhook_id):
            raise UserError(f"no endpoint {args.endpoint_id!r} (see `endpoint list`)")
    return 0


def prune_command(args: argparse.Namespace) -> int:
    if args.older_than_days < 0:
        raise UserError("--older-than-days must not be negative")
    with opened_buffer(args) as buffer:
        deleted = buffer.prune_older_than(timedelta(days=args.older_than_days))
    print(f"deleted {deleted} events older than {args.older_than_days:g} days", file=sys.stderr)
    return 0


# ---- checks -------------------------------------------------------------------------------------


class TlsOptions(TypedDict, total=False):
    """uvicorn.Config's TLS keyword arguments: both or neither."""

    ssl_certfile: str
    ssl_keyfile: str


def _tls_options(cert: str | None, key: str | None) -> TlsOptions:
    if not cert and not key:
        return {}
    if not (cert and key):
        raise UserError("--tls-cert and --tls-key go together")
    for flag, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise UserError(f"{flag} {path}: no such readable file")
    try:  # uvicorn would fail later with a traceback; check the pair now
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise UserError(f"cannot use --tls-cert {cert} with --tls-key {key}: {exc}") from None
    return {"ssl_certfile": cert, "ssl_keyfile": key}


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _listen(host: str, port: int, flag: str) -> socket.socket:
    if not 0 <= port <= 65535:
        raise UserError(f"{flag} {port} is not a port number")
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP;
    # with proto 0 every response waits out Nagle + delayed ACK (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port} ({flag}): {exc.strerror or exc}") from None
    return sock


def _checked_jwks_url(url: str) -> str:
    parts = urlsplit(url)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise UserError(f"--jwks-url must be an https:// URL, got {url!r}")
    if not parts.hostname:
        raise UserError(f"--jwks-url has no host: {url!r}")
    return url


def _version() -> str:
    try:
        return version("source-zoho-desk")  # the distribution that ships this package
    except PackageNotFoundError:
        return "unknown (not installed)"


if __name__ == "__main__":
    sys.exit(main())

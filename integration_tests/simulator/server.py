"""HTTP plumbing (``ThreadingHTTPServer``) and the ``ZohoDeskSimulator`` facade tests use."""

from __future__ import annotations

import json
import random
import re
import socket
import string
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qsl, urlsplit

from .api import DeskApi
from .data import seed_store
from .errors import Response, json_response
from .faults import Injector, InjectRule
from .gateway import DeskGateway
from .limits import ConcurrencyGate, CreditMeter
from .mutations import Mutator
from .oauth import OAuthServer
from .settings import Clock, RequestRecord, Settings, WebhookFaults
from .webhooks import Signer, WebhookHub

TOKEN_PATH = "/oauth/v2/token"
JWKS_PATH = "/.well-known/jwks.json"
HEALTH_PATH = "/__simulator/health"
PLAYGROUND_PREFIX = "/__simulator"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ZohoDeskSimulator/1.0"
    sim: "ZohoDeskSimulator" = None  # set on the per-simulator subclass

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr logging
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        started = time.time()
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {k: v for k, v in self.headers.items()}
        for hook in list(self.sim.request_hooks):
            hook(method, parts.path, query)
        try:
            resp, credits = self.sim._serve(method, parts.path, query, headers, body)
        except Exception as exc:  # a simulator bug must still produce an answer
            resp, credits = (
                json_response(
                    500,
                    {"errorCode": "INTERNAL_SERVER_ERROR", "message": f"simulator error: {type(exc).__name__}: {exc}"},
                ),
                0,
            )
        # Logged before answering: a client that has its answer must find its request in `sim.requests`.
        self.sim.requests.append(
            RequestRecord(
                method, parts.path, query, headers, 0 if resp.drop else resp.status, credits, started, time.time()
            )
        )
        if resp.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        else:
            self.send_response(resp.status)
            for k, v in resp.headers.items():
                self.send_header(k, v)
            if resp.status != 204 and resp.status >= 200:
                self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if resp.body and resp.status != 204 and method != "HEAD":
                self.wfile.write(resp.body)


class ZohoDeskSimulator:
    """A Zoho Desk org served on 127.0.0.1 (see the package docstring for what is simulated)."""

    def __init__(
        self,
        seed: int = 7,
        tickets: int = 237,
        departments: int = 6,
        products: int = 41,
        contracts: int = 57,
        contacts: int = 120,
        accounts: int = 40,
        agents: int = 12,
        host: str = "127.0.0.1",
        port: int = 0,
        settings: Optional[Settings] = None,
        signing_key=None,
        public_host: Optional[str] = None,
        calls: int = 80,
        events: int = 40,
        articles: int = 30,
    ) -> None:
        self.seed = seed
        self.host = host
        self.public_host = public_host or ("127.0.0.1" if host in ("", "0.0.0.0") else host)
        self.port = port
        self.settings = settings or Settings()
        self.webhook_faults = WebhookFaults()
        self.clock = Clock()
        self.lock = threading.RLock()
        self.store, self._ids, self._factory, self.org_id = seed_store(
            seed,
            tickets=tickets,
            departments=departments,
            products=products,
            contracts=contracts,
            contacts=contacts,
            accounts=accounts,
            agents=agents,
            calls=calls,
            events=events,
            articles=articles,
        )
        runtime_rng = random.Random(seed * 1_000_003 + 1)
        self._factory.rng = runtime_rng
        self._ids._rng = runtime_rng
        cred_rng = random.Random(seed * 31 + 5)
        self.client_id = "1000." + "".join(cred_rng.choice(string.ascii_uppercase + string.digits) for _ in range(30))
        self.client_secret = "".join(cred_rng.choice("0123456789abcdef") for _ in range(42))
        self.requests: list = []
        self.request_hooks: list = []  # see before_request
        self.oauth = OAuthServer(self.settings, self.clock, self.client_id, self.client_secret)
        self.credits = CreditMeter(self.settings, self.clock)
        self.gate = ConcurrencyGate(self.settings)
        self.injector = Injector()
        self.signer = Signer(signing_key)
        self.hub = WebhookHub(
            self.store, self.lock, self.settings, self.webhook_faults, self.clock, self.org_id, self.signer, seed
        )
        self.api = DeskApi(self.store, self.lock, self.settings, self.clock, self.hub, self._ids.new)
        self.gateway = DeskGateway(
            self.api, self.oauth, self.credits, self.gate, self.injector, self.settings, self.org_id
        )
        self.mutator = Mutator(self.store, self.lock, self._factory, self.clock, self.hub, self.settings)
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # --- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> "ZohoDeskSimulator":
        if self._server is not None:
            return self
        handler = type("BoundHandler", (_Handler,), {"sim": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"zoho-sim-{self.port}", daemon=True
        )
        self._thread.start()
        self.hub.start()
        return self

    def stop(self) -> None:
        self.hub.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "ZohoDeskSimulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- addresses -------------------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator not started; call start() first")
        return f"http://{self.public_host}:{self.port}"

    @property
    def accounts_base_url(self) -> str:
        return self.base_url

    @property
    def desk_base_url(self) -> str:
        return self.base_url + "/api/v1"

    @property
    def jwks_url(self) -> str:
        return self.base_url + JWKS_PATH

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    # --- credentials -----------------------------------------------------------------------------------------------
    def grant_code(self, scopes=None) -> str:
        return self.oauth.grant_code(scopes)

    def refresh_token(self, scopes=None) -> str:
        return self.oauth.mint_refresh_token(scopes)

    def access_token(self, scopes=None) -> str:
        """Mint an access token directly (not counted by ``tokens_minted`` nor any refresh window)."""
        from .oauth import parse_scopes

        return self.oauth.mint_access_token(parse_scopes(scopes), None).token

    def tokens_minted(self, refresh_token: Optional[str] = None) -> int:
        """Access tokens minted by the token endpoint for ``refresh_token`` (None: for all refresh tokens)."""
        return self.oauth.tokens_minted(refresh_token)

    def revoke(self, token: str) -> None:
        self.oauth.revoke(token)

    def expire_access_tokens(self) -> None:
        self.oauth.expire_access_tokens()

    def advance_time(self, seconds: float) -> None:
        """Move the simulator clock (token/code expiry, refresh windows, credit reset, new record times)."""
        self.clock.advance(seconds)

    def config(self, **overrides) -> dict:
        cfg = {
            "data_center": "com",
            "org_id": self.org_id,
            "desk_base_url": self.desk_base_url,
            "accounts_base_url": self.accounts_base_url,
            "credentials": {
                "auth_type": "oauth2.0",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "refresh_token": self.refresh_token(),
            },
        }
        cfg.update(overrides)
        return cfg

    # --- request log and faults ------------------------------------------------------------------------------------
    def reset_requests(self) -> None:
        self.requests.clear()

    def desk_requests(self) -> list:
        return [r for r in list(self.requests) if r.path.startswith("/api/v1")]

    def before_request(self, hook) -> None:
        """Run ``hook(method, path, query)`` as each request arrives, before it is served: tests use it to change the
        data between two given requests of a read (e.g. delete a ticket just before the 2nd ``GET /tickets``)."""
        self.request_hooks.append(hook)

    def inject(
        self,
        path_prefix: str,
        status: int,
        error_code: Optional[str] = None,
        times: int = 1,
        retry_after: Optional[int] = None,
        message: Optional[str] = None,
        body: Optional[bytes] = None,
        method: Optional[str] = None,
    ) -> None:
        self.injector.add(InjectRule(path_prefix, status, error_code, times, retry_after, message, body, method))

    def clear_injections(self) -> None:
        self.injector.clear()

    @property
    def max_in_flight(self) -> int:
        """Highest number of Desk requests seen in flight at once."""
        return self.gate.peak

    # --- webhooks --------------------------------------------------------------------------------------------------
    @property
    def deliveries(self) -> list:
        return self.hub.deliveries

    def deliver_pending(self, retries: int = 0) -> list:
        return self.hub.deliver_pending(retries)

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        return self.hub.wait_idle(timeout)

    def jwks(self) -> dict:
        return self.signer.jwks()

    # --- mutations -------------------------------------------------------------------------------------------------
    def create_ticket(self, **fields) -> dict:
        return self.mutator.create_ticket(**fields)

    def update_ticket(self, ticket_id: str, **fields) -> dict:
        return self.mutator.update_ticket(ticket_id, **fields)

    def delete_ticket(self, ticket_id: str) -> None:
        self.mutator.delete_ticket(ticket_id)

    def create_department(self, **fields) -> dict:
        return self.mutator.create_department(**fields)

    def update_department(self, department_id: str, **fields) -> dict:
        return self.mutator.update_department(department_id, **fields)

    def create_contact(self, **fields) -> dict:
        return self.mutator.create_contact(**fields)

    def update_contact(self, contact_id: str, **fields) -> dict:
        return self.mutator.update_contact(contact_id, **fields)

    def delete_contact(self, contact_id: str) -> None:
        self.mutator.delete_contact(contact_id)

    def create_account(self, **fields) -> dict:
        return self.mutator.create_account(**fields)

    def update_account(self, account_id: str, **fields) -> dict:
        return self.mutator.update_account(account_id, **fields)

    def delete_account(self, account_id: str) -> None:
        self.mutator.delete_account(account_id)

    def update_record(self, module: str, record_id: str, **fields) -> dict:
        """Change a task, call, event or article (``module`` tasks/calls/events/articles); modifiedTime moves on
        and the matching ``*_Update`` webhook event is sent."""
        return self.mutator.update_record(module, record_id, **fields)

    def delete_record(self, module: str, record_id: str) -> None:
        """Move a task, call, event or article to the recycle bin (``*_Delete`` event)."""
        self.mutator.delete_record(module, record_id)

    # --- playground: what a person trying the connector does in Zoho, over HTTP -------------------------------------
    def _playground(self, method: str, path: str, body: bytes) -> Response:
        """`POST /__simulator/grant-code` mints a Self Client grant code; `POST /__simulator/tickets`,
        `PATCH|DELETE /__simulator/tickets/<id>` change tickets (each change is delivered to registered webhooks)."""
        try:
            fields = json.loads(body or b"{}")
            if not isinstance(fields, dict):
                raise ValueError("the body must be a JSON object")
            if path == "/grant-code" and method == "POST":
                return json_response(
                    200,
                    {"grant_code": self.grant_code(), "client_id": self.client_id, "client_secret": self.client_secret},
                )
            if path == "/tickets" and method == "POST":
                return json_response(201, self.create_ticket(**fields))
            ticket = re.fullmatch(r"/tickets/(\d+)", path)
            if ticket and method == "PATCH":
                return json_response(200, self.update_ticket(ticket.group(1), **fields))
            if ticket and method == "DELETE":
                self.delete_ticket(ticket.group(1))
                return Response(204, b"", {})
        except KeyError as missing:
            return json_response(404, {"error": str(missing)})
        except (ValueError, TypeError) as bad:
            return json_response(400, {"error": str(bad)})
        return json_response(404, {"error": "unknown playground route"})

    # --- dispatch --------------------------------------------------------------------------------------------------
    def _serve(self, method: str, path: str, query: dict, headers: dict, body: bytes) -> tuple:
        lower = {k.lower(): v for k, v in headers.items()}
        if path.startswith("/api/"):
            return self.gateway.handle(method, path, query, lower, body)
        injected = self.injector.take(method, path)
        if injected is not None:
            return injected, 0
        if path == TOKEN_PATH:
            if method != "POST":
                return json_response(405, {"error": "method_not_allowed"}), 0
            return self.oauth.token_endpoint(query, body, lower.get("content-type", "")), 0
        if path == JWKS_PATH and method == "GET":
            return json_response(200, self.signer.jwks(), {"Cache-Control": "max-age=3600"}), 0
        if path == HEALTH_PATH:
            return json_response(200, {"status": "ok", "org_id": self.org_id}), 0
        if path.startswith(PLAYGROUND_PREFIX):
            return self._playground(method, path[len(PLAYGROUND_PREFIX) :], body), 0
        return Response(
            404,
            json.dumps({"errorCode": "URL_NOT_FOUND", "message": "Not found"}).encode(),
            {"Content-Type": "application/json;charset=UTF-8"},
        ), 0

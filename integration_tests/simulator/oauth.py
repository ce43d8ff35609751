"""Zoho Accounts OAuth: self-client grant codes, refresh tokens, access tokens and scopes.

Facts simulated: ``POST /oauth/v2/token`` with parameters in the query string or a form body; codes are single
use and expire (``code_ttl``); errors are HTTP 200 with ``{"error": ...}``; at most ``tokens_per_refresh_window``
access tokens per refresh token per ``refresh_window`` (only refresh grants count; the code exchange's token does
not); at most ``max_refresh_tokens`` refresh tokens, minting another silently revokes the oldest [S].
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Optional, Union
from urllib.parse import parse_qsl

from .errors import Response, json_response
from .settings import Clock, Settings

SERVICES = (
    "tickets",
    "basic",
    "settings",
    "search",
    "products",
    "contracts",
    "fields",
    "contacts",
    "calls",
    "tasks",
    "events",
    "webhooks",
    "articles",
    "activities",
    "timeEntry",
    # named in the security blocks of the OAS for teams, agents, roles/profiles, skills, business hours,
    # layouts; and the three-part activity scopes (e.g. Desk.activities.tasks.READ) of Task/Call/Event.json
    "teams",
    "agents",
    "departments",
    "permissions",
    "automations",
    "layouts",
    "activities.tasks",
    "activities.calls",
    "activities.events",
)
OPERATIONS = ("READ", "CREATE", "UPDATE", "DELETE", "ALL")
ALL_SCOPES = tuple(f"Desk.{s}.{op}" for s in SERVICES for op in ("READ", "CREATE", "UPDATE", "DELETE"))
_SCOPE_RE = re.compile(r"^Desk\.([A-Za-z]+(?:\.[A-Za-z]+)?)\.([A-Z]+)$")
API_DOMAIN = "https://www.zohoapis.com"
TOO_MANY = {
    "error": "Access Denied",
    "error_description": "You have made too many requests continuously. Please try again after some time.",
}


def parse_scopes(scopes: Union[None, str, Iterable[str]]) -> frozenset:
    """Normalise a scope list; an unknown scope fails the whole authorization (raises ``ValueError``)."""
    if scopes is None:
        return frozenset(ALL_SCOPES)
    items = [s.strip() for s in (scopes.replace(" ", ",").split(",") if isinstance(scopes, str) else scopes)]
    out = set()
    for s in items:
        if not s:
            continue
        m = _SCOPE_RE.match(s)
        if s in ("aaaserver.profile.READ", "profile.userinfo.READ"):
            out.add(s)
            continue
        if not m or m.group(1) not in SERVICES or m.group(2) not in OPERATIONS:
            raise ValueError(f"unknown scope {s!r}")
        out.add(s)
    return frozenset(out)


def has_scope(granted: frozenset, required: str) -> bool:
    if required in granted:
        return True
    prefix, _, _op = required.rpartition(".")
    return f"{prefix}.ALL" in granted


def satisfies(granted: frozenset, alternatives) -> bool:
    """``alternatives`` is a list of scope groups; one fully granted group is enough. ``None`` = any token."""
    if alternatives is None:
        return True
    return any(all(has_scope(granted, s) for s in group) for group in alternatives)


class SpecSecurity:
    """Security blocks copied from the OAS: a list of blocks, each a list of scopes.

    Several blocks are alternatives. Whether the scopes *inside* one block are alternatives or all required is not
    clear [U]: Zoho's help pages read them as alternatives (products: Desk.products.READ *or* Desk.settings.READ),
    while BusinessHour.json lists ``[automations.READ, settings.READ]`` beside ``[settings.READ]``, which only makes
    sense if a block means "all of". ``settings.scope_list_semantics`` picks the reading ("any" by default).
    """

    def __init__(self, *blocks) -> None:
        self.blocks = [list(b) for b in blocks]

    def alternatives(self, semantics: str) -> list:
        if semantics == "all":
            return [list(b) for b in self.blocks]
        return [[s] for b in self.blocks for s in b]


@dataclass
class GrantCode:
    code: str
    scopes: frozenset
    expires_at: float
    used: bool = False


@dataclass
class RefreshToken:
    token: str
    scopes: frozenset
    created: float
    revoked: bool = False
    minted: int = 0  # access tokens minted from this refresh token (all grants)
    window: deque = field(default_factory=deque)  # mint times of refresh grants


@dataclass
class AccessToken:
    token: str
    scopes: frozenset
    expires_at: float
    refresh_token: Optional[str]
    revoked: bool = False


class OAuthServer:
    def __init__(self, settings: Settings, clock: Clock, client_id: str, client_secret: str) -> None:
        self.settings = settings
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self.lock = threading.RLock()
        self.codes: dict = {}
        self.refresh_tokens: dict = {}  # insertion ordered: oldest first
        self.access_tokens: dict = {}

    @staticmethod
    def _token(kind: str) -> str:
        return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"

    # --- minting helpers used by the simulator API -----------------------------------------------------------------
    def grant_code(self, scopes=None) -> str:
        sc = parse_scopes(scopes)
        with self.lock:
            code = self._token("code")
            self.codes[code] = GrantCode(code, sc, self.clock.now() + self.settings.code_ttl)
            return code

    def mint_refresh_token(self, scopes=None) -> str:
        sc = parse_scopes(scopes) if not isinstance(scopes, frozenset) else scopes
        with self.lock:
            rt = self._token("refresh")
            self.refresh_tokens[rt] = RefreshToken(rt, sc, self.clock.now())
            limit = self.settings.max_refresh_tokens
            if limit:
                live = [r for r in self.refresh_tokens.values() if not r.revoked]
                for old in live[: max(0, len(live) - limit)]:
                    old.revoked = True
            return rt

    def mint_access_token(self, scopes: frozenset, refresh_token: Optional[str]) -> AccessToken:
        with self.lock:
            at = AccessToken(
                self._token("access"), scopes, self.clock.now() + self.settings.access_token_ttl, refresh_token
            )
            self.access_tokens[at.token] = at
            if refresh_token in self.refresh_tokens:
                self.refresh_tokens[refresh_token].minted += 1
            return at

    def tokens_minted(self, refresh_token: Optional[str] = None) -> int:
        with self.lock:
            if refresh_token is None:
                return sum(rt.minted for rt in self.refresh_tokens.values())
            rt = self.refresh_tokens.get(refresh_token)
            return rt.minted if rt else 0

    def revoke(self, token: str) -> None:
        with self.lock:
            if token in self.refresh_tokens:
                self.refresh_tokens[token].revoked = True
                for at in self.access_tokens.values():
                    if at.refresh_token == token:
                        at.revoked = True
            if token in self.access_tokens:
                self.access_tokens[token].revoked = True

    def expire_access_tokens(self) -> None:
        with self.lock:
            now = self.clock.now()
            for at in self.access_tokens.values():
                at.expires_at = min(at.expires_at, now - 1)

    # --- Desk side -------------------------------------------------------------------------------------------------
    def authenticate(self, authorization: Optional[str]) -> Optional[AccessToken]:
        """The access token of a ``Zoho-oauthtoken <token>`` header, or None if missing/invalid/expired."""
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "zoho-oauthtoken" or not token.strip():
            return None
        with self.lock:
            at = self.access_tokens.get(token.strip())
            if not at or at.revoked or at.expires_at <= self.clock.now():
                return None
            return at

    # --- the token endpoint ----------------------------------------------------------------------------------------
    def token_endpoint(self, query: dict, body: bytes, content_type: str) -> Response:
        params = dict(query)
        if body and "json" not in (content_type or ""):
            params.update(dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)))
        grant_type = params.get("grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            return json_response(200, {"error": "unsupported_grant_type" if grant_type else "invalid_request"})
        if params.get("client_id") != self.client_id or params.get("client_secret") != self.client_secret:
            return json_response(200, {"error": "invalid_client"})
        now = self.clock.now()
        with self.lock:
            if grant_type == "authorization_code":
                gc = self.codes.get(params.get("code", ""))
                if not gc or gc.used or gc.expires_at <= now:
                    return json_response(200, {"error": "invalid_code"})
                gc.used = True
                rt = self.mint_refresh_token(gc.scopes)
                at = self.mint_access_token(gc.scopes, rt)
                return json_response(
                    200,
                    {
                        "access_token": at.token,
                        "refresh_token": rt,
                        "api_domain": API_DOMAIN,
                        "token_type": "Bearer",
                        "expires_in": self.settings.access_token_ttl,
                    },
                )
            rt = self.refresh_tokens.get(params.get("refresh_token", ""))
            if not rt or rt.revoked:
                return json_response(200, {"error": "invalid_code"})
            window = self.settings.refresh_window
            while rt.window and rt.window[0] <= now - window:
                rt.window.popleft()
            if len(rt.window) >= self.settings.tokens_per_refresh_window:
                return json_response(200, dict(TOO_MANY))
            rt.window.append(now)
            at = self.mint_access_token(rt.scopes, rt.token)
            return json_response(
                200,
                {
                    "access_token": at.token,
                    "api_domain": API_DOMAIN,
                    "token_type": "Bearer",
                    "expires_in": self.settings.access_token_ttl,
                },
            )

"""The checks every Desk request goes through, in this order:

1. concurrency gate (``max_concurrency`` in flight, else 429 TOO_MANY_REQUESTS), then ``latency`` sleep;
2. injected faults (``sim.inject``);
3. ``Authorization: Zoho-oauthtoken <token>`` (else 401 INVALID_OAUTH);
4. route lookup (404 URL_NOT_FOUND / 405);
5. ``orgId`` header (missing -> 400 INVALID_DATA; other org -> ``org_mismatch_status`` OAUTH_ORG_MISMATCH),
   except on ``GET /api/v1/organizations``;
6. scopes (403 SCOPE_MISMATCH; OAS security blocks read per ``settings.scope_list_semantics``);
7. credits (429 THRESHOLD_EXCEEDED + Retry-After);
8. the handler; 2xx answers are charged.

Every answer carries ``X-Rate-Limit-Request-Weight-v3`` (credits charged) and ``X-Rate-Limit-Remaining-v3``.
"""

from __future__ import annotations

import time

from .api import Ctx, DeskApi
from .errors import INVALID_OAUTH, ApiError, Response
from .faults import Injector
from .limits import ConcurrencyGate, CreditMeter
from .oauth import OAuthServer, SpecSecurity, satisfies
from .settings import Settings

WEIGHT = "X-Rate-Limit-Request-Weight-v3"
REMAINING = "X-Rate-Limit-Remaining-v3"


class DeskGateway:
    def __init__(
        self,
        api: DeskApi,
        oauth: OAuthServer,
        credits: CreditMeter,
        gate: ConcurrencyGate,
        injector: Injector,
        settings: Settings,
        org_id: str,
    ) -> None:
        self.api = api
        self.oauth = oauth
        self.credits = credits
        self.gate = gate
        self.injector = injector
        self.settings = settings
        self.org_id = org_id

    def handle(self, method: str, path: str, query: dict, headers: dict, body: bytes) -> tuple:
        """Returns ``(Response, credits_charged)``. ``headers`` must have lower-case names."""
        if not self.gate.enter():
            resp = ApiError(
                429, "TOO_MANY_REQUESTS", "Too many concurrent requests. Please reduce the number of parallel requests."
            ).to_response()
            return self._stamp(resp, 0), 0
        charged = 0
        try:
            if self.settings.latency:
                time.sleep(self.settings.latency)
            injected = self.injector.take(method, path)
            if injected is not None:
                return (injected if injected.drop else self._stamp(injected, 0)), 0
            resp, charged = self._checked(method, path, query, headers, body)
        except ApiError as exc:
            resp = exc.to_response()
        finally:
            self.gate.leave()
        return self._stamp(resp, charged), charged

    def _checked(self, method, path, query, headers, body) -> tuple:
        token = self.oauth.authenticate(headers.get("authorization"))
        if token is None:
            raise ApiError(401, *INVALID_OAUTH)
        route, groups = self.api.match(method, path)
        if route.needs_org:
            org = headers.get("orgid")
            if org is None or not org.strip():
                raise ApiError(
                    400,
                    "INVALID_DATA",
                    "orgId header is missing",
                    [{"fieldName": "orgId", "errorType": "missing", "errorMessage": "The orgId header is mandatory"}],
                )
            if org.strip() != self.org_id:
                raise ApiError(
                    self.settings.org_mismatch_status,
                    "OAUTH_ORG_MISMATCH",
                    "The OAuth token does not belong to the organization given in the orgId header.",
                )
        scopes = route.scopes
        if isinstance(scopes, SpecSecurity):
            scopes = scopes.alternatives(self.settings.scope_list_semantics)
        if not satisfies(token.scopes, scopes):
            need = " or ".join("+".join(g) for g in scopes)
            raise ApiError(403, "SCOPE_MISMATCH", f"The OAuth token does not have the scope(s) required: {need}")
        cost = route.cost(query, self.settings)
        if not self.credits.try_reserve(cost):
            raise ApiError(
                429,
                "THRESHOLD_EXCEEDED",
                "You have exceeded the maximum number of API credits allowed for the day.",
                headers={"Retry-After": str(self.credits.seconds_to_reset())},
            )
        ctx = Ctx(method, path, query, headers, body, groups, token)
        resp = route.handler(ctx)
        if 200 <= resp.status < 300:
            self.credits.charge(cost)
            return resp, cost
        return resp, 0

    def _stamp(self, resp: Response, charged: int) -> Response:
        resp.headers[WEIGHT] = str(charged)
        resp.headers[REMAINING] = str(self.credits.remaining())
        return resp

"""Verify the `X-ZDesk-JWT` header Zoho Desk sends with every webhook delivery.

RS256 only; keys come from the data center's JWKS URL, cached for a TTL and refetched (at most
every few seconds) when a token names a key we do not know, which is how key rotation shows up.
Claims: `iss` = `orgId:<org>`, `aud` = `webhookId:<id>` are required. Zoho's other claims are not
documented, so `exp`, `iat` and `nbf` are checked when present but not required (`require_exp=True`
makes `exp` mandatory). Without `exp` a copied token stays valid, and the body is not signed; the
first accepted token's claim names are logged once so an operator can see what Zoho really sends.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import jwt
import requests

from .models import Endpoint

log = logging.getLogger(__name__)

class JwtRejected(Exception):
    """The delivery's JWT is not acceptable; `reason` names why (a metric label)."""

    reason = "invalid_jwt"


class MissingJwt(JwtRejected):
    reason = "missing_jwt"


class MalformedJwt(JwtRejected):
    reason = "malformed_jwt"


class UnsupportedAlgorithm(JwtRejected):
    reason = "unsupported_algorithm"


class UnknownSigningKey(JwtRejected):
    reason = "unknown_key"


class BadSignature(JwtRejected):
    reason = "bad_signature"


class ExpiredJwt(JwtRejected):
    reason = "expired_jwt"


class PrematureJwt(JwtRejected):
    reason = "premature_jwt"


class MissingClaim(JwtRejected):
    reason = "missing_claim"


class WrongIssuer(JwtRejected):
    reason = "wrong_issuer"


class WrongAudience(JwtRejected):
    reason = "wrong_audience"


class JwksUnavailable(Exception):
    """The signing keys cannot be fetched: our problem, not the sender's (answer 503)."""

    reason = "jwks_unavailable"


class JwksKeys:
    """RSA public keys of one JWKS URL, by `kid`."""

    def __init__(self, url: str, *, ttl: float = 3600.0, refetch_interval: float = 10.0,
                 timeout: float = 3.0, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self._ttl, self._refetch_interval, self._timeout = ttl, refetch_interval, timeout
        self._session = session or requests.Session()
        self._clock = clock
        self._keys: dict[str | None, Any] = {}
        self._refresh_due = float("-inf")
        self._last_attempt = float("-inf")
        self._last_error = "JWKS not fetched yet"
        self._lock = threading.Lock()

    def key_for(self, kid: str | None) -> Any:
        # The lock makes concurrent deliveries wait for one fetch instead of each fetching.
        with self._lock:
            if self._clock() >= self._refresh_due:
                self._refresh()
            key = self._lookup(kid)
            if key is None and self._keys and self._clock() - self._last_attempt >= self._refetch_interval:
                self._refresh()  # an unknown kid may mean Zoho rotated its keys
                key = self._lookup(kid)
            if not self._keys:
                raise JwksUnavailable(self._last_error)
            if key is None:
                raise UnknownSigningKey(f"no key with kid {kid!r} at {self.url}")
            return key

    def _lookup(self, kid: str | None) -> Any:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid)

    def _refresh(self) -> None:
        self._last_attempt = self._clock()
        try:
            self._keys = self._fetch()
            self._refresh_due = self._last_attempt + self._ttl
        except JwksUnavailable as exc:
            # Retry soon, not on every delivery; keys rotate rarely, so keep serving the ones we have.
            self._last_error = str(exc)
            self._refresh_due = self._last_attempt + self._refetch_interval
            if self._keys:
                log.warning("keeping cached JWKS keys: %s", exc)

    def _fetch(self) -> dict[str | None, Any]:
        try:
            response = self._session.get(self.url, timeout=self._timeout, headers={"Accept": "application/json"})
            response.raise_for_status()
            entries = response.json()["keys"]
            keys = {jwk.get("kid"): jwt.PyJWK(jwk, algorithm="RS256").key
                    for jwk in entries if jwk.get("kty") == "RSA" and jwk.get("use", "sig") == "sig"}
        except (requests.RequestException, ValueError, KeyError, TypeError, AttributeError, jwt.PyJWKError) as exc:
            raise JwksUnavailable(f"cannot load JWKS from {self.url}: {exc}") from None
        if not keys:
            raise JwksUnavailable(f"JWKS at {self.url} has no RSA signing keys")
        return keys


class ZohoJwtVerifier:
    """Checks one delivery's JWT against the keys of one JWKS URL."""

    def __init__(self, keys: JwksKeys, *, leeway_seconds: float = 30.0, require_exp: bool = False) -> None:
        self.keys = keys
        self._leeway = leeway_seconds
        self._required = ["iss", "aud"] + (["exp"] if require_exp else [])
        self._claims_logged = False

    def verify(self, token: str | None, *, org_id: str, webhook_id: str | None) -> dict[str, Any]:
        """Return the claims, or raise a JwtRejected subclass (or JwksUnavailable)."""
        if not token:
            raise MissingJwt("no X-ZDesk-JWT header")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise MalformedJwt("JWT header cannot be decoded") from None
        if header.get("alg") != "RS256":
            raise UnsupportedAlgorithm(f"JWT algorithm {header.get('alg')!r} is not RS256")
        key = self.keys.key_for(header.get("kid"))
        try:
            claims = jwt.decode(token, key, algorithms=["RS256"], leeway=self._leeway,
                                options={"verify_aud": False, "require": self._required})
        except jwt.ExpiredSignatureError:
            raise ExpiredJwt("JWT has expired") from None
        except jwt.ImmatureSignatureError:
            raise PrematureJwt("JWT is not valid yet (iat/nbf in the future)") from None
        except jwt.MissingRequiredClaimError as exc:
            raise MissingClaim(f"JWT lacks the {exc.claim!r} claim") from None
        except jwt.InvalidSignatureError:
            raise BadSignature("JWT signature does not verify") from None
        except jwt.InvalidTokenError as exc:
            raise MalformedJwt(f"JWT is invalid: {type(exc).__name__}") from None
        if claims.get("iss") != f"orgId:{org_id}":
            raise WrongIssuer("JWT issuer is not this endpoint's org")
        if not _audience_matches(claims.get("aud"), webhook_id):
            raise WrongAudience("JWT audience is not this endpoint's webhook")
        if not self._claims_logged:
            self._claims_logged = True  # names only: values may identify the org
            log.info("Zoho webhook JWTs carry the claims %s%s", ", ".join(sorted(claims)),
                     "" if "exp" in claims else " (no exp: a copied token would not expire)")
        return claims


def _audience_matches(aud: Any, webhook_id: str | None) -> bool:
    audiences = aud if isinstance(aud, list) else [aud]
    if webhook_id:
        return f"webhookId:{webhook_id}" in audiences
    # Until the endpoint learns its webhook id, any webhook of the (already checked) org is fine.
    return any(isinstance(a, str) and a.startswith("webhookId:") and len(a) > len("webhookId:") for a in audiences)


class VerifierFactory:
    """The receiver's default `verifier_factory`: one verifier (and key cache) per JWKS URL."""

    def __init__(self, *, require_exp: bool = False, **key_options: Any) -> None:
        self._require_exp = require_exp
        self._key_options = key_options
        self._verifiers: dict[str, ZohoJwtVerifier] = {}
        self._lock = threading.Lock()

    def __call__(self, endpoint: Endpoint) -> ZohoJwtVerifier:
        with self._lock:
            verifier = self._verifiers.get(endpoint.jwks_url)
            if verifier is None:
                verifier = ZohoJwtVerifier(JwksKeys(endpoint.jwks_url, **self._key_options),
                                           require_exp=self._require_exp)
                self._verifiers[endpoint.jwks_url] = verifier
            return verifier

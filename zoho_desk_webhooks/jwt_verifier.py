"""Verify the `X-ZDesk-JWT` header Zoho Desk sends with every webhook delivery.

RS256 only; keys come from the data center's JWKS URL through PyJWT's PyJWKClient, cached for a TTL and
refetched (at most every few seconds) when a token names a key we do not know, which is how key rotation shows up.
Claims: `iss` = `orgId:<org>`, `aud` = `webhookId:<id>` are required. Zoho's other claims are not
documented, so `exp`, `iat` and `nbf` are checked when present but not required (`require_exp=True`
makes `exp` mandatory). Without `exp` a copied token stays valid, and the body is not signed; the
first accepted token's claim names are logged once so an operator can see what Zoho really sends.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from typing import Any

import jwt

from .models import Endpoint

log = logging.getLogger(__name__)
VERIFIED_TOKENS = 1024  # tokens whose signature was verified, kept to skip verifying them again
FETCH_ERRORS = (jwt.PyJWTError, ValueError)  # ValueError: a body that is not JSON, which PyJWKClient lets through


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


class KeysNotCached(Exception):
    """`verify(..., fetch=False)` would have to fetch the key set: call it again with fetch=True, off the event loop."""


class JwksUnavailable(Exception):
    """The signing keys cannot be fetched: our problem, not the sender's (answer 503)."""

    reason = "jwks_unavailable"


class JwksKeys:
    """RSA public keys of one JWKS URL, by `kid`: PyJWKClient fetches, caches and refetches for an unknown kid.

    What it cannot do is kept here: serve the keys it had while the URL fails (keys rotate rarely; it only keeps
    a set until its TTL), and retry a failed fetch every `refetch_interval` instead of on every delivery.
    """

    def __init__(self, url: str, *, ttl: float = 3600.0, refetch_interval: float = 10.0, timeout: float = 3.0) -> None:
        self.url = url
        self._refetch_interval = refetch_interval
        self._last_error = "JWKS not fetched yet"
        self._client: jwt.PyJWKClient | None = None
        try:
            self._client = jwt.PyJWKClient(
                url,
                lifespan=ttl,
                cooldown_duration=refetch_interval,
                timeout=timeout,
                headers={"Accept": "application/json"},
            )
        except jwt.PyJWKClientError as exc:  # not an http(s) URL
            self._last_error = f"cannot use the JWKS URL {url}: {exc}"
        self._keys: list[jwt.PyJWK] = []  # of the last set fetched
        # The key set as of the last check that needed no fetch, and when (time.monotonic()); replaced whole, so that
        # cached_key reads it without the lock.
        self._checked: tuple[list[jwt.PyJWK], float] | None = None
        self._retry_at: float | None = None  # set while fetching fails
        self._lock = threading.Lock()  # concurrent deliveries wait for one fetch instead of each fetching

    def cached_key(self, kid: str | None) -> Any | None:
        """The key `key_for` gave for `kid` less than `refetch_interval` ago, without locking or fetching anything
        (so it may run on the event loop); None if there is no such answer to repeat: call `key_for`."""
        checked = self._checked
        if checked is None or time.monotonic() - checked[1] >= self._refetch_interval:
            return None
        key = _lookup(checked[0], kid)
        return key.key if key is not None and key.key_type == "RSA" else None

    def key_for(self, kid: str | None) -> Any:
        with self._lock:
            fresh = self._refresh()
            if fresh:
                self._checked = (self._keys, time.monotonic())
            key = _lookup(self._keys, kid)
            if key is None and fresh and kid is not None and self._client is not None:
                try:
                    key = self._client.get_signing_key(kid)  # an unknown kid may mean Zoho rotated its keys
                except FETCH_ERRORS:
                    key = None
            if key is None or key.key_type != "RSA":
                raise UnknownSigningKey(f"no RSA key with kid {kid!r} at {self.url}")
            return key.key

    def _refresh(self) -> bool:
        """Load the key set (PyJWKClient fetches only when its cache expired); whether that worked."""
        if self._client is None or (self._retry_at is not None and time.monotonic() < self._retry_at):
            if not self._keys:
                raise JwksUnavailable(self._last_error)
            return False
        try:
            # After a failure, refresh: PyJWKClient may have cached a set that had no usable key.
            jwk_set = self._client.get_jwk_set(refresh=self._retry_at is not None)
            keys = [key for key in jwk_set.keys if key.public_key_use in ("sig", None)]
            if not any(key.key_type == "RSA" for key in keys):
                raise ValueError("it has no RSA signing keys")
        except FETCH_ERRORS as exc:
            self._last_error = f"cannot load JWKS from {self.url}: {exc}"
            self._retry_at = time.monotonic() + self._refetch_interval
            if not self._keys:
                raise JwksUnavailable(self._last_error) from None
            log.warning("keeping cached JWKS keys: %s", self._last_error)
            return False
        self._keys, self._retry_at = keys, None
        return True


class ZohoJwtVerifier:
    """Checks one delivery's JWT against the keys of one JWKS URL."""

    def __init__(self, keys: JwksKeys, *, leeway_seconds: float = 30.0, require_exp: bool = False) -> None:
        self.keys = keys
        self._leeway = leeway_seconds
        self._required = ["iss", "aud"] + (["exp"] if require_exp else [])
        self._claims_logged = False
        # token -> (its kid, the key that verified it, its claims). A token seen again (a sender may reuse one until
        # it expires) skips the signature check, not the time checks, and only while its key is still the one the
        # key set gives for its kid. Only verified tokens get in, so strangers cannot fill it.
        self._verified: dict[str, tuple[str | None, Any, dict[str, Any]]] = {}

    def verify(self, token: str | None, *, org_id: str, webhook_id: str | None, fetch: bool = True) -> dict[str, Any]:
        """Return the claims, or raise a JwtRejected subclass (or JwksUnavailable). With `fetch=False` nothing blocks
        (no lock, no HTTP): KeysNotCached if the answer needs the key set checked or fetched."""
        if not token:
            raise MissingJwt("no X-ZDesk-JWT header")
        known = self._verified.get(token)
        if known is not None and self._key(known[0], fetch) is known[1]:
            claims = known[2]
            self._check_times(claims)
        else:
            claims = self._decoded(token, fetch)
        if claims.get("iss") != f"orgId:{org_id}":
            raise WrongIssuer("JWT issuer is not this endpoint's org")
        if not _audience_matches(claims.get("aud"), webhook_id):
            raise WrongAudience("JWT audience is not this endpoint's webhook")
        if not self._claims_logged:
            self._claims_logged = True  # names only: values may identify the org
            log.info(
                "Zoho webhook JWTs carry the claims %s%s",
                ", ".join(sorted(claims)),
                "" if "exp" in claims else " (no exp: a copied token would not expire)",
            )
        return claims

    def _key(self, kid: str | None, fetch: bool) -> Any:
        if fetch:
            return self.keys.key_for(kid)
        key = self.keys.cached_key(kid)
        if key is None:
            raise KeysNotCached(self.keys.url)
        return key

    def _check_times(self, claims: dict[str, Any]) -> None:
        """PyJWT's checks of exp, iat and nbf (already numbers: PyJWT checked that), for a token verified before."""
        now = time.time()
        if "exp" in claims and claims["exp"] <= now - self._leeway:
            raise ExpiredJwt("JWT has expired")
        latest = now + self._leeway
        if claims.get("iat", latest) > latest or claims.get("nbf", latest) > latest:
            raise PrematureJwt("JWT is not valid yet (iat/nbf in the future)")

    def _decoded(self, token: str, fetch: bool) -> dict[str, Any]:
        header = _unverified_header(token)
        if header.get("alg") != "RS256":
            raise UnsupportedAlgorithm(f"JWT algorithm {header.get('alg')!r} is not RS256")
        kid = header.get("kid")
        key = self._key(kid, fetch)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                leeway=self._leeway,
                options={"verify_aud": False, "require": self._required},
            )
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
        if len(self._verified) >= VERIFIED_TOKENS:
            self._verified.clear()  # crude but bounded; threads may race here harmlessly (each entry is whole)
        self._verified[token] = (kid, key, claims)
        return claims


def _lookup(keys: list[jwt.PyJWK], kid: str | None) -> jwt.PyJWK | None:
    if kid is None:  # PyJWKClient looks keys up by kid only; a token without one is fine if the set has one key
        return keys[0] if len(keys) == 1 else None
    return jwt.PyJWKClient.match_kid(keys, kid)


def _unverified_header(token: str) -> dict[str, Any]:
    """The token's header, only to pick the algorithm and the key: `jwt.decode` then checks the whole token, header
    included. (PyJWT's get_unverified_header checks every segment, the signature's too: as much work as the decode.)"""
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error, RecursionError):  # bad base64, bad UTF-8 or JSON
        raise MalformedJwt("JWT header cannot be decoded") from None
    if not isinstance(header, dict):
        raise MalformedJwt("JWT header cannot be decoded")
    return header


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
                verifier = ZohoJwtVerifier(
                    JwksKeys(endpoint.jwks_url, **self._key_options), require_exp=self._require_exp
                )
                self._verifiers[endpoint.jwks_url] = verifier
            return verifier

"""X-ZDesk-JWT verification against a JWKS served over HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

import jwt
import pytest

from zoho_desk_webhooks import jwt_verifier as jv
from zoho_desk_webhooks.models import Endpoint

from .conftest import ORG, WEBHOOK, Signer, public_jwk


class ShiftedMonotonic:
    """time.monotonic moved forward by the test: PyJWKClient's cache and the verifier's retry window read it."""

    def __init__(self) -> None:
        self._real, self._offset = time.monotonic, 0.0

    def __call__(self) -> float:
        return self._real() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds


@pytest.fixture
def clock(monkeypatch):
    shifted = ShiftedMonotonic()
    monkeypatch.setattr(time, "monotonic", shifted)
    return shifted


@pytest.fixture
def verifier(jwks, clock):
    # A refetch interval far longer than the test takes, even on a loaded machine; the test skips it with `advance`.
    return jv.ZohoJwtVerifier(jv.JwksKeys(jwks.url, ttl=600, refetch_interval=60))


def test_valid_token_gives_claims(verifier, signer):
    claims = verifier.verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)
    assert claims["iss"] == f"orgId:{ORG}"


def test_any_webhook_audience_until_the_webhook_id_is_known(verifier, signer):
    verifier.verify(signer.token(webhook="999"), org_id=ORG, webhook_id=None)
    with pytest.raises(jv.WrongAudience):
        verifier.verify(signer.token(webhook="999"), org_id=ORG, webhook_id=WEBHOOK)
    with pytest.raises(jv.WrongAudience):
        verifier.verify(signer.token(aud="somethingElse:1"), org_id=ORG, webhook_id=None)
    verifier.verify(signer.token(aud=["x", f"webhookId:{WEBHOOK}"]), org_id=ORG, webhook_id=WEBHOOK)


@pytest.mark.parametrize(
    "make_token, error",
    [
        (lambda s: None, jv.MissingJwt),
        (lambda s: "", jv.MissingJwt),
        (lambda s: "not.a.jwt", jv.MalformedJwt),
        (lambda s: s.token(org="other"), jv.WrongIssuer),
        (lambda s: s.token(iss=None), jv.MissingClaim),
        (lambda s: s.token(aud=None), jv.MissingClaim),
        (lambda s: s.token(expires_in=-120), jv.ExpiredJwt),
        (lambda s: s.token(issued_offset=600), jv.PrematureJwt),
        (lambda s: s.token(kid="unknown-kid"), jv.UnknownSigningKey),
        (lambda s: s.token()[:-6] + "AAAAAA", jv.BadSignature),
        (
            lambda s: jwt.encode(
                {"iss": f"orgId:{ORG}", "aud": f"webhookId:{WEBHOOK}"},
                "a-shared-secret-that-is-long-enough-for-hs256",
                algorithm="HS256",
                headers={"kid": s.kid},
            ),
            jv.UnsupportedAlgorithm,
        ),
        (
            lambda s: jwt.encode({"iss": f"orgId:{ORG}", "aud": f"webhookId:{WEBHOOK}"}, None, algorithm="none"),
            jv.UnsupportedAlgorithm,
        ),
    ],
)
def test_rejections_are_typed(verifier, signer, make_token, error):
    with pytest.raises(error) as caught:
        verifier.verify(make_token(signer), org_id=ORG, webhook_id=WEBHOOK)
    assert isinstance(caught.value, jv.JwtRejected)
    assert caught.value.reason


def test_small_clock_skew_is_tolerated(verifier, signer):
    verifier.verify(signer.token(expires_in=-10, issued_offset=10), org_id=ORG, webhook_id=WEBHOOK)


def test_token_signed_by_another_key_with_a_known_kid(verifier, other_rsa_key, signer):
    forged = Signer(other_rsa_key, signer.kid).token()
    with pytest.raises(jv.BadSignature):
        verifier.verify(forged, org_id=ORG, webhook_id=WEBHOOK)


def test_keys_are_cached_for_the_ttl(verifier, signer, jwks, clock):
    for _ in range(3):
        verifier.verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)
    assert jwks.fetches == 1
    clock.advance(601)
    verifier.verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)
    assert jwks.fetches == 2


def test_unknown_kid_refetches_once_so_rotation_works(verifier, signer, jwks, clock, other_rsa_key):
    verifier.verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)
    rotated = Signer(other_rsa_key, "zoho-key-2")
    jwks.keys.append(public_jwk(other_rsa_key, rotated.kid))
    clock.advance(61)
    verifier.verify(rotated.token(), org_id=ORG, webhook_id=WEBHOOK)
    assert jwks.fetches == 2
    # unknown kids do not trigger a fetch per delivery
    for _ in range(3):
        with pytest.raises(jv.UnknownSigningKey):
            verifier.verify(signer.token(kid="bogus"), org_id=ORG, webhook_id=WEBHOOK)
    assert jwks.fetches == 2


def test_jwks_outage(verifier, signer, jwks, clock):
    jwks.fail = True
    with pytest.raises(jv.JwksUnavailable):
        verifier.verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)
    jwks.fail = False
    with pytest.raises(jv.JwksUnavailable):  # a failed fetch is retried after the refetch interval, not per delivery
        verifier.verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)
    assert jwks.fetches == 1
    clock.advance(61)
    verifier.verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)
    assert jwks.fetches == 2
    # once keys are known, an outage at TTL expiry keeps the cached keys, and is not hit by every delivery
    jwks.fail = True
    clock.advance(601)
    for _ in range(3):
        verifier.verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)
    assert jwks.fetches == 3
    jwks.fail = False
    clock.advance(61)
    verifier.verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)
    assert jwks.fetches == 4


def test_a_body_that_is_not_a_key_set_is_an_outage(verifier, signer, jwks):
    jwks.keys = "not a list of keys"
    with pytest.raises(jv.JwksUnavailable):
        verifier.verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)


def test_a_key_set_without_rsa_keys_is_an_outage_and_other_keys_are_never_used(verifier, signer, jwks, clock):
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    ec_jwk = {
        **ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key(), as_dict=True),
        "kid": "ec-1",
        "use": "sig",
    }
    rsa_keys, jwks.keys = jwks.keys, [ec_jwk]
    with pytest.raises(jv.JwksUnavailable):
        verifier.verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)
    jwks.keys = rsa_keys + [ec_jwk]
    clock.advance(61)
    verifier.verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)
    with pytest.raises(jv.UnknownSigningKey):
        verifier.verify(signer.token(kid="ec-1"), org_id=ORG, webhook_id=WEBHOOK)


def test_a_token_without_kid_is_checked_with_the_only_key(verifier, signer, jwks, clock, other_rsa_key):
    verifier.verify(signer.token(kid=None), org_id=ORG, webhook_id=WEBHOOK)
    jwks.keys.append(public_jwk(other_rsa_key, "zoho-key-2"))
    clock.advance(601)
    with pytest.raises(jv.UnknownSigningKey):  # two keys: which one is meant is unknown
        verifier.verify(signer.token(kid=None), org_id=ORG, webhook_id=WEBHOOK)


def test_a_jwks_url_that_is_not_http_is_an_outage(signer):
    keys = jv.JwksKeys("file:///etc/passwd")
    with pytest.raises(jv.JwksUnavailable) as caught:
        jv.ZohoJwtVerifier(keys).verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)
    assert "file:///etc/passwd" in str(caught.value)


def test_unreachable_jwks_url(signer):
    keys = jv.JwksKeys("http://127.0.0.1:9/.well-known/jwks.json", timeout=1)
    with pytest.raises(jv.JwksUnavailable):
        jv.ZohoJwtVerifier(keys).verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)


def test_exp_and_iat_are_checked_when_present_but_not_required(verifier, signer):
    """Zoho's claims are only partly known (iss, aud seen); a Zoho without exp must not be refused."""
    verifier.verify(signer.token(exp=None), org_id=ORG, webhook_id=WEBHOOK)
    verifier.verify(signer.token(exp=None, iat=None), org_id=ORG, webhook_id=WEBHOOK)
    with pytest.raises(jv.ExpiredJwt):
        verifier.verify(signer.token(expires_in=-120, iat=None), org_id=ORG, webhook_id=WEBHOOK)
    with pytest.raises(jv.PrematureJwt):
        verifier.verify(signer.token(exp=None, issued_offset=600), org_id=ORG, webhook_id=WEBHOOK)
    with pytest.raises(jv.PrematureJwt):
        verifier.verify(signer.token(nbf=int(time.time()) + 600), org_id=ORG, webhook_id=WEBHOOK)
    with pytest.raises(jv.MalformedJwt):
        verifier.verify(signer.token(exp="tomorrow"), org_id=ORG, webhook_id=WEBHOOK)
    with pytest.raises(jv.MalformedJwt):
        verifier.verify(signer.token(exp=None, iat="today"), org_id=ORG, webhook_id=WEBHOOK)


def test_require_exp_refuses_a_token_without_exp(jwks, clock, signer):
    strict = jv.ZohoJwtVerifier(jv.JwksKeys(jwks.url), require_exp=True)
    strict.verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)
    with pytest.raises(jv.MissingClaim) as caught:
        strict.verify(signer.token(exp=None), org_id=ORG, webhook_id=WEBHOOK)
    assert "'exp'" in str(caught.value)
    factory = jv.VerifierFactory(require_exp=True)
    endpoint = Endpoint("e1", ORG, jwks.url, WEBHOOK, datetime.now(timezone.utc))
    with pytest.raises(jv.MissingClaim):
        factory(endpoint).verify(signer.token(exp=None), org_id=ORG, webhook_id=WEBHOOK)
    jv.VerifierFactory()(endpoint).verify(signer.token(exp=None), org_id=ORG, webhook_id=WEBHOOK)


def test_the_claim_names_of_the_first_accepted_token_are_logged_once(verifier, signer, caplog):
    caplog.set_level(logging.INFO, logger=jv.__name__)
    token = signer.token(exp=None)
    verifier.verify(token, org_id=ORG, webhook_id=WEBHOOK)
    verifier.verify(signer.token(), org_id=ORG, webhook_id=WEBHOOK)
    messages = [r.getMessage() for r in caplog.records if r.name == jv.__name__]
    assert messages == ["Zoho webhook JWTs carry the claims aud, iat, iss (no exp: a copied token would not expire)"]
    assert ORG not in messages[0] and token.split(".")[2] not in messages[0]


def test_a_token_seen_again_is_not_verified_again_but_still_expires(verifier, signer, monkeypatch):
    token = signer.token(expires_in=60)
    verifier.verify(token, org_id=ORG, webhook_id=WEBHOOK)
    decoded = []
    monkeypatch.setattr(jv.jwt, "decode", lambda *args, **kwargs: decoded.append(1) or {})
    assert verifier.verify(token, org_id=ORG, webhook_id=WEBHOOK)["iss"] == f"orgId:{ORG}"
    assert decoded == [], "its signature was checked once"
    with pytest.raises(jv.WrongIssuer):  # the claims are checked against each endpoint all the same
        verifier.verify(token, org_id="another-org", webhook_id=WEBHOOK)
    real_time = time.time
    monkeypatch.setattr(jv.time, "time", lambda: real_time() + 60 + 31)  # past exp and the 30 s leeway
    with pytest.raises(jv.ExpiredJwt):
        verifier.verify(token, org_id=ORG, webhook_id=WEBHOOK)


def test_a_token_seen_again_is_refused_once_its_key_left_the_key_set(verifier, signer, jwks, clock, other_rsa_key):
    token = signer.token()
    verifier.verify(token, org_id=ORG, webhook_id=WEBHOOK)
    jwks.keys = [public_jwk(other_rsa_key, "zoho-key-2")]  # Zoho rotated: the old key is gone
    clock.advance(601)  # past the key set's ttl: the next check fetches it again
    with pytest.raises(jv.UnknownSigningKey):
        verifier.verify(token, org_id=ORG, webhook_id=WEBHOOK)

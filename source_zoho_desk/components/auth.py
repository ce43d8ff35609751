"""Zoho OAuth for Desk calls: grant-code exchange, token reuse across runs, and errors a person can act on.

Why custom: the CDK's OAuth authenticator sends `Bearer` (Zoho wants `Zoho-oauthtoken`), cannot exchange a
self-client grant code, and reads Zoho's token errors (HTTP 200 with `{"error": ...}`) as a missing token.
Everything else (refresh on expiry, refresh once on 401, persisting tokens) is the CDK's single-use-refresh-token
authenticator, which stores the access token and its expiry in the config and emits a CONNECTOR_CONFIG message.
"""

from __future__ import annotations

import threading
from dataclasses import InitVar, dataclass
from pathlib import Path
from typing import Any, Mapping, MutableMapping, Optional, Tuple

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.sources.streams.http.requests_native_auth import (
    SingleUseRefreshTokenOauth2Authenticator,
)
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.datetime_helpers import AirbyteDateTime
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk import config_file, packaged_manifest, token_cache, zoho_hosts


def _grant_code_help(data_center: str) -> str:
    """Grant codes from Zoho's self client expire after 3 minutes by default and work once."""
    return (
        f"In the Zoho API Console (https://api-console.{zoho_hosts.domain(data_center)}) open your Self Client, choose "
        f"'Generate Code' with the scopes {packaged_manifest.definitions()['required_scopes']}, and save the new code "
        "in this connection within 3 minutes. Or paste a refresh token instead."
    )


def _config_error(message: str, internal: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=internal, failure_type=FailureType.config_error)


def token_error(error: str, *, exchanging_code: bool, data_center: str) -> AirbyteTracedException:
    """Map Zoho's token-endpoint `error` value to an exception that says what to do."""
    if error == "invalid_code" and exchanging_code:
        return _config_error(
            "The Zoho grant code has expired or was already used (codes are single use and last about 3 minutes). "
            + _grant_code_help(data_center),
            "token endpoint answered invalid_code for a grant code",
        )
    if error == "invalid_code":
        return _config_error(
            "Zoho rejected the refresh token: it was revoked, or it belongs to another client or data center. "
            + _grant_code_help(data_center),
            "token endpoint answered invalid_code for a refresh token",
        )
    if error == "invalid_client":
        return _config_error(
            f"Zoho does not know this client id/secret in the '{data_center}' data center. Check the client id and "
            "secret in the Zoho API Console, and that 'Data center' matches the domain of your Zoho Desk URL "
            "(a client registered on zoho.eu cannot sign in on zoho.com).",
            "token endpoint answered invalid_client",
        )
    if "too many requests" in error.lower() or error == "Access Denied":
        # Zoho allows about 10 access tokens per refresh token in 10 minutes; waiting is the only remedy.
        return AirbyteTracedException(
            message="Zoho refused a new access token because too many were requested in the last 10 minutes "
            "(Zoho allows 10 per refresh token). Wait 10 minutes and run the sync again.",
            internal_message=f"token endpoint answered {error!r}",
            failure_type=FailureType.transient_error,
        )
    return _config_error(
        f"Zoho's token endpoint refused the credentials ({error}). Check the client id, secret and data center.",
        f"token endpoint answered {error!r}",
    )


class ZohoTokenManager(SingleUseRefreshTokenOauth2Authenticator):
    """Owns the tokens of one connection for a whole run.

    Zoho refresh tokens do not rotate; access tokens last an hour and at most ten may be minted per refresh token
    in ten minutes. So the access token and its expiry live in the config (persisted by the platform through the
    CONNECTOR_CONFIG message) and in a local token cache (token_cache.py), and one manager serves every stream so
    parallel streams never mint tokens of their own.
    """

    # Refresh a little early so a token never expires between being read and being used.
    _EXPIRY_MARGIN_SECONDS = 300

    def __init__(self, config: MutableMapping[str, Any]):
        self._grant_code_lock = threading.Lock()
        super().__init__(
            connector_config=config,
            token_refresh_endpoint=zoho_hosts.token_url(config),
            refresh_request_headers={"Accept": "application/json"},
        )
        self._reuse_cached_token()

    @property
    def _credentials(self) -> MutableMapping[str, Any]:
        return self._connector_config["credentials"]  # type: ignore[index]

    def get_refresh_token(self) -> str:
        return self._credentials.get("refresh_token") or ""

    def token_has_expired(self) -> bool:
        if not self._credentials.get("access_token"):
            return True
        expiry = self.get_token_expiry_date()
        return expiry.timestamp() - self._EXPIRY_MARGIN_SECONDS <= AirbyteDateTime.now().timestamp()

    def get_access_token(self) -> str:
        if not self.get_refresh_token():
            self._exchange_grant_code()
        return super().get_access_token()

    def build_refresh_request_body(self) -> Mapping[str, Any]:
        # The refresh token is read at call time: a grant-code exchange may just have produced it.
        return {
            "grant_type": "refresh_token",
            "refresh_token": self.get_refresh_token(),
            "client_id": self.get_client_id(),
            "client_secret": self.get_client_secret(),
        }

    def refresh_access_token(self) -> Tuple[str, AirbyteDateTime, Optional[str]]:  # type: ignore[override]
        if not self.get_refresh_token():
            self._exchange_grant_code()
        body = self._make_handled_request()
        self._raise_on_token_error(body, exchanging_code=False)
        return (
            self._extract_access_token(body),
            self._extract_token_expiry_date(body),
            None,  # Zoho never rotates refresh tokens on refresh.
        )

    def _raise_on_token_error(self, body: Mapping[str, Any], *, exchanging_code: bool) -> None:
        if "error" in body or "access_token" not in body:
            raise token_error(
                str(body.get("error", "no access_token in the answer")),
                exchanging_code=exchanging_code,
                data_center=self._connector_config.get("data_center", "com"),
            )

    def _exchange_grant_code(self) -> None:
        """Trade the self-client grant code for a refresh token, once, and persist it at once: the code is spent."""
        with self._grant_code_lock:
            if self.get_refresh_token():
                return
            code = self._credentials.get("grant_code")
            if not code:
                raise _config_error(
                    "The credentials have neither a refresh token nor a grant code. "
                    + _grant_code_help(self._connector_config.get("data_center", "com")),
                    "credentials lack refresh_token and grant_code",
                )
            response = requests.post(
                self.get_token_refresh_endpoint(),
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "client_id": self.get_client_id(),
                    "client_secret": self.get_client_secret(),
                },
                headers={"Accept": "application/json"},
                timeout=60,
            )
            if response.status_code >= 500 or response.status_code == 429:
                raise AirbyteTracedException(
                    message=f"Zoho's token endpoint is unavailable (HTTP {response.status_code}); try again shortly.",
                    failure_type=FailureType.transient_error,
                )
            try:
                body = response.json()
            except ValueError:
                body = {"error": f"HTTP {response.status_code} with a non-JSON answer"}
            self._raise_on_token_error(body, exchanging_code=True)
            if not body.get("refresh_token"):
                raise _config_error(
                    "Zoho exchanged the grant code but returned no refresh token. Generate the code from a Self "
                    "Client (it always grants offline access) and try again.",
                    "authorization_code answer without refresh_token",
                )
            add_to_secrets(body["refresh_token"])
            add_to_secrets(body["access_token"])
            # From now on this connection is a plain refresh-token connection: the spent code is dropped.
            self._credentials.pop("grant_code", None)
            self._credentials["auth_type"] = "oauth2.0"
            self._credentials["refresh_token"] = body["refresh_token"]
            self.access_token = body["access_token"]
            self.set_token_expiry_date(self._extract_token_expiry_date(body))
            self._emit_control_message()
            # The one time the user's --config file is rewritten: with the code spent, the old file could never work.
            config_file.write_back(self._connector_config, getattr(self._connector_config, "config_path", None))

    def _cache_file(self) -> Optional[Path]:
        if not self.get_refresh_token():
            return None
        return token_cache.cache_file(
            self.get_token_refresh_endpoint(), str(self.get_client_id()), self.get_refresh_token()
        )

    def _reuse_cached_token(self) -> None:
        """Take the token an earlier local run minted, unless the config carries one that is still good."""
        path = self._cache_file()
        cached = token_cache.load(path) if path else None
        if cached is None or not self.token_has_expired():
            return
        kept = {key: self._credentials.get(key) for key in ("access_token", "token_expiry_date")}
        self._credentials["access_token"], self._credentials["token_expiry_date"] = cached
        try:
            usable = not self.token_has_expired()
        except ValueError:  # an unreadable expiry in the cache entry
            usable = False
        if usable:
            add_to_secrets(cached[0])
            return
        for key, value in kept.items():  # put the config back as it was
            if value is None:
                self._credentials.pop(key, None)
            else:
                self._credentials[key] = value

    def _emit_control_message(self) -> None:
        """A new token: Airbyte persists it from the control message, a local run from the token cache."""
        if getattr(self._connector_config, "announce_changes", True):
            super()._emit_control_message()
        path = self._cache_file()
        if path:
            token_cache.save(path, self.access_token, str(self._credentials.get("token_expiry_date")))


def token_manager(config: MutableMapping[str, Any]) -> ZohoTokenManager:
    """The run's one manager (see ZohoTokenManager for why one); a plain mapping (a component built outside a
    source, in a unit test) gets a manager of its own."""
    from source_zoho_desk.connector_config import ConnectorConfig

    return config.token_manager() if isinstance(config, ConnectorConfig) else ZohoTokenManager(config)


@dataclass
class ZohoOAuthAuthenticator(DeclarativeAuthenticator):
    """Adds `Authorization: Zoho-oauthtoken <token>` to every Desk request."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._manager = token_manager(self.config)  # type: ignore[arg-type]

    @property
    def auth_header(self) -> str:
        return "Authorization"

    @property
    def token(self) -> str:
        return f"Zoho-oauthtoken {self._manager.get_access_token()}"

    def refresh_and_set_access_token(self) -> None:
        """Called by the CDK when Desk answers 401 INVALID_OAUTH: mint a new token once, then retry."""
        self._manager.refresh_and_set_access_token()

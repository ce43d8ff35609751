"""pytest plugin: a test that uses the simulator or a receiver fails if its captured output shows a secret it knew.

Register it in the root conftest.py:

    pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks", "integration_tests.secret_scan"]

Which tests: those whose fixtures hold a ZohoDeskSimulator, a WebhookRig or a ServedReceiver (directly or in a
tuple), or that request the `known_secrets` fixture.

Which secrets: the simulator's client secret and every grant code, refresh token and access token its OAuth server
issued, and the signature of every webhook JWT it signed; a rig's endpoint path token, its buffer URL's password and
the credentials in its (refreshed) config; any PostgreSQL/SQLite URL password in a fixture value; whatever the test
adds with `known_secrets.add(value)`.

Which output: everything pytest captured for the test (stdout, stderr, log records; setup, call and teardown) and
what every `serve` subprocess wrote to stderr while the test ran. Not scanned: Airbyte CONTROL messages of type
CONNECTOR_CONFIG, the protocol's channel for a refreshed config (the platform stores it as a secret).

A leak in setup or call fails the test; one that only shows in teardown fails the teardown. The plugin's message
names the kind of secret, where it was seen and the line with the secret masked; it never repeats the secret
(pytest's own "Captured ..." sections still show the output).
"""

from __future__ import annotations

import json
import re
import weakref
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple
from urllib.parse import unquote, urlsplit

import pytest

MIN_SECRET_LENGTH = 8  # shorter values (ports, small ids) would match by accident
ZOHO_TOKEN = re.compile(r"^1000\.([0-9a-f]{32})\.([0-9a-f]{32})$")

_receivers: "weakref.WeakSet[Any]" = weakref.WeakSet()
_original_init = None


class KnownSecrets:
    """Secrets a test declares itself: `known_secrets.add("s3cret", kind="buffer password")`."""

    def __init__(self) -> None:
        self.values: Dict[str, str] = {}

    def add(self, value: str, kind: str = "declared secret") -> None:
        self.values[value] = kind


@pytest.fixture
def known_secrets() -> KnownSecrets:
    return KnownSecrets()


# ---- following the receivers ----------------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    """Every ServedReceiver started from now on is followed, so its log can be scanned."""
    global _original_init
    try:
        from unit_tests.webhooks.served import ServedReceiver
    except ImportError:  # used outside this repository
        return
    if _original_init is not None:
        return
    _original_init = ServedReceiver.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        _receivers.add(self)
        _original_init(self, *args, **kwargs)

    ServedReceiver.__init__ = init  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    global _original_init
    if _original_init is None:
        return
    from unit_tests.webhooks.served import ServedReceiver

    ServedReceiver.__init__ = _original_init  # type: ignore[method-assign]
    _original_init = None


def _receiver_offsets() -> Dict[int, int]:
    return {id(receiver): len(getattr(receiver, "lines", [])) for receiver in list(_receivers)}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    item.stash[_OFFSETS] = _receiver_offsets()
    yield


_OFFSETS = pytest.StashKey[Dict[int, int]]()
_SCANNED_LOG = pytest.StashKey[Dict[int, int]]()


def _new_receiver_log(item: pytest.Item) -> List[Tuple[str, str]]:
    """(where, text) of what each receiver logged since the test started (or since the last scan)."""
    start = item.stash.get(_SCANNED_LOG, None) or item.stash.get(_OFFSETS, {})
    logs, seen = [], {}
    for receiver in list(_receivers):
        lines = list(getattr(receiver, "lines", []))
        seen[id(receiver)] = len(lines)
        new = lines[start.get(id(receiver), 0) :]
        if new:
            logs.append((f"the log of the receiver at {getattr(receiver, 'base_url', '?')}", "".join(new)))
    item.stash[_SCANNED_LOG] = seen
    return logs


# ---- finding the secrets ---------------------------------------------------------------------------------------------


def secrets_of(value: Any, found: Optional[Dict[str, str]] = None, depth: int = 0) -> Dict[str, str]:
    """secret -> its kind, for the objects the tests hand around (duck-typed: no import of the simulator needed)."""
    found = {} if found is None else found
    if depth > 3 or value is None:
        return found
    if isinstance(value, KnownSecrets):
        found.update(value.values)
    elif isinstance(value, (tuple, list)):
        for child in value:
            secrets_of(child, found, depth + 1)
    elif isinstance(value, str):
        _url_password(value, found)
    elif isinstance(value, dict):
        _config_secrets(value, found)
    elif hasattr(value, "oauth") and hasattr(value, "client_secret"):  # ZohoDeskSimulator
        _simulator_secrets(value, found)
    elif hasattr(value, "buffer_url") and hasattr(value, "token") and hasattr(value, "sim"):  # WebhookRig
        _add(found, value.token, "webhook endpoint path token")
        _url_password(value.buffer_url, found)
        _config_secrets(getattr(value, "config", {}), found)
        secrets_of(value.sim, found, depth + 1)
    elif hasattr(value, "token") and hasattr(value, "signed"):  # test_hostile_corpus.Target
        _add(found, value.token, "webhook endpoint path token")
        for token in value.signed:
            _jwt_signature(token, found)
        secrets_of(getattr(value, "sim", None), found, depth + 1)
    return found


def _add(found: Dict[str, str], value: Any, kind: str) -> None:
    if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
        found.setdefault(value, kind)
        match = ZOHO_TOKEN.match(value)
        if match:  # half of a token is as good as the token to whoever reads the log
            for part in match.groups():
                found.setdefault(part, f"part of a {kind}")


def _simulator_secrets(sim: Any, found: Dict[str, str]) -> None:
    _add(found, sim.client_secret, "Zoho client secret")
    oauth = sim.oauth
    with oauth.lock:
        for code in list(oauth.codes):
            _add(found, code, "Zoho grant code")
        for token in list(oauth.refresh_tokens):
            _add(found, token, "Zoho refresh token")
        for token in list(oauth.access_tokens):
            _add(found, token, "Zoho access token")
    for delivery in list(getattr(sim.hub, "deliveries", [])):
        _jwt_signature(getattr(delivery, "jwt", None), found)


def _jwt_signature(token: Optional[str], found: Dict[str, str]) -> None:
    if token and token.count(".") == 2:
        _add(found, token.split(".")[2], "webhook JWT signature")


def _config_secrets(config: Any, found: Dict[str, str]) -> None:
    if not isinstance(config, dict):
        return
    credentials = config.get("credentials") if isinstance(config.get("credentials"), dict) else {}
    for key, kind in (
        ("client_secret", "Zoho client secret"),
        ("refresh_token", "Zoho refresh token"),
        ("access_token", "Zoho access token"),
        ("grant_code", "Zoho grant code"),
    ):
        _add(found, credentials.get(key), kind)
    if isinstance(config.get("webhook_buffer_url"), str):
        _url_password(config["webhook_buffer_url"], found)


def _url_password(text: str, found: Dict[str, str]) -> None:
    if "://" not in text:
        return
    try:
        password = urlsplit(text).password
    except ValueError:
        return
    if password:
        _add(found, password, "buffer password")
        _add(found, unquote(password), "buffer password")


def _watched(item: pytest.Item) -> Dict[str, str]:
    funcargs = getattr(item, "funcargs", {}) or {}
    found: Dict[str, str] = {}
    for value in funcargs.values():
        secrets_of(value, found)
    return found


def _is_watched(item: pytest.Item) -> bool:
    funcargs = getattr(item, "funcargs", {}) or {}
    if "known_secrets" in funcargs:
        return True
    return any(_is_followed_object(value) for value in funcargs.values())


def _is_followed_object(value: Any, depth: int = 0) -> bool:
    if isinstance(value, (tuple, list)) and depth < 2:
        return any(_is_followed_object(child, depth + 1) for child in value)
    simulator = hasattr(value, "oauth") and hasattr(value, "client_secret")
    rig = hasattr(value, "buffer_url") and hasattr(value, "sim")
    receiver = hasattr(value, "process") and hasattr(value, "base_url") and hasattr(value, "lines")
    target = hasattr(value, "token") and hasattr(value, "signed")
    return simulator or rig or receiver or target


# ---- scanning --------------------------------------------------------------------------------------------------------


def leaks(secrets: Dict[str, str], texts: Iterable[Tuple[str, str]]) -> List[str]:
    """One sentence per (secret, place) where a secret shows, without the secret. Longest secrets first, each masked
    once found, so a whole token is reported once rather than again for each of its halves."""
    found = []
    ordered = sorted(secrets, key=len, reverse=True)
    for where, text in texts:
        text = "\n".join(line for line in text.splitlines() if not _is_config_control_message(line))
        for secret in ordered:
            if secret not in text:
                continue
            kind = secrets[secret]
            line = next(line for line in text.splitlines() if secret in line)
            for other in ordered:
                line = line.replace(other, f"[{kind}]" if other == secret else "[secret]")
            found.append(f"a {kind} ({len(secret)} characters) leaked into {where}: {line.strip()[:300]}")
            text = text.replace(secret, "[secret]")
    return found


def _is_config_control_message(line: str) -> bool:
    if '"CONNECTOR_CONFIG"' not in line:
        return False
    try:
        message = json.loads(line[line.index("{") :])
    except ValueError:
        return False
    return message.get("type") == "CONTROL" and (message.get("control") or {}).get("type") == "CONNECTOR_CONFIG"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when not in ("call", "teardown") or not _is_watched(item):
        return
    secrets = _watched(item)
    if not secrets:
        return
    phases = ("setup", "call") if report.when == "call" else ("teardown",)
    texts = [
        (f"the captured {key} of {when}", content) for when, key, content in item._report_sections if when in phases
    ]
    texts += _new_receiver_log(item)
    found = leaks(secrets, texts)
    if not found:
        return
    message = "secret scan: " + "\n".join(dict.fromkeys(found))
    if hasattr(report, "wasxfail"):
        del report.wasxfail
    if report.outcome == "failed":
        report.sections.append(("secret scan", message))
    else:
        report.outcome = "failed"
        report.longrepr = message

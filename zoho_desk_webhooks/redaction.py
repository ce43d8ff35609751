"""Hide the password of a buffer URL before the URL reaches a message or a log.

libpq (so psycopg) reads a password from three places: the `user:password@` part of a URI, a
`password=` query parameter (percent-encoded, like its name), and the `password` keyword of a
`key=value` connection string; `sslpassword` is as secret. We parse with our own small rules,
not psycopg's, because psycopg's parse errors quote the text they choke on, password included.
Our rules hide generously; psycopg only double-checks them when it can parse the URL at all.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "***"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_KEYWORD_START = re.compile(r"\s*\w+\s*=")  # `host=...`: a key=value connection string
# One `key = value` pair, where value is 'quoted' (\ escapes) or runs to the next blank (\ escapes).
_KEYWORD_PAIR = re.compile(r"\s*([^=\s]+)\s*=\s*('(?:[^'\\]|\\.)*'|(?:[^\s\\]|\\.)*)", re.DOTALL)
# A query parameter; searched over the whole URI, since a raw `?` may also sit in a password.
_QUERY_PARAM = re.compile(r"(?<=[?&])([^=&?]*)=([^&]*)")


def redact_url(url: str) -> str:
    """`url` (a URI or a key=value connection string) with every password shown as ***.

    User, host, port and database stay visible for debugging. Never raises: what cannot be
    read safely comes back as the scheme followed by ***.
    """
    try:
        redacted, hidden = _redact_keywords(url) if _KEYWORD_START.match(url) else _redact_uri(url)
        if _missed_secret(url, hidden):
            return _placeholder(url)  # libpq reads this URL differently from us: show nothing of it
        return redacted
    except Exception:  # a message about a bad URL must not fail, nor fall back to the raw URL
        return _placeholder(url)


def _redact_uri(url: str) -> tuple[str, list[str]]:
    scheme = _SCHEME.match(url)
    head, rest = (url[: scheme.end()], url[scheme.end() :]) if scheme else ("", url)
    hidden: list[str] = []
    # Query first: once its secrets are masked, their `@`s cannot be taken for the userinfo's end.
    rest = _QUERY_PARAM.sub(lambda param: _hide_param(param, hidden), rest)
    return head + _hide_userinfo(rest, hidden), hidden


def _hide_param(param: re.Match, hidden: list[str]) -> str:
    if not is_password_key(unquote(param.group(1))):  # libpq decodes names too: pass%77ord= counts
        return param.group(0)
    hidden.append(unquote(param.group(2)))
    return f"{param.group(1)}={MASK}"


def _hide_userinfo(rest: str, hidden: list[str]) -> str:
    # Up to the last `@` rather than the first: a password with a raw `@`, `/` or `?` in it
    # must not leak its tail (at worst the host shows as *** too).
    at = rest.rfind("@")
    colon = rest.find(":", 0, max(at, 0))
    if at < 0 or colon < 0:
        return rest
    hidden.append(unquote(rest[colon + 1 : at]))
    return f"{rest[: colon + 1]}{MASK}{rest[at:]}"


def _redact_keywords(conninfo: str) -> tuple[str, list[str]]:
    pieces: list[str] = []
    hidden: list[str] = []
    pos = 0
    while conninfo[pos:].strip():
        pair = _KEYWORD_PAIR.match(conninfo, pos)
        if pair is None:
            raise ValueError("not a key=value connection string")  # caught: shown as a placeholder
        if is_password_key(pair.group(1)):
            pieces.append(conninfo[pos : pair.start(2)] + MASK)
            hidden.append(_keyword_value(pair.group(2)))
        else:
            pieces.append(pair.group(0))
        pos = pair.end()
    return "".join(pieces) + conninfo[pos:], hidden


def _keyword_value(raw: str) -> str:
    quoted = len(raw) >= 2 and raw[0] == raw[-1] == "'"
    return re.sub(r"\\(.)", r"\1", raw[1:-1] if quoted else raw, flags=re.DOTALL)


def is_password_key(key: str) -> bool:
    return key.strip().lower().endswith("password")  # password, sslpassword, any case


def _missed_secret(url: str, hidden: list[str]) -> bool:
    """Whether libpq finds a password that is not inside anything we hid."""
    return any(not any(secret in value for value in hidden) for secret in _libpq_secrets(url))


def _libpq_secrets(url: str) -> list[str]:
    try:
        from psycopg.conninfo import conninfo_to_dict

        params = conninfo_to_dict(url)
    except Exception:  # unparsable to libpq (its message may quote the password: never shown)
        return []
    return [str(value) for key, value in params.items() if is_password_key(key) and value]


def _placeholder(url: object) -> str:
    scheme = _SCHEME.match(url) if isinstance(url, str) else None
    return (scheme.group(0) if scheme else "") + MASK

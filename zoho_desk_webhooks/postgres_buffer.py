"""PostgreSQL hooks for the event buffer."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict

from .buffer import EventBuffer
from .errors import InvalidBufferUrl
from .redaction import MASK, is_password_key, redact_url

CONNECT_TIMEOUT_SECONDS = 5
SCHEMA_LOCK_ID = 0x7A64_6B77  # advisory lock key: two processes creating the schema at once
# Fixed wording: psycopg's own parse errors quote the offending text, which may be the password.
UNPARSABLE_URL = ("invalid PostgreSQL URL {url}: it could not be parsed. Write it as "
                  "postgresql://user:password@host:port/db?option=value with options libpq knows, and "
                  "check that special characters in the password are percent-encoded "
                  "(% as %25, @ as %40, / as %2F, : as %3A)")


class PostgresEventBuffer(EventBuffer):
    timestamp_type = "TIMESTAMPTZ"
    driver_errors = (psycopg.OperationalError, psycopg.InterfaceError)

    def __init__(self, url: str, **kwargs: Any) -> None:
        self._secrets = _secrets(_parsed(url))
        super().__init__(url, **kwargs)

    def _connect(self) -> psycopg.Connection:
        try:
            # Durability: PostgreSQL's default synchronous_commit=on flushes WAL before COMMIT returns.
            return psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                   application_name="zoho-desk-webhooks")
        except psycopg.Error as exc:
            error = exc
        # Raised outside the except block so that a scrubbed copy does not carry the original along.
        raise _scrubbed(error, self._secrets)

    @contextmanager
    def _transaction(self, conn: psycopg.Connection) -> Iterator[psycopg.Cursor]:
        # READ COMMITTED is enough: the counter-row lock orders appends (see buffer.py).
        with conn.transaction():
            yield conn.cursor()

    def _before_schema(self, cur: psycopg.Cursor) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))

    def _is_broken(self, conn: psycopg.Connection) -> bool:
        return conn.closed or conn.broken

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")  # our SQL has no literal '?' or '%'

    def clock(self) -> datetime:
        row = self._query_one("SELECT clock_timestamp()")  # the server's time now, not the transaction's start
        return self._from_db_time(row[0])

    def _from_db_time(self, value: datetime) -> datetime:
        return value.astimezone(timezone.utc)


def _parsed(url: str) -> dict[str, Any]:
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        params = None  # its message may quote the password: replaced by ours below
    if params is None or _misread(params):
        raise InvalidBufferUrl(UNPARSABLE_URL.format(url=redact_url(url)))
    return params


def _misread(params: dict[str, Any]) -> bool:
    """Whether libpq took part of a password with a raw `@` or `/` for the host or the port.

    Connecting would then fail with that piece of the password in the error message.
    """
    host, port = str(params.get("host") or ""), str(params.get("port") or "")
    return "@" in host or re.fullmatch(r"[\d,]*", port) is None


def _secrets(params: dict[str, Any]) -> list[str]:
    """The passwords in the URL, as libpq reads them and percent-encoded; longest first."""
    values = {str(value) for key, value in params.items() if is_password_key(key) and value}
    return sorted(values | {quote(value, safe="") for value in values}, key=len, reverse=True)


def _scrubbed(error: psycopg.Error, secrets: list[str]) -> psycopg.Error:
    """`error`, or a copy of the same class without the passwords if its text shows one."""
    text = str(error)
    for secret in secrets:
        text = text.replace(secret, MASK)
    return error if text == str(error) else type(error)(text)

"""PostgreSQL hooks for the event buffer; connections come from psycopg_pool."""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import quote

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from .buffer import EventBuffer
from .errors import BufferUnavailable, InvalidBufferUrl
from .redaction import MASK, is_password_key, redact_url

T = TypeVar("T")

CONNECT_TIMEOUT_SECONDS = 5
# Durability: PostgreSQL's default synchronous_commit=on flushes WAL before COMMIT returns.
CONNECTION_OPTIONS = {
    "autocommit": True,
    "connect_timeout": CONNECT_TIMEOUT_SECONDS,
    "application_name": "zoho-desk-webhooks",
}
# The pool retries a failed connect in the background, backing off, for this long; then the next request starts a
# fresh attempt at once. Short, so that the buffer is usable again within seconds of the database coming back.
RECONNECT_SECONDS = 2 * CONNECT_TIMEOUT_SECONDS
SCHEMA_LOCK_ID = 0x7A64_6B77  # advisory lock key: two processes creating the schema at once
# Fixed wording: psycopg's own parse errors quote the offending text, which may be the password.
UNPARSABLE_URL = (
    "invalid PostgreSQL URL {url}: it could not be parsed. Write it as "
    "postgresql://user:password@host:port/db?option=value with options libpq knows, and "
    "check that special characters in the password are percent-encoded "
    "(% as %25, @ as %40, / as %2F, : as %3A)"
)


# A database that cannot be used now, not a mistake in our SQL: a failover to a read-only standby, rights taken away.
UNAVAILABLE = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    pg_errors.ReadOnlySqlTransaction,
    pg_errors.InsufficientPrivilege,
)

# psycopg_pool logs every checkout and return at INFO: two lines per query at the receiver's default log level.
logging.getLogger("psycopg.pool").setLevel(logging.WARNING)


class ScrubbedConnection(psycopg.Connection):
    """A psycopg connection whose connect errors never show the URL's password (psycopg_pool logs them)."""

    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any) -> "ScrubbedConnection":  # type: ignore[override]
        try:
            return super().connect(conninfo, **kwargs)
        except psycopg.Error as exc:
            error = exc
        # Raised outside the except block so that a scrubbed copy does not carry the original along.
        raise _scrubbed(error, _secrets(_parsed(conninfo)))


class PostgresEventBuffer(EventBuffer):
    """`acquire_timeout` also bounds the wait while the database is down (the pool then has no connection to
    give), so it defaults to the connect timeout: Zoho gives up on a delivery after about that long anyway."""

    timestamp_type = "TIMESTAMPTZ"

    def __init__(self, url: str, *, acquire_timeout: float = CONNECT_TIMEOUT_SECONDS, **kwargs: Any) -> None:
        _parsed(url)  # an unparsable URL fails here, without the password
        super().__init__(url, acquire_timeout=acquire_timeout, **kwargs)

    def _open_pool(self, size: int, acquire_timeout: float) -> ConnectionPool:
        self._name, self._acquire_timeout = redact_url(self.url), acquire_timeout
        # One direct connection first: a wrong URL or a server that is down fails here with libpq's reason, where
        # the pool would only time out.
        try:
            ScrubbedConnection.connect(self.url, **CONNECTION_OPTIONS).close()
        except psycopg.Error as exc:
            raise BufferUnavailable(f"cannot connect to {self._name}: {exc}".strip()) from exc
        return ConnectionPool(
            self.url,
            connection_class=ScrubbedConnection,
            kwargs=CONNECTION_OPTIONS,
            min_size=1,
            max_size=size,
            timeout=acquire_timeout,
            reconnect_timeout=RECONNECT_SECONDS,
            name=self._name,
            open=True,
        )

    def _with_connection(self, work: Callable[[Any], T]) -> T:
        for attempt in (1, 2):
            conn = None
            try:
                with self._pool.connection() as conn:
                    return work(conn)
            except PoolClosed:
                raise BufferUnavailable("the event buffer is closed") from None
            except PoolTimeout:
                raise BufferUnavailable(
                    f"{self._name}: no database connection within {self._acquire_timeout:g} s (the database is "
                    "down, or every connection is busy; the log shows the connect errors)"
                ) from None
            except UNAVAILABLE as exc:
                if attempt == 1 and conn is not None and conn.broken:
                    # The server dropped an idle connection (a restart): the other idle ones went with it, so drop
                    # them all now, and repeat the work once (every buffer operation may be repeated: append is
                    # idempotent).
                    self._pool.check()
                    continue
                raise BufferUnavailable(f"{self._name}: {exc}".strip()) from exc
        raise AssertionError("unreachable")

    @contextmanager
    def _transaction(self, conn: psycopg.Connection) -> Iterator[psycopg.Cursor]:
        # READ COMMITTED is enough: the counter-row lock orders appends (see buffer.py).
        with conn.transaction():
            yield conn.cursor()

    def _before_schema(self, cur: psycopg.Cursor) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))

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

"""PostgreSQL hooks for the event buffer."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

import psycopg
from psycopg.conninfo import conninfo_to_dict

from .buffer import EventBuffer
from .errors import InvalidBufferUrl

CONNECT_TIMEOUT_SECONDS = 5
SCHEMA_LOCK_ID = 0x7A64_6B77  # advisory lock key: two processes creating the schema at once


class PostgresEventBuffer(EventBuffer):
    timestamp_type = "TIMESTAMPTZ"
    driver_errors = (psycopg.OperationalError, psycopg.InterfaceError)

    def __init__(self, url: str, **kwargs: Any) -> None:
        try:
            conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise InvalidBufferUrl(f"invalid PostgreSQL URL: {exc}") from None
        super().__init__(url, **kwargs)

    def _connect(self) -> psycopg.Connection:
        # Durability: PostgreSQL's default synchronous_commit=on flushes WAL before COMMIT returns.
        return psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                               application_name="zoho-desk-webhooks")

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

    def _from_db_time(self, value: datetime) -> datetime:
        return value.astimezone(timezone.utc)

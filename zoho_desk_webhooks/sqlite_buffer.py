"""SQLite hooks for the event buffer: one file, WAL, fsync on every commit."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, TypeVar

from .buffer import EventBuffer
from .connection_pool import ConnectionPool
from .errors import BufferUnavailable, InvalidBufferUrl
from .redaction import redact_url

BUSY_TIMEOUT_SECONDS = 10.0
T = TypeVar("T")


class SqliteEventBuffer(EventBuffer):
    timestamp_type = "TEXT"  # fixed-width ISO-8601 UTC, so text order is time order

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.path = sqlite_path(url)
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            raise BufferUnavailable(f"cannot open {self.path}: directory {directory} does not exist")
        if not os.access(directory, os.W_OK | os.X_OK):
            # WAL needs the -wal and -shm files next to the database.
            raise BufferUnavailable(f"cannot open {self.path}: directory {directory} is not writable")
        self._write_lock = threading.Lock()
        super().__init__(url, **kwargs)

    def _open_pool(self, size: int, acquire_timeout: float) -> ConnectionPool:
        return ConnectionPool(
            self._connect,
            name=redact_url(self.url),
            size=size,
            acquire_timeout=acquire_timeout,
            driver_errors=(sqlite3.OperationalError,),
        )

    def _with_connection(self, work: Callable[[Any], T]) -> T:
        return self._pool.run(work)

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions, we issue BEGIN IMMEDIATE ourselves.
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
        try:
            try:
                mode = _switch_to_wal(conn)
            except sqlite3.DatabaseError as exc:  # e.g. "file is not a database"
                if isinstance(exc, sqlite3.OperationalError):
                    raise
                raise BufferUnavailable(f"cannot open {self.path}: {exc}") from None
            if mode.lower() != "wal":
                raise BufferUnavailable(f"cannot switch {self.path} to WAL mode (got {mode})")
            # FULL, not NORMAL: in WAL mode NORMAL skips the fsync at commit, so a commit survives
            # a killed process but may vanish on power loss or an OS crash. We answer Zoho 200 only
            # after commit and Zoho will not resend, so the commit must be on disk; one fsync per
            # delivery is cheap next to the network round trip.
            conn.execute("PRAGMA synchronous = FULL")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Cursor]:
        # IMMEDIATE takes the database write lock up front, serializing appends across threads
        # and processes (the position counter needs that) and avoiding deadlock-prone upgrades.
        # Our own threads queue on a Python lock first: SQLite's busy handler polls with sleeps of
        # up to 100 ms, which wastes most of the time under contention.
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn.cursor()
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _to_db_time(self, value: datetime) -> str:
        return value.astimezone(timezone.utc).isoformat(timespec="microseconds")

    def _from_db_time(self, value: str) -> datetime:
        return datetime.fromisoformat(value)


def _switch_to_wal(conn: sqlite3.Connection) -> str:
    """Ask for WAL mode; return the mode in force.

    Switching a new (rollback-journal) database needs an exclusive lock. While another connection
    holds a write lock, SQLite refuses at once instead of using the busy timeout (waiting could
    deadlock), so two processes opening a fresh buffer together would fail: wait and retry here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            return conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def sqlite_path(url: str) -> str:
    """The absolute path of `sqlite:////absolute/path.db`. `sqlite:///x.db` is refused: it reads (as in SQLAlchemy)
    as a path relative to the working directory, and the receiver and the connector's syncs run in different
    directories, often on different containers, so each would silently use a file of its own."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise InvalidBufferUrl(f"SQLite buffer URL must look like sqlite:////absolute/path.db, got {url!r}")
    rest = url[len(prefix) :]
    if not rest.startswith("/"):
        raise InvalidBufferUrl(
            f"SQLite buffer URL {url!r} names a path relative to the working directory, which the receiver and the "
            f"connector do not share: give the absolute path, with four slashes: sqlite:////absolute/path/{rest}"
        )
    path = "/" + rest.lstrip("/")
    if "?" in path or "#" in path:
        raise InvalidBufferUrl(f"SQLite buffer URL takes no query or fragment: {url!r}")
    return path

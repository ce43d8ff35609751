"""SQLite's small bounded pool of connections, shared by the receiver's worker threads.

PostgreSQL uses psycopg_pool, which speaks only psycopg. SQLite needs this one because its connections must stay
open between operations (closing the last connection of a WAL database checkpoints it, an fsync per delivery) and
one connection must not serve two threads at once. A SQLite connection cannot be dropped by a server, so unlike
psycopg_pool there is no checking or reconnecting here.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, TypeVar

from .errors import BufferUnavailable

T = TypeVar("T")


class ConnectionPool:
    """At most `size` connections, reused most-recent-first. Driver errors (`driver_errors`) surface as
    BufferUnavailable."""

    def __init__(
        self,
        connect: Callable[[], Any],
        *,
        name: str,
        size: int,
        acquire_timeout: float,
        driver_errors: tuple[type[BaseException], ...],
    ) -> None:
        self._connect, self._name, self._driver_errors = connect, name, driver_errors
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._acquire_timeout = acquire_timeout
        self._closed = False

    def run(self, work: Callable[[Any], T]) -> T:
        conn = self._acquire()
        try:
            result = work(conn)
        except self._driver_errors as exc:
            self._release(conn, broken=False)  # e.g. "database is locked": the connection itself is fine
            raise BufferUnavailable(f"{self._name}: {exc}".strip()) from exc
        except BaseException:
            self._release(conn, broken=True)  # state unknown (maybe mid-transaction)
            raise
        self._release(conn, broken=False)
        return result

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                _close_quietly(self._idle.get_nowait())
            except queue.Empty:
                return

    def _acquire(self) -> Any:
        if self._closed:
            raise BufferUnavailable("the event buffer is closed")
        if not self._slots.acquire(timeout=self._acquire_timeout):
            raise BufferUnavailable(f"{self._name}: all database connections are busy")
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        try:
            return self._connect()
        except BaseException as exc:
            self._slots.release()
            if isinstance(exc, self._driver_errors):
                raise BufferUnavailable(f"cannot connect to {self._name}: {exc}".strip()) from exc
            raise

    def _release(self, conn: Any, *, broken: bool) -> None:
        if broken or self._closed:
            _close_quietly(conn)
        else:
            self._idle.put(conn)
        self._slots.release()


def _close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except Exception:
        pass

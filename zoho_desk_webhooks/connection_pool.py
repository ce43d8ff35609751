"""A small bounded pool of database connections, shared by the receiver's worker threads."""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, TypeVar

from .errors import BufferUnavailable

T = TypeVar("T")


class ConnectionPool:
    """At most `size` connections, reused most-recent-first, dropped when broken.

    Driver errors (`driver_errors`) surface as BufferUnavailable. A pooled connection may have
    died while idle (database restart); then the work is retried once on a fresh connection, so
    work must be safe to repeat (every buffer operation is: append is idempotent).
    """

    def __init__(self, connect: Callable[[], Any], *, name: str, size: int, acquire_timeout: float,
                 driver_errors: tuple[type[BaseException], ...], is_broken: Callable[[Any], bool]) -> None:
        self._connect, self._name = connect, name
        self._driver_errors, self._is_broken = driver_errors, is_broken
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._acquire_timeout = acquire_timeout
        self._closed = False

    def run(self, work: Callable[[Any], T]) -> T:
        for attempt in (1, 2):
            conn, pooled = self._acquire()
            try:
                result = work(conn)
            except self._driver_errors as exc:
                broken = self._is_broken(conn)
                self._release(conn, broken=broken)
                if pooled and broken and attempt == 1:
                    continue
                raise BufferUnavailable(f"{self._name}: {exc}".strip()) from exc
            except BaseException:
                self._release(conn, broken=True)  # state unknown (maybe mid-transaction)
                raise
            self._release(conn, broken=False)
            return result
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                _close_quietly(self._idle.get_nowait())
            except queue.Empty:
                return

    def _acquire(self) -> tuple[Any, bool]:
        if self._closed:
            raise BufferUnavailable("the event buffer is closed")
        if not self._slots.acquire(timeout=self._acquire_timeout):
            raise BufferUnavailable(f"{self._name}: all database connections are busy")
        try:
            return self._idle.get_nowait(), True
        except queue.Empty:
            pass
        try:
            return self._connect(), False
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

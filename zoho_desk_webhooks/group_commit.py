"""Group commit: deliveries that arrive while a commit runs are stored together, in the next transaction.

One transaction per delivery pays a transaction's fixed cost (the write lock, a few statements, a flush to disk)
for every event, and on SQLite every worker thread then queues for the write lock. Here one writer thread commits:
it takes every delivery waiting (up to MAX_BATCH_EVENTS events), stores them in one transaction, and only once that
transaction committed does the event loop answer each of them. Deliveries that arrive meanwhile wait for the next
transaction, which the writer starts as soon as the previous one ended.

A failed commit stores none of its batch. If the buffer is unavailable, every delivery of the batch gets that error
(a 503 and a refusal, as a delivery committed alone would). Any other failure may be one delivery's fault (the
receiver validates events before they get here, so it should not happen): the batch is then committed again one
delivery per transaction, so that each gets its own answer and a bad one cannot fail the others.

Memory is bounded: at most `max_pending` deliveries wait or are being committed; beyond that a request waits for
room (back-pressure: uvicorn reads nothing more from that connection meanwhile, and connections are capped by
--max-connections).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Sequence

from .buffer import BufferUnavailable, EventBuffer
from .events import EncodedEvent

log = logging.getLogger(__name__)

MAX_PENDING = 1000  # deliveries waiting for, or in, a commit; each holds at most --max-body-bytes
MAX_BATCH_EVENTS = 1000  # a batch takes deliveries until it holds this many events (a delivery is never split)
STOPPED = "the receiver is stopping: no more commits"


@dataclass
class _Pending:
    org_id: str
    events: Sequence[EncodedEvent]
    answer: asyncio.Future[int]


Outcome = int | Exception  # how many events were new, or why the delivery was not stored


class GroupCommit:
    """`start` and `stop` from the receiver's lifespan; `append` from its request handlers (one event loop)."""

    def __init__(
        self, buffer: EventBuffer, *, max_pending: int = MAX_PENDING, max_batch_events: int = MAX_BATCH_EVENTS
    ) -> None:
        self._buffer = buffer
        self._max_pending, self._max_batch_events = max_pending, max_batch_events
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._room: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer: threading.Thread | None = None
        self._stopped: asyncio.Future[None] | None = None

    async def append(self, org_id: str, events: Sequence[EncodedEvent]) -> int:
        """How many of `events` were new, once the transaction holding them committed; raises what the commit
        raised (BufferUnavailable when the database is down or refuses writes)."""
        if self._room is None or self._stopped is None or self._stopped.done():
            raise BufferUnavailable(STOPPED)
        await self._room.acquire()  # released when answered, by _answer
        pending = _Pending(org_id, events, asyncio.get_running_loop().create_future())
        if self._stopped.done():  # stopped while this one waited for room
            self._room.release()
            raise BufferUnavailable(STOPPED)
        self._queue.put(pending)
        return await pending.answer

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._room = asyncio.Semaphore(self._max_pending)
        self._stopped = self._loop.create_future()
        self._writer = threading.Thread(target=self._write, name="group-commit", daemon=True)
        self._writer.start()

    async def stop(self) -> None:
        """Commit and answer what is queued, then stop the writer."""
        if self._stopped is None or self._stopped.done():
            return
        self._queue.put(None)
        await self._stopped  # the writer's last answers are set before this

    # ---- the writer thread ---------------------------------------------------------------------------------------

    def _write(self) -> None:
        stopping = False
        try:
            while not stopping:
                first = self._queue.get()
                if first is None:
                    break
                batch, events = [first], len(first.events)
                while events < self._max_batch_events:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stopping = True
                        break
                    batch.append(item)
                    events += len(item.events)
                self._to_loop(self._answer, batch, self._commit(batch))
        finally:
            self._to_loop(self._finish)

    def _commit(self, batch: list[_Pending]) -> list[Outcome]:
        try:
            return list(self._buffer.append_batch([(p.org_id, p.events) for p in batch]))
        except BufferUnavailable as exc:  # the database's state, not a delivery's: the same answer for all
            return [BufferUnavailable(str(exc)) for _ in batch]
        except Exception as exc:
            if len(batch) == 1:
                return [exc]
            log.warning("a commit of %d deliveries failed (%r); committing them one by one", len(batch), exc)
        outcomes: list[Outcome] = []
        for pending in batch:
            try:
                outcomes.append(self._buffer.append_batch([(pending.org_id, pending.events)])[0])
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    def _to_loop(self, callback: object, *args: object) -> None:
        assert self._loop is not None, "started by start()"
        try:
            self._loop.call_soon_threadsafe(callback, *args)  # type: ignore[arg-type]
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    # ---- on the event loop -----------------------------------------------------------------------------------------

    def _answer(self, batch: list[_Pending], outcomes: list[Outcome]) -> None:
        assert self._room is not None, "started by start()"
        for pending, outcome in zip(batch, outcomes, strict=True):
            self._room.release()
            if pending.answer.done():  # its request was cancelled; its events are stored all the same
                continue
            if isinstance(outcome, Exception):
                pending.answer.set_exception(outcome)
            else:
                pending.answer.set_result(outcome)

    def _finish(self) -> None:
        """The writer has ended: refuse what it left queued (appended after the stop), and let `stop` return."""
        assert self._stopped is not None, "started by start()"
        left = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                left.append(item)
        self._answer(left, [BufferUnavailable(STOPPED) for _ in left])
        if not self._stopped.done():
            self._stopped.set_result(None)

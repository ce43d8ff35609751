"""Group commit: concurrent deliveries share a transaction, and each is answered 200 only once it is committed.

The buffer's `append_batch` is wrapped so that a test can hold a commit open (a gate), see which deliveries each
transaction held, and make one fail. Every wait is on a condition, with a generous deadline for loaded machines.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import pytest
from starlette.testclient import TestClient

from zoho_desk_webhooks.errors import BufferUnavailable
from zoho_desk_webhooks.events import encode_event, normalize_event
from zoho_desk_webhooks.group_commit import GroupCommit
from zoho_desk_webhooks.receiver import create_app

from .conftest import ORG, WEBHOOK, make_event

DEADLINE = 120.0
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
FAR_FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


class Commits:
    """Wraps `buffer.append_batch`: records each transaction's event ids, and can hold one open or fail one."""

    def __init__(self, buffer, monkeypatch) -> None:
        self.buffer = buffer
        self.batches: list[list[str]] = []  # event ids of each commit that returned, in order
        self.entered = threading.Event()  # a commit is being held at the gate
        self.gate: threading.Event | None = None  # set: commits go through
        self.fail_when: Callable[[list[str]], BaseException | None] = lambda ids: None
        self._real = buffer.append_batch
        monkeypatch.setattr(buffer, "append_batch", self.append_batch)

    def hold(self) -> None:
        self.gate, self.entered = threading.Event(), threading.Event()

    def release(self) -> None:
        assert self.gate is not None
        self.gate.set()

    def append_batch(self, deliveries):
        ids = [event_id(event) for _, events in deliveries for event in events]
        if self.gate is not None and not self.gate.is_set():
            self.entered.set()
            assert self.gate.wait(DEADLINE), "the test never released the commit"
        failure = self.fail_when(ids)
        if failure is not None:
            raise failure
        counts = self._real(deliveries)
        self.batches.append(ids)
        return counts

    def committed(self) -> set[str]:
        return {event for batch in self.batches for event in batch}


def event_id(encoded) -> str:
    return json.loads(encoded.payload)["id"]


@pytest.fixture
def receiver(buffer, jwks):
    _, token = buffer.create_endpoint(ORG, jwks.url, WEBHOOK)
    app = create_app(buffer, heartbeat_seconds=None)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, f"/webhooks/{token}"


def post(client, path, events, signer):
    return client.post(path, json=events, headers={"X-ZDesk-JWT": signer.token()})


def queued(client) -> int:
    return client.app.state.receiver.commits._queue.qsize()


def test_deliveries_that_arrive_during_a_commit_share_the_next_one_and_are_answered_only_once_stored(
    buffer, receiver, signer, monkeypatch
):
    client, path = receiver
    commits = Commits(buffer, monkeypatch)
    commits.hold()
    count = 12
    stored_when_answered: dict[str, bool] = {}

    def deliver(n: int):
        response = post(client, path, [make_event(n)], signer)
        # The buffer is read on another connection the moment the answer arrives: a 200 means committed.
        stored_when_answered[str(n)] = str(n) in {event.payload["id"] for event in buffer.read(ORG, 0)}
        return response

    with ThreadPoolExecutor(count + 1) as pool:
        first = pool.submit(deliver, 0)
        assert commits.entered.wait(DEADLINE), "the first delivery's commit began"
        rest = [pool.submit(deliver, n) for n in range(1, count + 1)]
        wait_until(lambda: queued(client) == count, "every other delivery queued behind the open commit")
        assert not first.done() and not any(future.done() for future in rest), "nobody is answered before commit"
        assert buffer.head_position(ORG) == 0
        commits.release()
        responses = [first.result(DEADLINE)] + [future.result(DEADLINE) for future in rest]

    assert [response.status_code for response in responses] == [200] * (count + 1)
    assert all(response.json() == {"stored": 1, "duplicates": 0} for response in responses)
    assert all(stored_when_answered.values()) and len(stored_when_answered) == count + 1
    assert commits.batches[0] == ["0"]
    assert sorted(commits.batches[1], key=int) == [str(n) for n in range(1, count + 1)], "one transaction for all"
    stored = buffer.read(ORG, 0)
    assert [event.position for event in stored] == list(range(1, count + 2))
    assert sorted(event.payload["id"] for event in stored) == sorted(str(n) for n in range(count + 1))


def test_a_failed_commit_answers_every_delivery_of_its_batch_503_and_stores_none_of_it(
    buffer, receiver, signer, monkeypatch
):
    """The failure comes after the batch's rows were inserted, inside the transaction: all of them are rolled back."""
    client, path = receiver
    commits = Commits(buffer, monkeypatch)
    execute = buffer._execute

    def failing_execute(cur, sql, params):
        if sql.startswith("UPDATE webhook_positions SET last_position") and len(commits.batches) >= 1:
            raise BufferUnavailable("disk I/O error")  # the events are inserted, the counter not yet moved
        return execute(cur, sql, params)

    monkeypatch.setattr(buffer, "_execute", failing_execute)
    commits.hold()
    count = 8
    with ThreadPoolExecutor(count + 1) as pool:
        first = pool.submit(post, client, path, [make_event(0)], signer)
        assert commits.entered.wait(DEADLINE)
        rest = [pool.submit(post, client, path, [make_event(n), make_event(100 + n)], signer) for n in range(1, 9)]
        wait_until(lambda: queued(client) == count, "the batch queued behind the open commit")
        commits.release()
        assert first.result(DEADLINE).status_code == 200
        failed = [future.result(DEADLINE) for future in rest]

    assert [response.status_code for response in failed] == [503] * count
    assert all(response.json() == {"error": "buffer_unavailable"} for response in failed)
    assert [event.payload["id"] for event in buffer.read(ORG, 0)] == ["0"], "nothing of the failed batch is stored"
    assert buffer.head_position(ORG) == 1
    metrics = client.app.state.receiver.metrics
    assert metrics.value("requests_rejected_total", "buffer_unavailable") == count
    assert metrics.value("events_stored_total") == 1
    state = client.app.state.receiver
    state.started_at = dt.datetime.now(dt.timezone.utc)
    asyncio.run(state._beat())  # refusals the buffer refused wait for the next heartbeat
    assert buffer.first_refusal(ORG, EPOCH, FAR_FUTURE)[1] == "buffer_unavailable", "the next sync heals"

    monkeypatch.setattr(buffer, "_execute", execute)  # the disk is fine again: Zoho's retries are stored
    for n in range(1, count + 1):
        assert post(client, path, [make_event(n), make_event(100 + n)], signer).json() == {"stored": 2, "duplicates": 0}
    assert [event.position for event in buffer.read(ORG, 0)] == list(range(1, 2 * count + 2))


def test_a_delivery_whose_commit_fails_alone_does_not_fail_the_others_of_its_batch(
    buffer, receiver, signer, monkeypatch
):
    """A failure other than the database's state may be one delivery's: the batch is retried one per transaction."""
    client, path = receiver
    commits = Commits(buffer, monkeypatch)
    commits.fail_when = lambda ids: ValueError("cannot store event 5") if "5" in ids else None
    commits.hold()
    with ThreadPoolExecutor(9) as pool:
        first = pool.submit(post, client, path, [make_event(0)], signer)
        assert commits.entered.wait(DEADLINE)
        rest = {n: pool.submit(post, client, path, [make_event(n)], signer) for n in range(1, 9)}
        wait_until(lambda: queued(client) == 8, "the batch queued behind the open commit")
        commits.release()
        assert first.result(DEADLINE).status_code == 200
        statuses = {n: future.result(DEADLINE).status_code for n, future in rest.items()}

    assert statuses == {n: 500 if n == 5 else 200 for n in range(1, 9)}
    assert sorted(commits.batches[1:]) == sorted([str(n)] for n in range(1, 9) if n != 5), "then one at a time"
    assert sorted((event.payload["id"] for event in buffer.read(ORG, 0)), key=int) == [
        str(n) for n in range(9) if n != 5
    ]


def test_an_event_the_database_could_not_store_is_refused_before_it_joins_a_batch(buffer, receiver, signer):
    """PostgreSQL refuses NUL in text, and no driver encodes a lone surrogate: such an eventType is a 400 of its
    own delivery, checked before batching, while the deliveries around it are stored."""
    client, path = receiver
    bad = [dict(make_event(2), eventType="Ticket\x00Update"), dict(make_event(3), eventTime="1\ud800")]
    with ThreadPoolExecutor(4) as pool:
        answers = [
            pool.submit(
                client.post,
                path,
                content=json.dumps(events),
                headers={"X-ZDesk-JWT": signer.token(), "Content-Type": "application/json"},
            )
            for events in ([make_event(1)], [bad[0]], [bad[1]], [make_event(4)])
        ]
        statuses = [answer.result(DEADLINE).status_code for answer in answers]
    assert statuses == [200, 400, 400, 200]
    assert sorted(event.payload["id"] for event in buffer.read(ORG, 0)) == ["1", "4"]


def test_a_delivery_repeated_within_one_batch_is_stored_once(buffer, receiver, signer, monkeypatch):
    client, path = receiver
    commits = Commits(buffer, monkeypatch)
    commits.hold()
    with ThreadPoolExecutor(5) as pool:
        first = pool.submit(post, client, path, [make_event(0)], signer)
        assert commits.entered.wait(DEADLINE)
        repeats = [pool.submit(post, client, path, [make_event(1), make_event(2)], signer) for _ in range(4)]
        wait_until(lambda: queued(client) == 4, "the repeats queued behind the open commit")
        commits.release()
        first.result(DEADLINE)
        answers = sorted((future.result(DEADLINE).json()["stored"] for future in repeats), reverse=True)
    assert answers == [2, 0, 0, 0], "Zoho retried while the first attempt was being committed: one copy is stored"
    assert [event.payload["id"] for event in buffer.read(ORG, 0)] == ["0", "1", "2"]


# ---- the committer alone ---------------------------------------------------------------------------------------------


def encoded(n: int):
    return [encode_event(normalize_event(make_event(n)))]


def test_waiting_deliveries_are_bounded_and_the_next_one_waits_for_room(sqlite_buffer_url, monkeypatch):
    """Back-pressure: with room for 2, a third delivery is not queued until one of the first two is answered."""
    from zoho_desk_webhooks import open_buffer

    with open_buffer(sqlite_buffer_url) as buffer:
        commits = Commits(buffer, monkeypatch)
        commits.hold()

        async def scenario() -> list[int]:
            committer = GroupCommit(buffer, max_pending=2)
            committer.start()
            try:
                first = asyncio.create_task(committer.append(ORG, encoded(1)))
                await until(commits.entered.is_set)
                second = asyncio.create_task(committer.append(ORG, encoded(2)))
                await until(lambda: committer._queue.qsize() == 1)
                third = asyncio.create_task(committer.append(ORG, encoded(3)))
                await until(lambda: committer._room is not None and len(committer._room._waiters or ()) == 1)
                assert committer._queue.qsize() == 1 and not third.done(), "the third waits for room, unqueued"
                commits.release()
                return list(await asyncio.gather(first, second, third))
            finally:
                await committer.stop()

        assert asyncio.run(scenario()) == [1, 1, 1]
        assert [event.payload["id"] for event in buffer.read(ORG, 0)] == ["1", "2", "3"]


def test_stop_commits_and_answers_what_is_queued_and_then_refuses(sqlite_buffer_url, monkeypatch):
    """A graceful shutdown: deliveries queued behind the commit in progress are still committed and answered."""
    from zoho_desk_webhooks import open_buffer

    with open_buffer(sqlite_buffer_url) as buffer:
        commits = Commits(buffer, monkeypatch)
        commits.hold()

        async def scenario():
            committer = GroupCommit(buffer)
            committer.start()
            tasks = [asyncio.create_task(committer.append(ORG, encoded(0)))]
            await until(commits.entered.is_set)
            tasks += [asyncio.create_task(committer.append(ORG, encoded(n))) for n in range(1, 5)]
            await until(lambda: committer._queue.qsize() == 4)
            stopping = asyncio.create_task(committer.stop())
            await until(lambda: committer._queue.qsize() == 5)  # the stop is queued behind them
            commits.release()
            await stopping
            counts = [task.result() for task in tasks]
            with pytest.raises(BufferUnavailable):
                await committer.append(ORG, encoded(9))
            return counts

        assert asyncio.run(scenario()) == [1] * 5
        assert buffer.head_position(ORG) == 5


async def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0.01)


@pytest.fixture
def sqlite_buffer_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/commits.db"

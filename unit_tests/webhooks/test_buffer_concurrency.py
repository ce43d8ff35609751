"""Concurrent writers must never make a reader skip a position (the BIGSERIAL trap)."""

from __future__ import annotations

import sqlite3
import threading

from zoho_desk_webhooks import open_buffer

from .conftest import ORG, make_event

WRITERS = 4
APPENDS_PER_WRITER = 60


def test_concurrent_writers_reader_sees_positions_without_gaps(buffer_url):
    writers_done = threading.Event()
    failures: list[str] = []
    seen: list[int] = []
    new_counts: list[int] = []

    def write(writer: int) -> None:
        with open_buffer(buffer_url) as own:  # own connections: the database does the serializing
            for i in range(APPENDS_PER_WRITER):
                batch = [make_event(writer * 10_000 + i)]
                if i % 5 == 0:
                    batch.append(make_event(writer * 10_000 + i + 5_000))
                if i % 7 == 0:
                    batch.append(make_event(900_000 + i))  # the same event from every writer: a redelivery
                new_counts.append(own.append(ORG, batch))

    def read() -> None:
        try:
            drain_while_written()
        except Exception as exc:  # surface it in the assertion, not as a thread warning
            failures.append(f"reader failed: {exc!r}")

    def drain_while_written() -> None:
        with open_buffer(buffer_url) as reader:
            position = 0
            while True:
                finished = writers_done.is_set()  # then read on until nothing is left
                page = reader.read(ORG, position, limit=50)
                for event in page:
                    if event.position != position + 1:
                        failures.append(f"after {position} came {event.position}")
                    position = event.position
                    seen.append(position)
                if finished and not page:
                    return

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    reader_thread = threading.Thread(target=read)
    reader_thread.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writers_done.set()
    reader_thread.join()

    expected = WRITERS * (APPENDS_PER_WRITER + APPENDS_PER_WRITER // 5) + len(range(0, APPENDS_PER_WRITER, 7))
    assert failures == []
    assert sum(new_counts) == expected
    assert seen == list(range(1, expected + 1))
    with open_buffer(buffer_url) as check:
        assert check.head_position(ORG) == expected
        payload_ids = [e.payload["id"] for e in check.read(ORG, 0, limit=10_000)]
    assert len(payload_ids) == len(set(payload_ids)) == expected


def test_one_buffer_shared_by_threads(buffer):
    """The receiver shares one buffer (a connection pool) between its worker threads."""

    def write(writer: int) -> None:
        for i in range(40):
            buffer.append(ORG, [make_event(writer * 1000 + i)])

    threads = [threading.Thread(target=write, args=(w,)) for w in range(12)]  # more threads than connections
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [e.position for e in buffer.read(ORG, 0, limit=1000)] == list(range(1, 481))


def test_a_fresh_sqlite_buffer_opens_while_another_connection_writes(tmp_path):
    """SQLite refuses the switch to WAL at once (no busy wait) while another connection holds a write lock
    on a rollback-journal database: a receiver and a sync opening a new buffer together must both succeed."""
    path = tmp_path / "buffer.db"
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    blocker.execute("CREATE TABLE unrelated (a)")  # a real database file, still in rollback-journal mode
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("INSERT INTO unrelated VALUES (1)")
    release = threading.Timer(0.3, lambda: blocker.execute("COMMIT"))
    release.start()
    try:
        with open_buffer(f"sqlite:///{path}") as opened:
            assert opened.append(ORG, [make_event(1)]) == 1
            assert [event.position for event in opened.read(ORG, 0, limit=10)] == [1]
    finally:
        release.join()
        blocker.close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"

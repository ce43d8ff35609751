"""Concurrent writers must never make a reader skip a position (the BIGSERIAL trap)."""

from __future__ import annotations

import threading

from source_zoho_desk.webhooks import open_buffer

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

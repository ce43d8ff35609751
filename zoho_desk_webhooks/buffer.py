"""Durable, deduplicating buffer of webhook events, shared by the receiver and the connector.

One class holds all the behaviour and all the SQL; `sqlite_buffer` and `postgres_buffer` only say
how to connect, how to open a write transaction and how timestamps are stored.

Positions: every org has a row in `webhook_positions` whose `last_position` is the highest committed
position. `append` locks that row (SQLite: BEGIN IMMEDIATE locks the whole database; PostgreSQL:
the upsert below takes a row lock) and holds the lock until commit, so the appends of one org
commit one after another and positions become visible in increasing order with no gap filled in
later. A BIGSERIAL would not do: with concurrent writers, position 11 can commit before 10, a
reader that saw 11 saves it, and 10 is never read. A lock per org (instead of a table lock) keeps
different orgs from waiting for each other.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Collection, Iterator, Sequence, TypeVar

from .coverage import Interval, uncovered
from .errors import BufferUnavailable, EventBufferError, InvalidBufferUrl  # noqa: F401 (re-exported)
from .events import EncodedEvent, encode_event, normalize_event
from .models import Endpoint, OrgHead, StoredEvent
from .redaction import redact_url  # also imported from here by the connector (incremental.read, webhook_registration)

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_positions (
    org_id TEXT PRIMARY KEY,
    last_position BIGINT NOT NULL,   -- highest committed position, this row is the append lock
    pruned_through BIGINT NOT NULL   -- highest position ever deleted by retention
);
CREATE TABLE IF NOT EXISTS webhook_events (
    org_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    event_key TEXT NOT NULL,         -- sha256 of the canonical event JSON
    event_type TEXT NOT NULL,
    event_time TEXT NOT NULL,
    payload TEXT NOT NULL,           -- JSON text, never queried by SQL (jsonb would refuse \\u0000)
    prev_state TEXT,
    received_at {timestamp} NOT NULL,
    PRIMARY KEY (org_id, position),
    UNIQUE (org_id, event_key)
);
CREATE INDEX IF NOT EXISTS webhook_events_received_at ON webhook_events (received_at);
CREATE TABLE IF NOT EXISTS webhook_heartbeats (
    receiver_id TEXT NOT NULL,
    started_at {timestamp} NOT NULL,
    last_seen {timestamp} NOT NULL,
    stopped INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (receiver_id, started_at)
);
CREATE TABLE IF NOT EXISTS webhook_refusals (
    org_id TEXT NOT NULL,
    refused_at {timestamp} NOT NULL,  -- a delivery on a valid endpoint path the receiver could not store
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_refusals_org_time ON webhook_refusals (org_id, refused_at);
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    endpoint_id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    jwks_url TEXT NOT NULL,
    webhook_id TEXT,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at {timestamp} NOT NULL
)
"""

# Upserting the counter row both creates it and locks it for the rest of the transaction, and
# returns the values committed by whoever held the lock before us.
LOCK_COUNTER = """
INSERT INTO webhook_positions (org_id, last_position, pruned_through) VALUES (?, 0, 0)
ON CONFLICT (org_id) DO UPDATE SET last_position = webhook_positions.last_position
RETURNING last_position
"""
# One statement for many rows (`, (...)` repeated): executemany would run one per row, and in the receiver's commit
# thread each statement is a trip out of and back into Python's GIL, which the event loop holds most of the time.
INSERT_EVENTS = """
INSERT INTO webhook_events
    (org_id, position, event_key, event_type, event_time, payload, prev_state, received_at)
VALUES """
EVENT_ROW = "(?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_CHUNK = 500  # rows per INSERT: 4,000 parameters, under SQLite's 32,766 and PostgreSQL's 65,535
ENDPOINT_COLUMNS = "endpoint_id, org_id, jwks_url, webhook_id, created_at"
KEY_CHUNK = 500  # keeps IN (...) lists well under every driver's parameter limit


def open_buffer(url: str) -> "EventBuffer":
    """Open (and create if needed) the buffer at `sqlite:////absolute/path.db` or `postgresql://...`."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        from .sqlite_buffer import SqliteEventBuffer

        return SqliteEventBuffer(url)
    if scheme in ("postgresql", "postgres"):
        from .postgres_buffer import PostgresEventBuffer

        return PostgresEventBuffer(url)
    raise InvalidBufferUrl(
        f"unsupported buffer URL {redact_url(url)!r}: use sqlite:////absolute/path.db or postgresql://user@host:port/db"
    )


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class EventBuffer:
    """The buffer's behaviour; subclasses provide the driver-specific hooks at the bottom."""

    timestamp_type = "TEXT"

    def __init__(self, url: str, *, max_connections: int = 8, acquire_timeout: float = 30.0) -> None:
        self.url = url
        self._pool = self._open_pool(max_connections, acquire_timeout)
        try:
            self._with_connection(self._create_schema)
        except BaseException:
            self.close()  # psycopg_pool's worker threads must not outlive a buffer that failed to open
            raise

    # ---- events -------------------------------------------------------------------------------

    def append(self, org_id: str, events: list[dict]) -> int:
        """Store `events` in one transaction, ignoring ones already stored; return how many were new."""
        encoded = []
        for raw in events:
            event = normalize_event(raw)
            if event["orgId"] != org_id:
                raise ValueError(f"event of org {event['orgId']} appended to org {org_id}")
            encoded.append(encode_event(event))
        return self.append_batch([(org_id, encoded)])[0]

    def append_batch(self, deliveries: Sequence[tuple[str, Sequence[EncodedEvent]]]) -> list[int]:
        """Store several deliveries (org id, its events) in one transaction: all of them or, if it fails, none.
        Events already stored, or earlier in the batch, are ignored; returns how many of each delivery's were new.

        The orgs' counter rows are locked in org order, so that two receivers committing batches of the same orgs
        on one PostgreSQL cannot deadlock."""
        new: list[list[EncodedEvent]] = [[] for _ in deliveries]  # each key in the first delivery that has it
        by_org: dict[str, set[str]] = {}
        for index, (org_id, events) in enumerate(deliveries):
            for event in events:
                keys = by_org.setdefault(org_id, set())
                if event.key not in keys:
                    keys.add(event.key)
                    new[index].append(event)
        if not by_org:
            return [0] * len(deliveries)

        def work(conn: Any) -> list[int]:
            counts = [0] * len(deliveries)
            with self._transaction(conn) as cur:
                for org_id in sorted(by_org):
                    last = self._execute(cur, LOCK_COUNTER, (org_id,)).fetchone()[0]
                    received_at = self._to_db_time(utc_now())  # taken under the lock: monotonic with position
                    known = self._existing_keys(cur, org_id, list(by_org[org_id]))
                    rows = []
                    for index, (delivery_org, _) in enumerate(deliveries):
                        if delivery_org != org_id:
                            continue
                        for event in new[index]:
                            if event.key in known:
                                continue
                            last += 1
                            counts[index] += 1
                            rows.append(
                                (
                                    org_id,
                                    last,
                                    event.key,
                                    event.event_type,
                                    event.event_time,
                                    event.payload,
                                    event.prev_state,
                                    received_at,
                                )
                            )
                    if rows:
                        for start in range(0, len(rows), INSERT_CHUNK):
                            chunk = rows[start : start + INSERT_CHUNK]
                            sql = INSERT_EVENTS + ", ".join([EVENT_ROW] * len(chunk))
                            self._execute(cur, sql, [value for row in chunk for value in row])
                        self._execute(
                            cur, "UPDATE webhook_positions SET last_position = ? WHERE org_id = ?", (last, org_id)
                        )
            return counts

        return self._with_connection(work)

    def head_position(self, org_id: str) -> int:
        """Highest committed position of the org, 0 when it has none."""
        row = self._query_one("SELECT last_position FROM webhook_positions WHERE org_id = ?", (org_id,))
        return 0 if row is None else int(row[0])

    def org_heads(self) -> list[OrgHead]:
        """Every org's head position, retention mark and newest event's receive time, in one cheap query (the
        newest event is the one at the head: receive times are taken under the append lock)."""
        rows = self._query_all(
            "SELECT p.org_id, p.last_position, p.pruned_through, e.received_at FROM webhook_positions p"
            " LEFT JOIN webhook_events e ON e.org_id = p.org_id AND e.position = p.last_position ORDER BY p.org_id"
        )
        return [
            OrgHead(
                org_id=org,
                head_position=int(head),
                pruned_through=int(pruned),
                last_received_at=None if received is None else self._from_db_time(received),
            )
            for org, head, pruned, received in rows
        ]

    def read(
        self, org_id: str, after: int, event_types: Collection[str] | None = None, limit: int = 1000
    ) -> list[StoredEvent]:
        """Events of the org with position > `after`, in position order.

        Check `pruned_through(org_id)` after reading: if it is above `after`, events in
        (after, pruned_through] may have been deleted by retention before they were read.
        """
        if limit <= 0:
            raise ValueError("limit must be positive")
        sql = (
            "SELECT position, event_type, event_time, payload, prev_state, received_at"
            " FROM webhook_events WHERE org_id = ? AND position > ?"
        )
        params: list[Any] = [org_id, after]
        if event_types is not None:
            types = sorted({event_types} if isinstance(event_types, str) else set(event_types))
            if not types:
                return []
            sql += f" AND event_type IN ({_placeholders(len(types))})"
            params += types
        sql += " ORDER BY position LIMIT ?"
        params.append(limit)
        return [
            StoredEvent(
                position=int(pos),
                org_id=org_id,
                event_type=etype,
                event_time=etime,
                payload=json.loads(payload),
                prev_state=None if prev is None else json.loads(prev),
                received_at=self._from_db_time(received),
            )
            for pos, etype, etime, payload, prev, received in self._query_all(sql, params)
        ]

    # ---- retention ----------------------------------------------------------------------------

    def prune(self, org_id: str, before_position: int) -> int:
        """Delete the org's events with position < `before_position`; return how many went."""

        def work(conn: Any) -> int:
            with self._transaction(conn) as cur:
                top = self._execute(
                    cur,
                    "SELECT MAX(position) FROM webhook_events WHERE org_id = ? AND position < ?",
                    (org_id, before_position),
                ).fetchone()[0]
                if top is None:
                    return 0
                deleted = self._execute(
                    cur, "DELETE FROM webhook_events WHERE org_id = ? AND position <= ?", (org_id, top)
                ).rowcount
                self._execute(
                    cur,
                    "UPDATE webhook_positions SET pruned_through = ? WHERE org_id = ? AND pruned_through < ?",
                    (top, org_id, top),
                )
                return deleted

        return self._with_connection(work)

    def prune_older_than(self, age: timedelta, *, now: datetime | None = None) -> int:
        """Delete events received more than `age` ago (and old heartbeats); return how many events went.

        Per org everything up to the newest old-enough event goes, so what is left stays contiguous.
        """
        cutoff = self._to_db_time((now or utc_now()) - age)
        tops = self._query_all(
            "SELECT org_id, MAX(position) FROM webhook_events WHERE received_at < ? GROUP BY org_id", (cutoff,)
        )
        deleted = sum(self.prune(org_id, int(top) + 1) for org_id, top in tops)
        for table, column in (("webhook_heartbeats", "last_seen"), ("webhook_refusals", "refused_at")):
            self._with_connection(
                functools.partial(
                    self._run_in_transaction, sql=f"DELETE FROM {table} WHERE {column} < ?", params=(cutoff,)
                )
            )
        return deleted

    def pruned_through(self, org_id: str) -> int:
        """Highest position ever deleted by retention (0 if none)."""
        row = self._query_one("SELECT pruned_through FROM webhook_positions WHERE org_id = ?", (org_id,))
        return 0 if row is None else int(row[0])

    # ---- receiver coverage --------------------------------------------------------------------

    def record_heartbeat(self, receiver_id: str, started_at: datetime, now: datetime, *, stopped: bool = False) -> None:
        """Record that `receiver_id`, running since `started_at`, was up at `now`; `stopped` when it shuts down."""
        _require_aware(started_at, now)
        self._with_connection(
            lambda conn: self._run_in_transaction(
                conn,
                "INSERT INTO webhook_heartbeats (receiver_id, started_at, last_seen, stopped) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (receiver_id, started_at) DO UPDATE SET last_seen = CASE"
                " WHEN excluded.last_seen > webhook_heartbeats.last_seen THEN excluded.last_seen"
                " ELSE webhook_heartbeats.last_seen END,"
                " stopped = CASE WHEN excluded.stopped = 1 THEN 1 ELSE webhook_heartbeats.stopped END",
                (receiver_id, self._to_db_time(started_at), self._to_db_time(now), int(stopped)),
            )
        )

    def uncovered_intervals(self, since: datetime, until: datetime, grace: timedelta) -> list[Interval]:
        """Sub-intervals of [since, until] when no receiver was up.

        A receiver covers [started_at, last_seen + grace]: it may be alive between heartbeats, so
        pick `grace` a few heartbeat intervals long (a receiver killed right after a heartbeat is
        counted as up for `grace` longer). One that shut down cleanly covers [started_at, last_seen]
        exactly: a restart is then a gap however short, since Zoho may not resend what it missed.
        """
        _require_aware(since, until)
        if until < since:
            raise ValueError("until is before since")
        rows = self._query_all(
            "SELECT started_at, last_seen, stopped FROM webhook_heartbeats WHERE started_at <= ? AND last_seen >= ?",
            (self._to_db_time(until), self._to_db_time(since - grace)),
        )
        covered = [
            (self._from_db_time(start), self._from_db_time(seen) + (timedelta(0) if stopped else grace))
            for start, seen, stopped in rows
        ]
        return uncovered(since, until, covered)

    def record_refusal(self, org_id: str, reason: str, at: datetime | None = None) -> None:
        """Record that a delivery for `org_id` was refused with a server error (Zoho may not resend it)."""
        moment = at or self.clock()  # coverage times are the buffer's
        _require_aware(moment)
        self._with_connection(
            lambda conn: self._run_in_transaction(
                conn,
                "INSERT INTO webhook_refusals (org_id, refused_at, reason) VALUES (?, ?, ?)",
                (org_id, self._to_db_time(moment), reason),
            )
        )

    def first_refusal(self, org_id: str, since: datetime, until: datetime) -> tuple[datetime, str] | None:
        """The earliest refusal for `org_id` in [since, until], with its reason."""
        _require_aware(since, until)
        row = self._query_one(
            "SELECT refused_at, reason FROM webhook_refusals WHERE org_id = ? AND refused_at >= ? AND refused_at <= ?"
            " ORDER BY refused_at LIMIT 1",
            (org_id, self._to_db_time(since), self._to_db_time(until)),
        )
        return None if row is None else (self._from_db_time(row[0]), str(row[1]))

    # ---- endpoints ----------------------------------------------------------------------------

    def create_endpoint(self, org_id: str, jwks_url: str, webhook_id: str | None = None) -> tuple[str, str]:
        """Create an endpoint; return (endpoint_id, token). The token cannot be recovered later."""
        endpoint_id, token = secrets.token_hex(8), secrets.token_urlsafe(32)
        self._with_connection(
            lambda conn: self._run_in_transaction(
                conn,
                f"INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}, token_sha256) VALUES (?, ?, ?, ?, ?, ?)",
                (endpoint_id, org_id, jwks_url, webhook_id, self._to_db_time(utc_now()), token_digest(token)),
            )
        )
        return endpoint_id, token

    def find_endpoint(self, token: str) -> Endpoint | None:
        return self.find_endpoint_by_digest(token_digest(token))

    def find_endpoint_by_digest(self, digest: str) -> Endpoint | None:
        """The endpoint whose token has this sha256 (the receiver keeps digests, not tokens)."""
        # The lookup by hash can only leak timing about the hash, which tells nothing about the
        # token; the constant-time compare guards against a sloppy collation all the same.
        row = self._query_one(
            f"SELECT {ENDPOINT_COLUMNS}, token_sha256 FROM webhook_endpoints WHERE token_sha256 = ?", (digest,)
        )
        if row is None or not hmac.compare_digest(row[5], digest):
            return None
        return self._endpoint(row)

    def list_endpoints(self) -> list[Endpoint]:
        rows = self._query_all(f"SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, endpoint_id")
        return [self._endpoint(row) for row in rows]

    def delete_endpoint(self, endpoint_id: str) -> bool:
        return (
            self._with_connection(
                lambda conn: self._run_in_transaction(
                    conn, "DELETE FROM webhook_endpoints WHERE endpoint_id = ?", (endpoint_id,)
                )
            )
            > 0
        )

    def set_webhook_id(self, endpoint_id: str, webhook_id: str | None) -> bool:
        return (
            self._with_connection(
                lambda conn: self._run_in_transaction(
                    conn, "UPDATE webhook_endpoints SET webhook_id = ? WHERE endpoint_id = ?", (webhook_id, endpoint_id)
                )
            )
            > 0
        )

    # ---- lifecycle ----------------------------------------------------------------------------

    def ping(self) -> None:
        """Raise BufferUnavailable unless the database answers."""
        self._query_one("SELECT 1")

    def check_writable(self) -> None:
        """Raise BufferUnavailable unless the buffer takes a write (a file SQLite opened read-only, a read-only
        database, missing rights), which is rolled back. A full disk may take it yet fail a commit: at run time the
        heartbeat is the receiver's probe."""

        def work(conn: Any) -> None:
            try:
                with self._transaction(conn) as cur:
                    self._execute(
                        cur,
                        "INSERT INTO webhook_refusals (org_id, refused_at, reason) VALUES (?, ?, ?)",
                        ("", self._to_db_time(utc_now()), "write probe"),
                    )
                    raise _RollBack
            except _RollBack:
                pass

        try:
            self._with_connection(work)
        except BufferUnavailable as exc:
            raise BufferUnavailable(f"the buffer cannot be written: {exc}") from exc

    def clock(self) -> datetime:
        """The time coverage is measured in. Receivers and syncs may run on hosts whose clocks disagree, so both
        read the buffer's clock; an embedded SQLite buffer lives on one host, whose clock it is."""
        return utc_now()

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> "EventBuffer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact_url(self.url)!r})"

    # ---- plumbing -----------------------------------------------------------------------------

    def _endpoint(self, row: Any) -> Endpoint:
        return Endpoint(
            endpoint_id=row[0], org_id=row[1], jwks_url=row[2], webhook_id=row[3], created_at=self._from_db_time(row[4])
        )

    def _create_schema(self, conn: Any) -> None:
        with self._transaction(conn) as cur:
            self._before_schema(cur)
            for statement in SCHEMA.format(timestamp=self.timestamp_type).split(";"):  # no ';' in comments
                cur.execute(statement)

    def _existing_keys(self, cur: Any, org_id: str, keys: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), KEY_CHUNK):
            chunk = keys[start : start + KEY_CHUNK]
            sql = (
                f"SELECT event_key FROM webhook_events WHERE org_id = ? AND event_key IN ({_placeholders(len(chunk))})"
            )
            found.update(row[0] for row in self._execute(cur, sql, (org_id, *chunk)).fetchall())
        return found

    def _execute(self, cur: Any, sql: str, params: Any) -> Any:
        cur.execute(self._sql(sql), params)
        return cur

    def _run_in_transaction(self, conn: Any, sql: str, params: Any) -> int:
        with self._transaction(conn) as cur:
            return self._execute(cur, sql, params).rowcount

    def _query_one(self, sql: str, params: Any = ()) -> Any:
        return self._with_connection(lambda conn: self._execute(conn.cursor(), sql, params).fetchone())

    def _query_all(self, sql: str, params: Any = ()) -> list[Any]:
        return self._with_connection(lambda conn: self._execute(conn.cursor(), sql, params).fetchall())

    # ---- driver hooks -------------------------------------------------------------------------

    def _open_pool(self, size: int, acquire_timeout: float) -> Any:
        """The connections' pool: at most `size` connections, waiting up to `acquire_timeout` for one; its
        `close()` closes them."""
        raise NotImplementedError

    def _with_connection(self, work: Callable[[Any], T]) -> T:
        """`work(connection)` on a pooled connection; database errors surface as BufferUnavailable."""
        raise NotImplementedError

    @contextmanager
    def _transaction(self, conn: Any) -> Iterator[Any]:
        """A write transaction that holds the database's write lock semantics described above."""
        raise NotImplementedError
        yield

    def _before_schema(self, cur: Any) -> None:
        """Serialize concurrent schema creation where the database needs it."""

    def _sql(self, sql: str) -> str:
        """Translate the `?` placeholders used above to the driver's style."""
        return sql

    def _to_db_time(self, value: datetime) -> Any:
        return value

    def _from_db_time(self, value: Any) -> datetime:
        return value


class _RollBack(Exception):
    """Raised inside a transaction to undo it."""


def _require_aware(*values: datetime) -> None:
    for value in values:
        if value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware (use UTC)")


def _placeholders(count: int) -> str:
    return ", ".join(["?"] * count)

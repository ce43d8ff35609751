"""End-to-end rig for incremental syncs from webhooks, with nothing mocked.

    simulator mutation -> JWT-signed POST -> `zoho-desk-webhooks serve` (a subprocess) -> buffer (SQLite or
    PostgreSQL) -> SourceZohoDesk incremental read -> DedupDestination

`WebhookRig` starts the receiver on a fixed port (so a restarted receiver keeps the URL Zoho knows), creates the
endpoint and registers the webhook with `zoho-desk-webhooks register`, then runs syncs that carry state and
refreshed tokens from one to the next, as the platform would.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import socket
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import requests
from airbyte_cdk.models import AirbyteStateMessage, Level, SyncMode, Type
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read

from integration_tests.simulator import RequestRecord, ZohoDeskSimulator
from source_zoho_desk.incremental.streams import CURSOR_FIELD, DELETED_AT_FIELD
from source_zoho_desk.source import SourceZohoDesk
from source_zoho_desk.webhook_registration import main as webhooks_cli
from unit_tests.webhooks.served import ServedReceiver
from zoho_desk_webhooks import open_buffer

STREAMS = ("tickets", "departments")
# What "the same row" means when comparing the destination with the simulator's store.
COMPARED_FIELDS = {"tickets": ("modifiedTime", "subject", "status"), "departments": ("name", "isEnabled")}
LIST_PATHS = {"/api/v1/tickets", "/api/v1/tickets/search", "/api/v1/departments"}


class DedupDestination:
    """What an Airbyte append+dedup destination keeps: per id, the record with the highest `_ab_cdc_cursor` (a tie
    goes to the later one); the row is gone when that record carries `_ab_cdc_deleted_at`."""

    def __init__(self) -> None:
        self._latest: Dict[str, Dict[str, Tuple[Tuple[int, int], Dict[str, Any]]]] = defaultdict(dict)
        self._emitted = 0

    def apply(self, records: Iterable[Tuple[str, Dict[str, Any]]]) -> None:
        for stream, data in records:
            self._emitted += 1
            assert CURSOR_FIELD in data, f"{stream} record without {CURSOR_FIELD}: {data}"
            rank = (int(data[CURSOR_FIELD]), self._emitted)
            key = str(data["id"])
            current = self._latest[stream].get(key)
            if current is None or rank > current[0]:
                self._latest[stream][key] = (rank, data)

    def rows(self, stream: str) -> Dict[str, Dict[str, Any]]:
        return {key: data for key, (_, data) in self._latest[stream].items() if data.get(DELETED_AT_FIELD) is None}

    def view(self, stream: str) -> Dict[str, Tuple[Any, ...]]:
        return {key: tuple(row.get(f) for f in COMPARED_FIELDS[stream]) for key, row in self.rows(stream).items()}


def store_view(sim: ZohoDeskSimulator, stream: str) -> Dict[str, Tuple[Any, ...]]:
    with sim.lock:
        return {str(r["id"]): tuple(r.get(f) for f in COMPARED_FIELDS[stream]) for r in sim.store[stream].values()}


@dataclass
class SyncResult:
    output: EntrypointOutput
    records: List[Tuple[str, Dict[str, Any]]]
    state: Dict[str, Dict[str, Any]]  # the final stream state of each stream
    requests: List[RequestRecord]  # the Desk API calls made during the sync

    def records_of(self, stream: str) -> List[Dict[str, Any]]:
        return [data for name, data in self.records if name == stream]

    @property
    def list_calls(self) -> List[str]:
        return [r.path for r in self.requests if r.path in LIST_PATHS]

    @property
    def warnings(self) -> List[str]:
        return [m.log.message for m in self.output.logs if m.log.level == Level.WARN]


class WebhookRig:
    def __init__(self, sim: ZohoDeskSimulator, buffer_url: str, workdir: Path) -> None:
        self.sim, self.buffer_url = sim, buffer_url
        sim.settings.auto_deliver = False  # tests say when Zoho delivers: sim.deliver_pending() / rig.deliver()
        sim.settings.webhook_timeout = 30.0  # Zoho's 5-10 s would fail deliveries on a loaded test machine
        self.buffer = open_buffer(buffer_url)
        self.endpoint_id, self.token = self.buffer.create_endpoint(sim.org_id, sim.jwks_url)
        self.port = _free_port()
        self.receiver: Optional[ServedReceiver] = None
        self.start_receiver()
        self.url = f"http://127.0.0.1:{self.port}/webhooks/{self.token}"
        config_path = workdir / "config.json"
        config_path.write_text(json.dumps(sim.config()))
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = webhooks_cli(
                [
                    "register",
                    "--config",
                    str(config_path),
                    "--url",
                    self.url,
                    "--buffer-url",
                    buffer_url,
                    "--endpoint-id",
                    self.endpoint_id,
                ]
            )
        assert code == 0, stderr.getvalue()
        self.webhook_id = stdout.getvalue().strip()
        self.config = {**json.loads(config_path.read_text()), "webhook_buffer_url": buffer_url}
        self.state: List[AirbyteStateMessage] = []
        self.destination = DedupDestination()
        self.catalog = (
            CatalogBuilder()
            .with_stream("tickets", SyncMode.incremental)
            .with_stream("departments", SyncMode.incremental)
            .build()
        )

    # ---- receiver -----------------------------------------------------------------------------

    def start_receiver(self) -> None:
        self.receiver = ServedReceiver(self.buffer_url, port=self.port)

    def stop_receiver(self) -> None:
        """SIGTERM: the receiver shuts down cleanly and records when it stopped."""
        assert self.receiver is not None
        self.receiver.stop()
        self.receiver = None

    def kill_receiver(self) -> None:
        """SIGKILL: no shutdown code, no last heartbeat."""
        assert self.receiver is not None
        self.receiver.kill()
        self.receiver = None

    def post(self, body: Any, *, jwt: Optional[str] = None, token: Optional[str] = None) -> requests.Response:
        """A delivery made by hand; `body` is JSON-encoded unless it is bytes. Signed as Zoho would by default."""
        headers = {
            "Content-Type": "application/json",
            "X-ZDesk-JWT": jwt or self.sim.signer.sign(self.sim.org_id, self.webhook_id, 300),
        }
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return requests.post(
            f"http://127.0.0.1:{self.port}/webhooks/{token or self.token}", data=data, headers=headers, timeout=30
        )

    def deliver(self) -> List[Tuple[str, int]]:
        """Zoho sends everything queued now; every delivery must be acknowledged."""
        results = self.sim.deliver_pending()
        assert results and all(status == 200 for _, status in results), results
        return results

    # ---- syncs --------------------------------------------------------------------------------

    def sync(self) -> SyncResult:
        self.sim.reset_requests()
        state = self.state or None
        source = SourceZohoDesk(config=copy.deepcopy(self.config), catalog=self.catalog, state=state)
        output = read(source, copy.deepcopy(self.config), self.catalog, state)
        assert not output.errors, output.get_formatted_error_message()
        for message in output.get_message_by_types([Type.CONTROL]):  # refreshed tokens, as the platform keeps them
            self.config = {**message.control.connectorConfig.config, "webhook_buffer_url": self.buffer_url}
        finals: Dict[str, AirbyteStateMessage] = {}
        for message in output.state_messages:
            finals[message.state.stream.stream_descriptor.name] = message.state
        assert set(finals) == set(STREAMS), f"no final state for {set(STREAMS) - set(finals)}"
        self.state = list(finals.values())
        records = [(m.record.stream, m.record.data) for m in output.records]
        self.destination.apply(records)
        return SyncResult(
            output,
            records,
            {name: dict(m.stream.stream_state.__dict__) for name, m in finals.items()},
            self.sim.desk_requests(),
        )

    def assert_exact(self) -> None:
        """The destination holds exactly the simulator's current tickets and departments."""
        for stream in STREAMS:
            expected, got = store_view(self.sim, stream), self.destination.view(stream)
            missing = sorted(set(expected) - set(got))
            extra = sorted(set(got) - set(expected))
            wrong = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])
            assert not (missing or extra or wrong), (
                f"{stream}: missing {missing[:5]}, extra {extra[:5]}, "
                f"wrong {[(k, got[k], expected[k]) for k in wrong[:5]]}"
            )

    def close(self) -> None:
        if self.receiver is not None:
            self.receiver.kill()
        self.buffer.close()


@contextlib.contextmanager
def mutations_during_ticket_snapshot(sim: ZohoDeskSimulator, mutate: Callable[[], None]) -> Iterator[threading.Event]:
    """Runs `mutate` on another thread while the tickets snapshot is between pages.

    The first tickets list request for a later page (`from` > 0) starts `mutate` and is held until `mutate` returns,
    so the mutations (and their deliveries, if `mutate` delivers) happen after the first page was read and before
    the next, whatever the machine's speed. Yields an event set once `mutate` has run."""
    original = sim.gateway.handle
    started, finished = threading.Event(), threading.Event()
    failure: List[BaseException] = []

    def run() -> None:
        started.wait()
        try:
            mutate()
        except BaseException as exc:  # reported by the test, not lost in the thread
            failure.append(exc)
        finally:
            finished.set()

    def handle(method: str, path: str, query: dict, headers: dict, body: bytes) -> tuple:
        if (
            method == "GET"
            and path in ("/api/v1/tickets", "/api/v1/tickets/search")
            and str(query.get("from", "0")) not in ("0", "")
        ):
            started.set()
            assert finished.wait(60), "the mutations did not finish"
        return original(method, path, query, headers, body)

    thread = threading.Thread(target=run, name="mutations-during-snapshot", daemon=True)
    thread.start()
    sim.gateway.handle = handle  # type: ignore[method-assign]
    try:
        yield finished
    finally:
        sim.gateway.handle = original  # type: ignore[method-assign]
        started.set()
        thread.join(60)
    if failure:
        raise failure[0]


def reorder_across_modules(sim: ZohoDeskSimulator, first_prefix: str = "Department_") -> None:
    """Zoho keeps the order within a module, not across modules: send the queued `first_prefix` events before the
    others, keeping the order inside each module."""
    with sim.hub.cond:
        pending = sorted(sim.hub.pending, key=lambda p: p.seq)
        ordered = [p for p in pending if p.event["eventType"].startswith(first_prefix)] + [
            p for p in pending if not p.event["eventType"].startswith(first_prefix)
        ]
        for new_seq, item in zip(sorted(p.seq for p in pending), ordered, strict=True):
            item.seq = new_seq


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

"""One seeded run of the whole system, for integration_tests/test_system_simulation.py.

    random creates/updates/deletes in the simulator -> Zoho's deliveries (duplicated, reordered across records,
    delayed past syncs, dropped, attempted while the receiver is down) -> `zoho-desk-webhooks serve` (restarted
    cleanly or killed with SIGKILL now and then) -> buffer -> incremental syncs in between -> DedupDestination

`SystemRun.play()` returns a `Verdict`: what the destination got wrong, and which of that the model expected.

What Zoho is assumed to do, from docs/reference and the harness: it keeps the order of the events of one record (it
keeps the order within a module), so a record's events are never reordered, and a held-back event holds back the
later events of its record; it may resend an event it already delivered (a duplicate, at once or much later); when
the receiver does not answer it retries after a SIGKILL restart (within the coverage grace nothing else could tell
the loss) and gives up after a clean stop (the stop is recorded, and the next sync heals by re-reading the API).

Two kinds of loss cannot be recovered by webhooks alone, and the ids they touch are the only ones allowed to differ:
* a delivery Zoho drops while the receiver is up: nothing records it;
* a delivery Zoho gives up on during a clean stop that comes less than COVERAGE_GRACE after a SIGKILL: the killed
  receiver counts as up for the grace after its last heartbeat, and that covers the stop's gap, so no sync heals it.
With `incremental_mode: both` every sync also polls Zoho's ticket search by modified time (and its recycle bin), so
there no ticket may differ at all; departments have no search, and keep the webhook-only rule.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from integration_tests.simulator import ZohoDeskSimulator
from integration_tests.webhook_harness import COMPARED_FIELDS, STREAMS, WebhookRig, store_view
from zoho_desk_webhooks.coverage import COVERAGE_GRACE

Record = Tuple[str, str]  # (stream, id)
STORED, DROPPED, LOST_IN_STOP = "stored", "dropped while the receiver was up", "lost while the receiver was stopped"
LOST_IN_KILL_GRACE = "lost during a stop inside a killed receiver's grace"
UNRECOVERABLE = (DROPPED, LOST_IN_KILL_GRACE)
SNAPSHOT_PATHS = {"tickets": ("/api/v1/tickets", "/api/v1/tickets/search"), "departments": ("/api/v1/departments",)}


@dataclass
class Mutation:
    index: int
    record: Record
    kind: str
    seqs: List[int]  # the webhook events it queued, by the simulator hub's sequence number


@dataclass
class Verdict:
    mismatched: Dict[str, List[str]]  # stream -> ids whose destination row differs from the store
    unrecoverable: Dict[str, Set[str]]  # stream -> ids with an event lost for good (see UNRECOVERABLE)
    surely_wrong: Dict[str, Set[str]]  # stream -> ids that cannot be right: their last change was lost for good
    counts: Dict[str, int]

    def summary(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.counts.items())


@dataclass
class Knobs:
    """This seed's Zoho: how often it drops, duplicates and holds back events, how it batches them."""

    drop: float
    duplicate: float
    delay: float
    batch: int
    event_time_format: str
    delete_also_sends_update: bool

    @classmethod
    def draw(cls, rng: random.Random) -> "Knobs":
        return cls(
            drop=rng.choice([0.0, 0.05, 0.15]),
            duplicate=rng.choice([0.0, 0.2, 0.5]),
            delay=rng.choice([0.0, 0.2, 0.4]),
            batch=rng.randint(1, 3),
            event_time_format=rng.choice(["epoch_ms", "iso"]),
            delete_also_sends_update=rng.random() < 0.3,
        )


class SystemRun:
    def __init__(self, seed: int, buffer_url: str, workdir: Path, mode: str = "webhooks", steps: int = 16) -> None:
        self.seed, self.steps, self.mode = seed, steps, mode
        self.polled = {"tickets"} if mode == "both" else set()  # streams whose every sync reconciles by search
        self.rng = random.Random(seed)
        self.knobs = Knobs.draw(self.rng)
        self.sim = ZohoDeskSimulator(
            seed=1000 + seed, tickets=12, departments=3, products=1, contracts=1, contacts=3, accounts=2, agents=2
        )
        self.sim.settings.tokens_per_refresh_window = 1000  # many syncs on one refresh token
        self.sim.settings.event_time_format = self.knobs.event_time_format
        self.sim.settings.delete_also_sends_update = self.knobs.delete_also_sends_update
        self.sim.webhook_faults.duplicate = self.knobs.duplicate
        self.sim.webhook_faults.batch = self.knobs.batch
        self.buffer_url, self.workdir = buffer_url, workdir
        self.rig: Optional[WebhookRig] = None
        self.log: List[str] = [f"seed {seed}, incremental_mode {mode}: {self.knobs}"]
        self.mutations: List[Mutation] = []
        self.mutation_of_seq: Dict[int, Mutation] = {}
        self.fate: Dict[int, str] = {}  # seq -> STORED / DROPPED / LOST_IN_STOP (absent: not delivered yet)
        self.delivered_events: List[dict] = []
        self.snapshot_after: Dict[str, int] = {stream: -1 for stream in STREAMS}  # last mutation a snapshot saw
        self.receiver_state = "up"  # up / killed / stopped
        self.killed_at: Optional[float] = None  # time.monotonic() of the last SIGKILL
        self.counts: Dict[str, int] = defaultdict(int)
        self._last_seq = 0

    # ---- the run ----------------------------------------------------------------------------------------------

    def play(self) -> Verdict:
        self.sim.start()
        self.rig = WebhookRig(self.sim, self.buffer_url, self.workdir)
        self.rig.config["incremental_mode"] = self.mode
        self._last_seq = self._max_seq()
        self.sync()
        actions = [
            (self.mutate, 5),
            (self.deliver, 4),
            (self.sync, 2.5),
            (self.redeliver_an_old_event, 1),
            (self.kill_and_restart, 0.7),
            (self.restart_cleanly, 0.7),
        ]
        for _ in range(self.steps):
            action = self.rng.choices([a for a, _ in actions], [w for _, w in actions])[0]
            action()
        self.finish()
        return self.verdict()

    def close(self) -> None:
        if self.rig is not None:
            self.rig.close()
        self.sim.stop()

    # ---- actions ----------------------------------------------------------------------------------------------

    def mutate(self) -> None:
        for _ in range(self.rng.randint(1, 3)):
            with self.sim.lock:
                tickets, departments = sorted(self.sim.store["tickets"]), sorted(self.sim.store["departments"])
            kind = self.rng.choices(
                ["create_ticket", "update_ticket", "delete_ticket", "create_department", "update_department"],
                [2, 4, 1.2 if len(tickets) > 3 else 0, 0.4, 1.5],
            )[0]
            n = len(self.mutations)
            if kind == "create_ticket":
                record = ("tickets", self.sim.create_ticket(subject=f"created by step {n}")["id"])
            elif kind == "update_ticket":
                ticket = self.rng.choice(tickets)
                self.sim.update_ticket(
                    ticket, subject=f"edited by step {n}", status=self.rng.choice(["Open", "On Hold", "Closed"])
                )
                record = ("tickets", ticket)
            elif kind == "delete_ticket":
                ticket = self.rng.choice(tickets)
                self.sim.delete_ticket(ticket)
                record = ("tickets", ticket)
            elif kind == "create_department":
                record = ("departments", self.sim.create_department(name=f"Department of step {n}")["id"])
            else:
                department = self.rng.choice(departments)
                self.sim.update_department(department, name=f"Renamed by step {n}")
                record = ("departments", department)
            mutation = Mutation(n, record, kind, self._new_seqs())
            self.mutations.append(mutation)
            for seq in mutation.seqs:
                self.mutation_of_seq[seq] = mutation
            self.log.append(f"mutation {n}: {kind} {record[1]} -> events {mutation.seqs}")

    def deliver(self, *, everything: bool = False) -> None:
        """Zoho sends some of what it has queued: records held back keep all their events queued; the rest goes out
        in an order mixed across records (kept within a record), some events dropped if the receiver is up."""
        hub = self.sim.hub
        with hub.cond:
            pending = sorted(hub.pending, key=lambda p: p.seq)
            hub.pending.clear()
        if not pending:
            return
        records = {self._record_of(p) for p in pending}
        held = set() if everything else {r for r in sorted(records) if self.rng.random() < self.knobs.delay}
        kept = [p for p in pending if self._record_of(p) in held]
        sending = self._mixed_across_records([p for p in pending if self._record_of(p) not in held])
        dropped = (
            []
            if everything or self.receiver_state != "up"
            else [p for p in sending if self.rng.random() < self.knobs.drop]
        )
        for p in dropped:
            self.fate[p.seq] = DROPPED
            self.counts["events dropped while up"] += 1
        sending = [p for p in sending if p not in dropped]
        self.log.append(
            f"deliver (receiver {self.receiver_state}): sending {[p.seq for p in sending]}, "
            f"dropped {[p.seq for p in dropped]}, held back {[p.seq for p in kept]}"
        )
        if sending:
            self._send(sending)
        with hub.cond:
            hub.pending.extend(kept)

    def sync(self) -> None:
        assert self.rig is not None
        result = self.rig.sync()
        for stream in STREAMS:
            if any(path in result.list_calls for path in SNAPSHOT_PATHS[stream]):
                self.snapshot_after[stream] = len(self.mutations) - 1
                self.counts[f"{stream} listed (snapshot or poll)"] += 1
        self.counts["syncs"] += 1
        self.log.append(
            f"sync: {len(result.records)} records, list calls {sorted(set(result.list_calls))}, "
            f"warnings {[w[:80] for w in result.warnings]}"
        )

    def redeliver_an_old_event(self) -> None:
        """Zoho resends an event it delivered long ago: acknowledged, stored nothing."""
        if not self.delivered_events or self.receiver_state != "up":
            return
        assert self.rig is not None
        event = self.rng.choice(self.delivered_events)
        answer = self.rig.post([event])
        assert answer.status_code == 200 and answer.json() == {"stored": 0, "duplicates": 1}, answer.text
        self.counts["old events redelivered"] += 1
        self.log.append(f"redelivered an old {event['eventType']} of {event['payload'].get('id')}")

    def kill_and_restart(self) -> None:
        """SIGKILL; Zoho's attempts meanwhile fail and are retried once the receiver is back."""
        if self.receiver_state != "up" or self.counts["kills"] >= 2:
            return
        assert self.rig is not None
        self.rig.kill_receiver()
        self.receiver_state = "killed"
        self.killed_at = time.monotonic()
        self.counts["kills"] += 1
        self.log.append("receiver killed (SIGKILL)")
        if self.rng.random() < 0.5:
            self.mutate()
            self.deliver()
        if self.rng.random() < 0.5:
            self.sync()
        self.rig.start_receiver()
        self.receiver_state = "up"
        self.log.append("receiver restarted")

    def restart_cleanly(self) -> None:
        """SIGTERM; what Zoho sends meanwhile is lost, and the next sync heals from the API."""
        if self.receiver_state != "up" or self.counts["clean restarts"] >= 2:
            return
        assert self.rig is not None
        self.rig.stop_receiver()
        self.receiver_state = "stopped"
        self.counts["clean restarts"] += 1
        self.log.append("receiver stopped (SIGTERM)")
        if self.rng.random() < 0.7:
            self.mutate()
            self.deliver()
        self.rig.start_receiver()
        self.receiver_state = "up"
        self.log.append("receiver restarted")

    def finish(self) -> None:
        """Everything still queued reaches the receiver, then two syncs: one to drain (or heal), one to settle."""
        self.deliver(everything=True)
        self.sync()
        self.sync()

    # ---- delivery plumbing -------------------------------------------------------------------------------------

    def _send(self, sending: list) -> None:
        hub = self.sim.hub
        by_event = {id(p.event): p for p in sending}
        first = len(self.sim.deliveries)
        with hub.cond:
            # deliver_pending sends in `seq` order: renumber a copy so the mixed order holds, map back afterwards
            hub.pending.extend(_renumbered(sending))
        self.sim.deliver_pending()
        failed = set()
        for delivery in self.sim.deliveries[first:]:
            for event in delivery.events:
                p = by_event[id(event)]
                if delivery.status == 200:
                    if self.fate.get(p.seq) != STORED:
                        self.delivered_events.append(event)
                    self.fate[p.seq] = STORED
                else:
                    failed.add(p.seq)
        failed -= {seq for seq, fate in self.fate.items() if fate == STORED}
        retried = [p for p in sending if p.seq in failed]
        if self.receiver_state == "stopped":
            # The killed receiver's coverage ends at most COVERAGE_GRACE after the kill (a second more for slack).
            grace = COVERAGE_GRACE.total_seconds() + 1
            blind = self.killed_at is not None and time.monotonic() - self.killed_at < grace
            for p in retried:
                self.fate[p.seq] = LOST_IN_KILL_GRACE if blind else LOST_IN_STOP
                self.counts[
                    "events lost in a stop inside a kill's grace" if blind else "events lost while stopped (healed)"
                ] += 1
        elif retried:
            assert self.receiver_state == "killed", f"deliveries failed while the receiver was up: {sorted(failed)}"
            self.counts["events retried after a kill"] += len(retried)
            with hub.cond:
                hub.pending.extend(retried)  # Zoho tries again after the restart

    def _mixed_across_records(self, events: list) -> list:
        """A random interleaving of the records' event lists: any order across records, the same within one."""
        queues: Dict[Record, list] = defaultdict(list)
        for p in events:
            queues[self._record_of(p)].append(p)
        order = [record for record in sorted(queues) for _ in queues[record]]
        self.rng.shuffle(order)
        return [queues[record].pop(0) for record in order]

    def _record_of(self, pending) -> Record:
        return self.mutation_of_seq[pending.seq].record

    def _new_seqs(self) -> List[int]:
        with self.sim.hub.cond:
            seqs = sorted(p.seq for p in self.sim.hub.pending if p.seq > self._last_seq)
        self._last_seq = max([self._last_seq, *seqs])
        return seqs

    def _max_seq(self) -> int:
        with self.sim.hub.cond:
            return max([p.seq for p in self.sim.hub.pending], default=0)

    # ---- judging ----------------------------------------------------------------------------------------------

    def verdict(self) -> Verdict:
        assert self.rig is not None
        mismatched: Dict[str, List[str]] = {}
        for stream in STREAMS:
            expected, got = store_view(self.sim, stream), self.rig.destination.view(stream)
            mismatched[stream] = sorted(k for k in set(expected) | set(got) if expected.get(k) != got.get(k))
        unrecoverable: Dict[str, Set[str]] = defaultdict(set)
        last: Dict[Record, Mutation] = {}
        for mutation in self.mutations:
            if mutation.record[0] in self.polled:
                continue  # polling must repair whatever the webhooks lost
            if any(self.fate.get(seq) in UNRECOVERABLE for seq in mutation.seqs):
                unrecoverable[mutation.record[0]].add(mutation.record[1])
            last[mutation.record] = mutation
        surely_wrong: Dict[str, Set[str]] = defaultdict(set)
        for record, final in last.items():
            if record[0] not in self.polled and self._surely_wrong(record, final):
                surely_wrong[record[0]].add(record[1])
        self.counts["ids unrecoverable"] = sum(len(ids) for ids in unrecoverable.values())
        self.counts["ids mismatched"] = sum(len(ids) for ids in mismatched.values())
        return Verdict(mismatched, dict(unrecoverable), dict(surely_wrong), dict(self.counts))

    def _surely_wrong(self, record: Record, final: Mutation) -> bool:
        """The record's last change reached nobody (every event lost for good, no snapshot since), and the change
        before it was stored: the destination holds that older version, which differs (every change sets a new
        subject or name)."""
        if not final.seqs or any(self.fate.get(seq) not in UNRECOVERABLE for seq in final.seqs):
            return False
        if self.snapshot_after[record[0]] >= final.index:
            return False
        earlier = [m for m in self.mutations if m.record == record and m.index < final.index]
        return bool(earlier) and any(self.fate.get(seq) == STORED for seq in earlier[-1].seqs)


def _renumbered(sending: list) -> list:
    from integration_tests.simulator.webhooks import PendingEvent

    return [PendingEvent(p.webhook_id, p.event, p.due_at, order) for order, p in enumerate(sending, start=1)]


__all__ = ["SystemRun", "Verdict", "COMPARED_FIELDS"]

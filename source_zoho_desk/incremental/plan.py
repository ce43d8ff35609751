"""Phase 1, plan: per stream, drain the buffer from the saved position when nothing can have been missed since;
otherwise note the buffer's head and take a full API snapshot first (first sync, receiver down, events pruned,
buffer replaced).

Noting the head *before* the snapshot means a change made while the snapshot runs is still delivered by the drain
(an older version replayed later is harmless: `_ab_cdc_cursor` orders them). A snapshot that heals a gap also
replays the buffered events after the saved position and reads the recycle bin, for the deletes a snapshot cannot
show."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Optional, Tuple

from source_zoho_desk.incremental.state import iso, parse_time, state_int
from source_zoho_desk.incremental.streams import IncrementalStream
from zoho_desk_webhooks.buffer import EventBuffer
from zoho_desk_webhooks.coverage import COVERAGE_GRACE

logger = logging.getLogger("airbyte")


@dataclass(frozen=True)
class StreamPlan:
    stream: IncrementalStream
    drain_from: int
    needs_snapshot: bool
    coverage_since: datetime
    # The buffer head noted before the snapshot: the snapshot's rows carry it as their cursor, and of the events up
    # to it (older than the snapshot) only deletes are emitted, which the snapshot cannot show. A drain interrupted
    # before passing it resumes with it from the state.
    snapshot_position: int = 0
    # Set when a snapshot heals a gap after an earlier sync: deletes since then must reach the destination too.
    deletes_since: Optional[datetime] = None
    # Added to buffer positions to make `_ab_cdc_cursor`: raised past every earlier cursor when the buffer is
    # replaced, since a new buffer counts from 1 again and dedup destinations keep the highest cursor.
    cursor_offset: int = 0
    # Mode `both`: before the drain, Zoho's search lists the rows modified in [poll_since, polled_until], stamped
    # like snapshot rows. It replaces the snapshot (first sync) and the healing snapshot (a gap), and catches
    # deliveries Zoho dropped while the receiver was up. Events up to the head are still drained, except updates
    # of the rows the poll listed (it shows them newer): a change the search index did not show yet is not lost.
    poll_since: Optional[datetime] = None
    polled_until: Optional[datetime] = None

    @property
    def deletes_only_through(self) -> int:
        """Events up to this position are older than the snapshot: only their deletes are emitted."""
        return 0 if self.poll_since is not None else self.snapshot_position

    def cursor(self, position: int) -> int:
        return self.cursor_offset + position

    @property
    def snapshot_cursor(self) -> int:
        return self.cursor(self.snapshot_position)


def plan_stream(
    stream: IncrementalStream,
    state: Optional[Mapping[str, Any]],
    buffer: EventBuffer,
    org_id: str,
    now: datetime,
    poll_window: Optional[Tuple[datetime, datetime]] = None,
) -> StreamPlan:
    """Drain from the saved position when nothing can have been missed since; otherwise snapshot first, or, with
    a `poll_window` (mode `both`), catch up by polling it."""
    state = state or {}
    position = state_int(state, "position")
    covered_until = parse_time(state.get("covered_until"))
    cursor_offset = state_int(state, "cursor_offset") or 0
    head, pruned_through = buffer.head_position(org_id), buffer.pruned_through(org_id)
    reason = None
    if position is None or covered_until is None:
        reason = "no saved webhook position yet"
    elif pruned_through > position:
        reason = f"the buffer's retention removed events after the saved position {position}"
    elif position > head:
        reason = f"the saved position {position} lies beyond the buffer's newest event (was the buffer replaced?)"
        cursor_offset += position + 1  # the new buffer's cursors must rank above every one emitted from the old
    else:
        loss = first_possible_loss(buffer, org_id, min(covered_until, now), now)
        if loss:
            reason = f"{loss[1]}, so events may be missing"
    if poll_window is not None:
        return _polling_plan(
            stream, state, reason, position, head, pruned_through, covered_until, now, cursor_offset, poll_window
        )
    if reason is None:
        assert position is not None and covered_until is not None  # no reason to heal means both were saved
        return StreamPlan(
            stream,
            drain_from=position,
            needs_snapshot=False,
            coverage_since=covered_until,
            snapshot_position=state_int(state, "deletes_only_through") or 0,
            cursor_offset=cursor_offset,
        )
    if position is None:
        logger.info(f"{stream.name}: {reason}; taking a full snapshot before following webhook events.")
        return StreamPlan(
            stream,
            drain_from=head,
            needs_snapshot=True,
            coverage_since=now,
            snapshot_position=head,
            cursor_offset=cursor_offset,
        )
    logger.warning(f"{stream.name}: {reason}; re-reading the whole stream from the Zoho API to heal the gap.")
    # A snapshot cannot show what was deleted, so the heal also replays the deletes still buffered after the saved
    # position and reads the recycle bin for deletes whose events were lost.
    replay_from = max(position, pruned_through) if position <= head else pruned_through  # a new buffer: all of it
    return StreamPlan(
        stream,
        drain_from=replay_from,
        needs_snapshot=True,
        coverage_since=now,
        snapshot_position=head,
        deletes_since=covered_until,
        cursor_offset=cursor_offset,
    )


def _polling_plan(
    stream: IncrementalStream,
    state: Mapping[str, Any],
    reason: Optional[str],
    position: Optional[int],
    head: int,
    pruned_through: int,
    covered_until: Optional[datetime],
    now: datetime,
    cursor_offset: int,
    poll_window: Tuple[datetime, datetime],
) -> StreamPlan:
    poll_since, polled_until = poll_window
    if reason and position is not None:
        logger.warning(
            f"{stream.name}: {reason}; catching up from Zoho's search since {iso(poll_since)} "
            "instead of re-reading the whole stream."
        )
    # Events after the saved position are drained when the buffer still holds them all; otherwise the poll covers
    # what they carried, and the drain starts at the head noted now.
    intact = position is not None and pruned_through <= position <= head
    return StreamPlan(
        stream,
        drain_from=position if intact else head,  # type: ignore[arg-type]
        needs_snapshot=False,
        coverage_since=covered_until if reason is None and covered_until is not None else now,
        snapshot_position=head,
        deletes_since=poll_since if state else None,
        cursor_offset=cursor_offset,
        poll_since=poll_since,
        polled_until=polled_until,
    )


def first_possible_loss(
    buffer: EventBuffer, org_id: str, since: datetime, until: datetime
) -> Optional[Tuple[datetime, str]]:
    """The earliest moment in [since, until] when a Zoho delivery may have been lost, and why: no receiver was up,
    or a receiver refused a delivery with a server error."""
    losses = []
    gaps = buffer.uncovered_intervals(since, until, COVERAGE_GRACE) if since < until else []
    if gaps:
        start, end = gaps[0]
        losses.append((start, f"no webhook receiver was running between {iso(start)} and {iso(end)}"))
    refusal = buffer.first_refusal(org_id, since, until)
    if refusal:
        losses.append(
            (refusal[0], f"the webhook receiver could not store a delivery at {iso(refusal[0])} ({refusal[1]})")
        )
    return min(losses) if losses else None

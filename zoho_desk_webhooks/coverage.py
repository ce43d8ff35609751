"""Interval arithmetic for receiver uptime: where was nobody listening?"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

Interval = tuple[datetime, datetime]

# How long after its last heartbeat a receiver still counts as up. The margin covers a few heartbeats and clock skew
# between the receiver's host and the connector's; anything longer hides a crash-and-restart from the next sync.
COVERAGE_GRACE = timedelta(seconds=30)
# The receiver must heartbeat well inside the grace, or every sync would see a gap and re-read its streams.
MAX_HEARTBEAT_SECONDS = COVERAGE_GRACE.total_seconds() / 3


def uncovered(since: datetime, until: datetime, covered: Iterable[Interval]) -> list[Interval]:
    """Sub-intervals of [since, until] not inside any of the `covered` intervals."""
    gaps: list[Interval] = []
    cursor = since
    for start, end in sorted(covered):
        if end <= cursor:
            continue
        if start >= until:
            break
        if start > cursor:
            gaps.append((cursor, start))
        cursor = end
        if cursor >= until:
            return gaps
    if cursor < until:
        gaps.append((cursor, until))
    return gaps

"""Interval arithmetic for receiver uptime: where was nobody listening?"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

Interval = tuple[datetime, datetime]


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

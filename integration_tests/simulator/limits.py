"""API credits (daily budget, per-call weight) and the concurrent-request gate.

Costs come from ``settings.credit_costs`` per call kind (default: a list or search page is 3 credits plus 1 per full
1000 of ``from``; a get-by-id, ``organizationFields``, ``organizations``, counts and webhook calls cost 1). Only
successful (2xx) calls are charged. When the budget cannot cover a call the answer is 429 ``THRESHOLD_EXCEEDED``
with ``Retry-After`` = seconds until the daily reset (next UTC midnight unless ``settings.credits_reset_at`` says
otherwise).
"""

from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta, timezone

from .settings import DEFAULT_CREDIT_COSTS, Clock, Settings


def list_cost(from_value) -> int:
    return call_cost("list", from_value, DEFAULT_CREDIT_COSTS)


def call_cost(kind: str, from_value, costs: dict) -> int:
    """Credits of one call: ``costs[kind]``, plus 1 per full 1000 of ``from`` for list-like kinds."""
    base = costs.get(kind, costs.get("single", 1))
    if kind == "single":
        return base
    try:
        start = max(0, int(from_value))
    except (TypeError, ValueError):
        start = 0
    return base + start // 1000


class CreditMeter:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.lock = threading.Lock()

    def _next_midnight(self, now: float) -> float:
        d = datetime.fromtimestamp(now, tz=timezone.utc).date() + timedelta(days=1)
        return datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp()

    def _roll(self, now: float) -> None:
        s = self.settings
        if s.credits_reset_at is None:
            s.credits_reset_at = self._next_midnight(now)
        if now >= s.credits_reset_at:
            s.credits_remaining = s.credits_per_day
            s.credits_reset_at = self._next_midnight(now)

    def seconds_to_reset(self) -> int:
        with self.lock:
            now = self.clock.now()
            self._roll(now)
            return max(1, math.ceil(self.settings.credits_reset_at - now))

    def try_reserve(self, cost: int) -> bool:
        """True if ``cost`` credits are available (nothing is taken yet)."""
        with self.lock:
            self._roll(self.clock.now())
            return self.settings.credits_remaining >= cost

    def charge(self, cost: int) -> None:
        with self.lock:
            self.settings.credits_remaining = max(0, self.settings.credits_remaining - cost)

    def remaining(self) -> int:
        with self.lock:
            self._roll(self.clock.now())
            return max(0, self.settings.credits_remaining)


class ConcurrencyGate:
    """Counts Desk requests in flight; ``enter`` fails when ``max_concurrency`` are already running."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.rejected = 0

    def enter(self) -> bool:
        with self.lock:
            if self.in_flight >= self.settings.max_concurrency:
                self.rejected += 1
                return False
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            return True

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

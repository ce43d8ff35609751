"""Receiver counters, rendered in the Prometheus text exposition format."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Iterable

PREFIX = "zoho_desk_webhook_"
COUNTERS = {
    "requests_received_total": "Webhook POST requests received.",
    "events_received_total": "Events in deliveries that passed every check.",
    "events_stored_total": "Events stored for the first time.",
    "events_duplicate_total": "Events ignored because they were already stored.",
}
REJECTED = "requests_rejected_total"
REJECTED_HELP = "Webhook POST requests answered with an error, by reason; nothing of them was stored."


class Metrics:
    def __init__(self, rejection_reasons: Iterable[str] = ()) -> None:
        self._counts: Counter[str] = Counter({name: 0 for name in COUNTERS})
        self._rejections: Counter[str] = Counter({reason: 0 for reason in rejection_reasons})
        self._lock = threading.Lock()

    def add(self, name: str, amount: int = 1) -> None:
        if name not in COUNTERS:
            raise KeyError(name)
        with self._lock:
            self._counts[name] += amount

    def reject(self, reason: str) -> None:
        with self._lock:
            self._rejections[reason] += 1

    def value(self, name: str, reason: str | None = None) -> int:
        with self._lock:
            return self._rejections[reason] if name == REJECTED else self._counts[name]

    def render(self) -> str:
        with self._lock:
            counts, rejections = dict(self._counts), dict(self._rejections)
        lines = []
        for name, help_text in COUNTERS.items():
            lines += [f"# HELP {PREFIX}{name} {help_text}", f"# TYPE {PREFIX}{name} counter",
                      f"{PREFIX}{name} {counts[name]}"]
        lines += [f"# HELP {PREFIX}{REJECTED} {REJECTED_HELP}", f"# TYPE {PREFIX}{REJECTED} counter"]
        lines += [f'{PREFIX}{REJECTED}{{reason="{reason}"}} {count}' for reason, count in sorted(rejections.items())]
        return "\n".join(lines) + "\n"

"""How many Desk requests of a run are in flight: at most `num_workers`, and fewer after Zoho says the portal allows
fewer (429 TOO_MANY_REQUESTS).

Zoho caps concurrent requests per portal (5 on Free up to 25 on Enterprise) and the cap is shared by every
integration of the portal, so the right number is not knowable in advance. A 429 TOO_MANY_REQUESTS sets the limit
below the number in flight when it came; a long run of successes raises it by one again, up to `num_workers`. So a
sync settles just under what the portal allows instead of having every worker retry into the same wall.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

DEFAULT_WORKERS = 3  # the spec's default num_workers
SUCCESSES_PER_STEP_UP = 20  # per request slot: a higher limit is tried after this many successes per slot


class RequestSlots:
    def __init__(self, ceiling: int) -> None:
        self.ceiling = max(1, ceiling)
        self.limit = self.ceiling
        self._in_flight = 0
        self._successes = 0
        self._changed = threading.Condition()
        self._held = threading.local()  # a request sent while this thread holds a slot uses that slot

    @contextmanager
    def slot(self) -> Iterator[None]:
        depth = getattr(self._held, "depth", 0)
        if depth == 0:
            with self._changed:
                while self._in_flight >= self.limit:
                    self._changed.wait()
                self._in_flight += 1
        self._held.depth = depth + 1
        try:
            yield
        finally:
            self._held.depth = depth
            if depth == 0:
                with self._changed:
                    self._in_flight -= 1
                    self._changed.notify_all()

    def throttled(self) -> None:
        """Zoho refused a request for too many at once: allow one fewer than were in flight (at least one)."""
        with self._changed:
            self.limit = max(1, min(self.limit, self._in_flight - 1))
            self._successes = 0

    def succeeded(self) -> None:
        with self._changed:
            self._successes += 1
            if self.limit < self.ceiling and self._successes >= SUCCESSES_PER_STEP_UP * self.limit:
                self.limit += 1
                self._successes = 0
                self._changed.notify_all()


def slots_of(config: Mapping[str, Any]) -> RequestSlots:
    """The run's slots (see connector_config.ConnectorConfig); a component built outside a source (a unit test) gets
    slots of its own, as many as its config's num_workers."""
    slots = getattr(config, "slots", None)
    if isinstance(slots, RequestSlots):
        return slots
    return RequestSlots(int(config.get("num_workers") or DEFAULT_WORKERS))

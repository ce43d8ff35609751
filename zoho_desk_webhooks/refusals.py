"""Refused deliveries the buffer has not taken yet, kept in memory until it can.

When the database is down the endpoint lookup is what fails, so a refusal may not know its org: it is kept by the
path token's sha256 and resolved when it is stored (a token of no endpoint is then dropped, like a 404). Only the
first and the last refusal of an endpoint and reason are kept: syncs read refusals by time window, and a window
holding any refusal of the run also holds the first or the last or is followed by one that does, whose heal
re-reads the whole stream. So memory grows with the tokens seen, not the requests; and since anyone can send
unknown tokens, past MAX_UNRESOLVED of them they are merged into one refusal for every endpoint's org (a heal too
many, never a loss unrecorded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

MAX_UNRESOLVED = 1000


@dataclass
class Refusal:
    token_sha256: str | None  # None: any endpoint (the merged unknown tokens)
    org_id: str | None  # None until resolved
    reason: str
    first: datetime
    last: datetime

    @property
    def times(self) -> list[datetime]:
        return [self.first] if self.first == self.last else [self.first, self.last]


class PendingRefusals:
    """Used from the receiver's event loop only, so without a lock."""

    def __init__(self) -> None:
        self._pending: dict[tuple[str | None, str], Refusal] = {}

    def add(self, token_sha256: str, org_id: str | None, reason: str, at: datetime) -> None:
        self.put_back([Refusal(token_sha256, org_id, reason, at, at)])

    def take(self) -> list[Refusal]:
        """All pending refusals, oldest first; they are no longer pending (`put_back` those not stored)."""
        taken, self._pending = list(self._pending.values()), {}
        return sorted(taken, key=lambda refusal: refusal.first)

    def put_back(self, refusals: list[Refusal]) -> None:
        for refusal in refusals:
            key = (refusal.token_sha256, refusal.reason)
            if key not in self._pending and refusal.org_id is None and self._unresolved() >= MAX_UNRESOLVED:
                key = (None, refusal.reason)
            known = self._pending.get(key)
            if known is None:
                self._pending[key] = Refusal(
                    key[0], refusal.org_id if key[0] else None, refusal.reason, refusal.first, refusal.last
                )
            else:
                known.org_id = known.org_id or refusal.org_id
                known.first, known.last = min(known.first, refusal.first), max(known.last, refusal.last)

    def _unresolved(self) -> int:
        return sum(1 for refusal in self._pending.values() if refusal.org_id is None)

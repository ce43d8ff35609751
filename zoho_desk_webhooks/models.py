"""Plain records handed out by the event buffer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class StoredEvent:
    """One webhook event as stored; `position` orders events of one org."""

    position: int
    org_id: str
    event_type: str
    event_time: str
    payload: dict[str, Any]
    prev_state: dict[str, Any] | None
    received_at: datetime


@dataclass(frozen=True)
class Endpoint:
    """A receiving path for one Zoho Desk webhook; only the token's sha256 is kept."""

    endpoint_id: str
    org_id: str
    jwks_url: str
    webhook_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class OrgHead:
    """Where an org's events stand in the buffer. Positions are gapless and retention deletes a prefix, so the
    buffer holds exactly the positions (pruned_through, head_position]."""

    org_id: str
    head_position: int
    pruned_through: int
    last_received_at: datetime | None  # when its newest event was received; None once retention removed it

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

"""Seeded tasks, calls and events (Task.json, Call.json, Event.json), each with ``cf`` per ``cfvalues.py``.

Tasks belong to tickets: a ticket has exactly ``taskCount`` tasks, so the counter and ``/tickets/{id}/activities``
agree. Calls and events (``calls`` / ``events`` of them) mostly belong to a ticket and its contact. A few of each
are already deleted (``DELETED``; deleted tasks come on top of the tickets' counts): they only appear in the recycle
bin. Ids increase with ``createdTime`` within each module.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Optional

from .cfvalues import custom_values
from .data import SEED_NOW, iso, parse_iso, recycle_entry

TASK_SUBJECTS = (
    "Call back {first}",
    "Send a replacement {p}",
    "Check the refund status",
    "Follow up: {s}",
    "Rappeler le client",
    "Rückruf vereinbaren",
    "見積書を送付する",
    "Escalate to tier 2 🚨",
)
CALL_SUBJECTS = (
    "Inbound call from {first}",
    "Callback about {s}",
    "Billing question",
    "Appel entrant",
    "Follow-up call ☎",
)
EVENT_SUBJECTS = (
    "On-site visit",
    "Product demo for {first}",
    "Onboarding session",
    "Réunion de suivi",
    "Quarterly review 📅",
)
DELETED = {"tasks": 3, "calls": 2, "events": 1}


def _clip(t: datetime) -> datetime:
    return min(t, SEED_NOW)


class _Maker:
    def __init__(self, store, ids, rng: random.Random) -> None:
        self.store, self.ids, self.rng = store, ids, rng
        self.agents = list(store["agents"])
        self.contacts = store["contacts"]

    def _owner(self, ticket: Optional[dict]) -> Optional[str]:
        if ticket and ticket.get("assigneeId"):
            return ticket["assigneeId"]
        return self.rng.choice(self.agents) if self.agents else None

    def _text(self, pool, ticket: Optional[dict], contact: Optional[dict]) -> str:
        first = (contact or {}).get("firstName") or "the customer"
        subject = ((ticket or {}).get("subject") or "ticket")[:40]
        product = self.store["products"].get((ticket or {}).get("productId") or "")
        return self.rng.choice(pool).format(first=first, s=subject, p=product["productName"] if product else "unit")

    def _common(self, kind: str, created: datetime, ticket: Optional[dict], contact_id: Optional[str]) -> dict:
        r = self.rng
        modified = _clip(created + timedelta(seconds=r.randint(0, 20 * 86400))) if r.random() < 0.8 else created
        dept = ticket["departmentId"] if ticket else r.choice(list(self.store["departments"]))
        return {
            "ticketId": ticket["id"] if ticket else None,
            "ticketNumber": ticket["ticketNumber"] if ticket else None,
            "contactId": contact_id,
            "departmentId": dept,
            "ownerId": self._owner(ticket),
            "teamId": (ticket or {}).get("teamId"),
            "creatorId": r.choice(self.agents) if self.agents else None,
            "createdTime": iso(created),
            "modifiedTime": iso(modified),
            "modifiedBy": r.choice(self.agents) if self.agents else None,
            "isCommented": r.random() < 0.2,
            "layoutId": self.store.layouts.get(kind),
        }

    def task(self, ticket: dict) -> dict:
        r = self.rng
        t0 = parse_iso(ticket["createdTime"])
        created = _clip(t0 + timedelta(seconds=r.randint(60, 10 * 86400)))
        contact = self.contacts.get(ticket.get("contactId") or "")
        status = (
            "Completed"
            if ticket["status"] == "Closed" and r.random() < 0.8
            else r.choice(("Not Started", "In Progress", "Completed", "Deferred"))
        )
        rec = {
            "subject": self._text(TASK_SUBJECTS, ticket, contact),
            "dueDate": iso(created + timedelta(hours=r.randint(4, 14 * 24))),
            "priority": r.choice(("High", "Normal", "Low", None)),
            "status": status,
            "category": r.choice(("Follow-up", "Callback", None)),
            "description": r.choice((None, "<div>Rappeler avant 18h.</div>", "Check the RMA form.\nThen close.")),
        }
        rec.update(self._common("tasks", created, ticket, ticket.get("contactId")))
        rec["isCompleted"] = status == "Completed"
        rec["completedTime"] = rec["modifiedTime"] if rec["isCompleted"] else None
        rec["reminder"] = iso(parse_iso(rec["dueDate"]) - timedelta(hours=1)) if r.random() < 0.3 else None
        return rec

    def call(self, ticket: Optional[dict]) -> dict:
        r = self.rng
        if ticket:
            created = _clip(parse_iso(ticket["createdTime"]) + timedelta(seconds=r.randint(0, 7 * 86400)))
            contact_id = ticket.get("contactId")
        else:
            created = datetime(2023, 1, 9, tzinfo=SEED_NOW.tzinfo) + timedelta(seconds=r.randint(0, 530 * 86400))
            contact_id = r.choice(list(self.contacts)) if self.contacts else None
        contact = self.contacts.get(contact_id or "")
        status = r.choices(("Completed", "In Progress", "Cancelled"), weights=(80, 5, 15))[0]
        duration = r.randint(15, 3600) if status == "Completed" else 0
        rec = {
            "subject": self._text(CALL_SUBJECTS, ticket, contact),
            "direction": r.choice(("inbound", "outbound")),
            "duration": str(duration),
            "status": status,
            "startTime": iso(created),
            "priority": r.choice(("High", "Normal", "Low", None)),
            "description": r.choice((None, "Customer asked for a refund.", "Left a voicemail 📞")),
        }
        rec.update(self._common("calls", created, ticket, contact_id))
        rec["isCompleted"] = status == "Completed"
        rec["completedTime"] = iso(created + timedelta(seconds=duration)) if rec["isCompleted"] else None
        return rec

    def event(self, ticket: Optional[dict]) -> dict:
        r = self.rng
        base = parse_iso(ticket["createdTime"]) if ticket else datetime(2023, 3, 1, tzinfo=SEED_NOW.tzinfo)
        created = _clip(base + timedelta(seconds=r.randint(0, 20 * 86400)))
        contact_id = ticket.get("contactId") if ticket else (r.choice(list(self.contacts)) if self.contacts else None)
        contact = self.contacts.get(contact_id or "")
        start = created + timedelta(days=r.randint(1, 21), hours=r.randint(0, 8))
        status = "Completed" if start < SEED_NOW and r.random() < 0.8 else r.choice(("Not Started", "In Progress"))
        rec = {
            "subject": self._text(EVENT_SUBJECTS, ticket, contact),
            "startTime": iso(start),
            "duration": str(r.choice((30, 45, 60, 90, 120))),
            "category": r.choice(("Meeting", "Demo", "Training", None)),
            "status": status,
            "priority": r.choice(("High", "Normal", "Low", None)),
            "description": r.choice((None, "Bring the spare router.", "Salle 3 — 2e étage")),
        }
        rec.update(self._common("events", created, ticket, contact_id))
        rec["isCompleted"] = status == "Completed"
        rec["reminder"] = iso(start - timedelta(minutes=30)) if r.random() < 0.4 else None
        return rec


def seed_activities(store, ids, rng: random.Random, calls: int, events: int) -> None:
    make = _Maker(store, ids, rng)
    tickets = list(store["tickets"].values())
    # (record, deleted) - deleted tasks are extra ones, so each live ticket keeps exactly taskCount tasks
    batches = {
        "tasks": [(make.task(t), False) for t in tickets for _ in range(int(t["taskCount"]))]
        + [(make.task(rng.choice(tickets)), True) for _ in range(DELETED["tasks"] if tickets else 0)],
        "calls": [
            (make.call(rng.choice(tickets) if tickets and rng.random() < 0.85 else None), i < DELETED["calls"])
            for i in range(calls)
        ],
        "events": [
            (make.event(rng.choice(tickets) if tickets and rng.random() < 0.6 else None), i < DELETED["events"])
            for i in range(events)
        ],
    }
    for module, records in batches.items():
        kind = module.capitalize()
        records.sort(key=lambda pair: pair[0]["createdTime"])
        for made, deleted in records:
            rid = ids.new(module)
            rec = {"id": rid, **made}
            rec["webUrl"] = f"https://desk.zoho.com/support/zylkerdesk/ShowHomePage.do#{kind}/dv/{rid}"
            rec["cf"] = custom_values(rng, module, parse_iso(rec["createdTime"]), rec)
            if deleted:
                when = iso(_clip(parse_iso(rec["modifiedTime"]) + timedelta(hours=rng.randint(1, 48))))
                store["recycleBin"][rid] = recycle_entry(
                    rec, kind, rec["subject"], rec["departmentId"], rec["modifiedBy"], when
                )
            else:
                store[module][rid] = rec

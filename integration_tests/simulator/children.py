"""Per-ticket child lists: threads, comments, attachments, time entries and tags, made on first access.

A ticket has exactly as many threads, comments, attachments, time entries and tags as its counters say
(``threadCount`` & co., as they were when its children were first read). Generating them for every ticket at
start-up would cost the thousands of records most tests never read, so each ticket's children are made the first
time they are asked for, from an RNG seeded by (simulator seed, ticket id): the same ticket always gets the same
children, whatever the order of reads.

Child ids are deterministic too: every ticket owns a block of ``CHILD_BLOCK`` ids (given in creation order when the
ticket is seeded or created), so a child's id does not depend on when it was generated. Times lie between the
ticket's ``createdTime`` and ``modifiedTime``; within a kind, ids increase with time. Shapes follow Thread.json,
TicketComment.json, TicketAttachment.json, TicketTimeEntry.json and TicketTag.json (see their notes in schema.py).
"""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from typing import Optional

from .cfvalues import custom_values
from .data import BODIES, ID_PREFIX, iso, parse_iso

CHILD_ID_BASE = 50_000_000  # far above the shared id counter, which starts below 100,000
CHILD_BLOCK = 256  # ids per ticket; counters beyond it are cut to fit
CHILD_DIGITS = 18
THREAD_CHANNELS = {
    "Email": "EMAIL",
    "Phone": "PHONE",
    "Web": "WEB",
    "Chat": "CHAT",
    "Twitter": "TWITTER",
    "Facebook": "FACEBOOK",
    "Forums": "FORUMS",
    "Feedback Widget": "FEEDBACK",
}
REPLIES = (
    "Thanks for reaching out! Could you send a screenshot?",
    "We've issued the refund; it takes 3-5 days.",
    "Merci, le problème est résolu de notre côté.",
    "Bitte starten Sie das Gerät neu.",
    "ご不便をおかけして申し訳ございません。",
    "I've escalated this to our engineers 🚀",
)
COMMENTS = (
    "Checked the logs — cert expired on edge node.",
    "Customer is VIP, handle first.",
    "Waiting for the warehouse.",
    "Doublon du ticket précédent ?",
    "Refund approved by finance ✅",
)
FILE_NAMES = (
    "screenshot.png",
    "invoice-2024-03.pdf",
    "sync.log",
    "photo_défaut.jpg",
    "config.json",
    "export (1).csv",
    "見積書.pdf",
)


def _plain(text: str) -> str:
    return " ".join(text.replace("<br />", " ").replace("<div>", " ").replace("</div>", " ").split())


class TicketChildren:
    def __init__(self, store, seed: int) -> None:
        self.store = store
        self.seed = seed
        self.blocks: dict = {}  # ticket id -> block number
        self._cache: dict = {}
        self._lock = threading.Lock()

    def assign_block(self, ticket_id: str) -> None:
        with self._lock:
            self.blocks.setdefault(ticket_id, len(self.blocks))

    def of(self, ticket: dict) -> dict:
        """``{"threads": [...], "comments": [...], "attachments": [...], "timeEntries": [...], "tags": [...]}``,
        each in creation order; the first call for a ticket makes them."""
        with self._lock:
            made = self._cache.get(ticket["id"])
            if made is None:
                self.blocks.setdefault(ticket["id"], len(self.blocks))
                made = self._cache[ticket["id"]] = _Maker(self, ticket).make()
            return made


class _Maker:
    def __init__(self, owner: TicketChildren, ticket: dict) -> None:
        self.store = owner.store
        self.ticket = ticket
        self.rng = random.Random(f"{owner.seed}:{ticket['id']}")
        self.base = CHILD_ID_BASE + owner.blocks[ticket["id"]] * CHILD_BLOCK
        self.k = 0
        self.start = parse_iso(ticket["createdTime"])
        self.end = max(parse_iso(ticket.get("modifiedTime") or ticket["createdTime"]), self.start)
        self.agents = [a for a in self.store["agents"].values() if a["status"] == "ACTIVE"] or list(
            self.store["agents"].values()
        )

    def _id(self) -> str:
        rid = ID_PREFIX + str(self.base + self.k).zfill(CHILD_DIGITS - len(ID_PREFIX))
        self.k += 1
        return rid

    def _count(self, key: str) -> int:
        try:
            n = max(0, int(self.ticket.get(key) or 0))
        except (TypeError, ValueError):
            n = 0
        return min(n, CHILD_BLOCK - self.k)

    def _times(self, n: int, first_at_start: bool = False) -> list:
        span = max(1, int((self.end - self.start).total_seconds()))
        offsets = sorted(self.rng.randint(0, span) for _ in range(n))
        if first_at_start and offsets:
            offsets[0] = 0
        return [self.start + timedelta(seconds=s) for s in offsets]

    def _agent(self) -> Optional[dict]:
        assignee = self.store["agents"].get(self.ticket.get("assigneeId") or "")
        if assignee and self.rng.random() < 0.7:
            return assignee
        return self.rng.choice(self.agents) if self.agents else None

    def _person(self, agent: Optional[dict]) -> Optional[dict]:
        if agent is None:
            return None
        role = self.store["roles"].get(agent.get("roleId") or "")
        return {
            "id": agent["id"],
            "firstName": agent["firstName"],
            "lastName": agent["lastName"],
            "name": agent["name"],
            "photoURL": agent["photoURL"],
            "email": agent["emailId"],
            "type": "AGENT",
            "roleName": role["name"] if role else None,
        }

    def make(self) -> dict:
        return {
            "threads": self.threads(),
            "comments": self.comments(),
            "attachments": self.attachments(),
            "timeEntries": self.time_entries(),
            "tags": self.tags(),
        }

    # --- Thread.json --------------------------------------------------------------------------------------------
    def threads(self) -> list:
        r, t = self.rng, self.ticket
        contact = self.store["contacts"].get(t.get("contactId") or "")
        channel = THREAD_CHANNELS.get(t.get("channel") or "", "EMAIL")
        out = []
        for i, when in enumerate(self._times(self._count("threadCount"), first_at_start=True)):
            direction = "in" if i == 0 or r.random() < 0.45 else "out"
            agent = self._agent() if direction == "out" else None
            if agent:
                author = {k: v for k, v in self._person(agent).items() if k != "roleName"}
            else:
                author = {
                    "id": contact["id"] if contact else None,
                    "firstName": (contact or {}).get("firstName"),
                    "lastName": (contact or {}).get("lastName"),
                    "name": " ".join(
                        x for x in ((contact or {}).get("firstName"), (contact or {}).get("lastName")) if x
                    )
                    or None,
                    "photoURL": None,
                    "email": t.get("email"),
                    "type": "END_USER",
                }
            body = t.get("description") or r.choice(BODIES) if i == 0 else r.choice(REPLIES if agent else BODIES)
            html = channel in ("EMAIL", "FORUMS", "WEB")
            attachments = r.choice((0, 0, 0, 1, 2))
            status = "SUCCESS" if direction == "in" else r.choices(("SUCCESS", "FAILED", "DRAFT"), (94, 3, 3))[0]
            email = channel == "EMAIL"
            support = "support@zylkerdesk.zohodesk.com"
            out.append(
                {
                    "id": self._id(),
                    "channel": channel,
                    "direction": direction,
                    "status": status,
                    "visibility": "private" if r.random() < 0.05 else "public",
                    "isDescriptionThread": i == 0,
                    "canReply": status != "DRAFT",
                    "isForward": False,
                    "summary": _plain(body)[:100],
                    "contentType": "text/html" if html else "text/plain",
                    "content": (f"<div>{body}</div>" if html else body),
                    "hasAttach": attachments > 0,
                    "attachmentCount": str(attachments),
                    "author": author,
                    "responderId": agent["id"] if agent else None,
                    "respondedIn": f"{r.randint(0, 30):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"
                    if agent
                    else None,
                    "fromEmailAddress": (support if agent else t.get("email")) if email else None,
                    "to": (t.get("email") if agent else support) if email else None,
                    "cc": "" if email else None,
                    "bcc": "" if email else None,
                    "replyTo": (t.get("email") if not agent else None) if email else None,
                    "channelRelatedInfo": None,
                    "lastRatingIconURL": None,
                    "actions": [],
                    "source": {
                        "appName": None,
                        "extId": None,
                        "permalink": None,
                        "type": "SYSTEM",
                        "appPhotoURL": None,
                    },
                    "createdTime": iso(when),
                }
            )
        return out

    # --- TicketComment.json -------------------------------------------------------------------------------------
    def comments(self) -> list:
        r, out = self.rng, []
        for when in self._times(self._count("commentCount")):
            commenter = self._person(self._agent())
            text = r.choice(COMMENTS)
            html = r.random() < 0.7
            edited = r.random() < 0.25
            cid = self._id()
            files = []
            if r.random() < 0.15:
                aid = self._id()
                files.append(
                    {
                        "id": aid,
                        "name": r.choice(FILE_NAMES),
                        "size": str(r.randint(800, 900000)),
                        "href": f"https://desk.zoho.com/api/v1/tickets/{self.ticket['id']}/comments/{cid}"
                        f"/attachments/{aid}/content",
                    }
                )
            out.append(
                {
                    "id": cid,
                    "content": f"<div>{text}</div>" if html else text,
                    "contentType": "html" if html else "plainText",
                    "plainText": text,
                    "isPublic": r.random() < 0.3,
                    "commenterId": commenter["id"] if commenter else None,
                    "commenter": commenter,
                    "commentedTime": iso(when),
                    "modifiedTime": iso(min(self.end, when + timedelta(minutes=r.randint(1, 600)))) if edited else None,
                    "attachments": files,
                    "mention": [],
                }
            )
        return out

    # --- TicketAttachment.json ----------------------------------------------------------------------------------
    def attachments(self) -> list:
        r, out = self.rng, []
        for when in self._times(self._count("attachmentCount")):
            creator = self._agent() if r.random() < 0.4 else None
            contact = self.store["contacts"].get(self.ticket.get("contactId") or "")
            aid = self._id()
            href = f"https://desk.zoho.com/api/v1/tickets/{self.ticket['id']}/attachments/{aid}/content"
            who = creator or contact
            out.append(
                {
                    "id": aid,
                    "name": r.choice(FILE_NAMES),
                    "size": str(r.randint(800, 4_000_000)),
                    "creatorId": who["id"] if who else None,
                    "createdTime": iso(when),
                    "isPublic": r.random() < 0.8,
                    "href": href,
                    "previewurl": href + "?inline=true",
                    "creator": {
                        "id": who["id"],
                        "firstName": who.get("firstName"),
                        "lastName": who.get("lastName"),
                        "photoURL": who.get("photoURL"),
                        "email": who.get("emailId") or who.get("email"),
                    }
                    if who
                    else None,
                }
            )
        return out

    # --- TicketTimeEntry.json (modifiedTime/modifiedBy are not in the OAS example but modifiedTimeRange is) ---
    def time_entries(self) -> list:
        r, t, out = self.rng, self.ticket, []
        for when in self._times(self._count("timeEntryCount")):
            owner = self._agent()
            hours, minutes, seconds = r.randint(0, 3), r.randint(0, 59), r.choice((0, 0, 15, 30, 45))
            billable = r.random() < 0.6
            rate = r.choice((None, "30.0", "45.5"))
            cost = f"{(hours + minutes / 60) * float(rate or 0):.2f}" if billable else "0.0"
            executed = when - timedelta(hours=hours, minutes=minutes)
            modified = when if r.random() < 0.7 else min(self.end, when + timedelta(hours=r.randint(1, 48)))
            rec = {
                "id": self._id(),
                "executedTime": iso(max(self.start, executed)),
                "hoursSpent": str(hours),
                "minutesSpent": str(minutes),
                "secondsSpent": str(seconds),
                "isBillable": billable,
                "billingType": "FIXED_COST_FOR_AGENTS" if rate else "FIXED_COST_FOR_TICKETS",
                "requestChargeType": r.choice(
                    ("Customer Service", "Upgrade Request", "Product Consultation", "Support and Maintenance")
                ),
                "mode": r.choice(("MANUAL", "AUTO")),
                "description": r.choice((None, "Remote session", "Analyse des logs")),
                "ownerId": owner["id"] if owner else None,
                "agentCostPerHour": rate,
                "additionalCost": None,
                "fixedCost": None,
                "totalCost": cost,
                "invoiceId": None,
                "isTrashed": "false",
                "departmentId": t.get("departmentId"),
                "layoutId": self.store.layouts.get("timeEntry"),
                "parent": {
                    "id": t["id"],
                    "ticketNumber": t.get("ticketNumber"),
                    "subject": t.get("subject"),
                    "type": "TICKETS",
                },
                "createdBy": owner["id"] if owner else None,
                "createdTime": iso(when),
                "modifiedBy": owner["id"] if owner else None,
                "modifiedTime": iso(modified),
            }
            rec["cf"] = custom_values(r, "timeEntry", when, rec)
            out.append(rec)
        return out

    # --- TicketTag.json: tags come from the org's catalogue ----------------------------------------------------
    def tags(self) -> list:
        catalogue = list(self.store["tags"].values())
        n = min(self._count("tagCount"), len(catalogue))
        return [dict(tag) for tag in self.rng.sample(catalogue, n)]

"""Runtime changes to the data (``sim.create_ticket`` & co.), each one emitting its webhook event.

Records are replaced, never changed in place, so readers holding an old record stay consistent. ``modifiedTime``
(and ``createdTime`` for new records) come from the simulator clock with millisecond precision and are kept
strictly increasing per module so ordering by time equals ordering by change.
"""

from __future__ import annotations

import copy
import threading
from datetime import timedelta
from typing import Optional

from . import schema
from .data import DataFactory, Store, epoch_to_dt, iso, parse_iso, recycle_entry
from .settings import Clock, Settings
from .webhooks import WebhookHub


class Mutator:
    def __init__(
        self,
        store: Store,
        lock: threading.RLock,
        factory: DataFactory,
        clock: Clock,
        hub: WebhookHub,
        settings: Settings,
    ) -> None:
        self.store = store
        self.lock = lock
        self.factory = factory
        self.clock = clock
        self.hub = hub
        self.settings = settings
        self._last: dict = {}

    # --- time ---------------------------------------------------------------------------------------------------
    def _now(self, key: str, floor: Optional[str] = None):
        """A strictly increasing 'now' for ``key`` (and above ``floor`` if given)."""
        ms = int(self.clock.now() * 1000)
        now = epoch_to_dt(ms // 1000).replace(microsecond=(ms % 1000) * 1000)
        for bound in (self._last.get(key), floor):
            if bound is not None:
                b = parse_iso(bound)
                if now <= b:
                    now = b + timedelta(milliseconds=1)
        self._last[key] = iso(now)
        return now

    @staticmethod
    def _apply(rec: dict, fields: dict, allowed) -> None:
        cf = dict(rec.get("cf") or {})
        for key, value in fields.items():
            if key == "cf":
                cf.update(value or {})
            elif key.startswith("cf_"):
                cf[key] = value
            elif key in allowed:
                rec[key] = copy.deepcopy(value)
            else:
                raise ValueError(f"unknown field {key!r}")
        if "cf" in allowed:
            rec["cf"] = cf

    @staticmethod
    def _changed(old: dict, new: dict) -> list:
        out = [k for k in new if k != "cf" and old.get(k) != new.get(k)]
        ocf, ncf = old.get("cf") or {}, new.get("cf") or {}
        out += [k for k in ncf if ocf.get(k) != ncf.get(k)]
        return out

    def _agent(self) -> Optional[str]:
        return next(iter(self.store["agents"]), None)

    # --- tickets ------------------------------------------------------------------------------------------------
    def create_ticket(self, **fields) -> dict:
        with self.lock:
            created = self._now("tickets.created")
            rec = self.factory.ticket(created, created)
            self._apply(rec, fields, schema.TICKET_FIELDS)
            if "status" in fields and "statusType" not in fields:
                rec["statusType"] = schema.STATUS_TYPE.get(rec["status"], "Open")
            rec["createdTime"] = fields.get("createdTime", iso(created))
            rec["modifiedTime"] = fields.get("modifiedTime", rec["createdTime"])
            self._last["tickets.modified"] = max(self._last.get("tickets.modified", ""), rec["modifiedTime"])
            self.store["tickets"][rec["id"]] = rec
            if self.store.children is not None:
                self.store.children.assign_block(rec["id"])  # its threads & co. get ids of their own
            out = copy.deepcopy(rec)
        self.hub.emit("Ticket_Add", out, department_id=out["departmentId"])
        return out

    def update_ticket(self, ticket_id: str, **fields) -> dict:
        with self.lock:
            old = self.store["tickets"].get(str(ticket_id))
            if old is None:
                raise KeyError(f"ticket {ticket_id} does not exist")
            new = copy.deepcopy(old)
            self._apply(new, fields, schema.TICKET_FIELDS)
            now = self._now("tickets.modified", floor=old["modifiedTime"])
            if "status" in fields and "statusType" not in fields:
                new["statusType"] = schema.STATUS_TYPE.get(new["status"], "Open")
            if fields.get("status") == "Closed" and old["status"] != "Closed" and "closedTime" not in fields:
                new["closedTime"] = iso(now)
            if "modifiedTime" not in fields:
                new["modifiedTime"] = iso(now)
            changed = self._changed(old, new)
            self.store["tickets"][new["id"]] = new
            out, prev = copy.deepcopy(new), copy.deepcopy(old)
        self.hub.emit("Ticket_Update", out, prev_state=prev, department_id=out["departmentId"], changed=changed)
        return out

    def delete_ticket(self, ticket_id: str) -> None:
        with self.lock:
            old = self.store["tickets"].pop(str(ticket_id), None)
            if old is None:
                raise KeyError(f"ticket {ticket_id} does not exist")
            now = iso(self._now("tickets.modified", floor=old["modifiedTime"]))
            trashed = dict(copy.deepcopy(old), isDeleted=True, isTrashed=True, modifiedTime=now)
            self.store.trash[old["id"]] = trashed
            self.store["recycleBin"][old["id"]] = recycle_entry(
                old, "Tickets", old["subject"], old["departmentId"], self._agent(), now
            )
        if self.settings.delete_also_sends_update:
            self.hub.emit(
                "Ticket_Update",
                copy.deepcopy(trashed),
                prev_state=copy.deepcopy(old),
                department_id=old["departmentId"],
                changed=["isDeleted", "isTrashed", "modifiedTime"],
            )
        self.hub.emit("Ticket_Delete", {"id": old["id"]}, department_id=old["departmentId"])

    # --- departments (Department_Add / Department_Update; Zoho has no delete event) ---------------------------
    def create_department(self, **fields) -> dict:
        with self.lock:
            created = self._now("departments.created")
            rec = self.factory.department(created, len(self.store["departments"]), self._agent())
            self._apply(rec, fields, schema.DEPARTMENT_FIELDS)
            self.store["departments"][rec["id"]] = rec
            out = copy.deepcopy(rec)
        self.hub.emit("Department_Add", out, department_id=out["id"])
        return out

    def update_department(self, department_id: str, **fields) -> dict:
        with self.lock:
            old = self.store["departments"].get(str(department_id))
            if old is None:
                raise KeyError(f"department {department_id} does not exist")
            new = copy.deepcopy(old)
            self._apply(new, fields, schema.DEPARTMENT_FIELDS)
            changed = self._changed(old, new)
            self.store["departments"][new["id"]] = new
            out, prev = copy.deepcopy(new), copy.deepcopy(old)
        self.hub.emit("Department_Update", out, prev_state=prev, department_id=out["id"], changed=changed)
        return out

    # --- contacts and accounts ----------------------------------------------------------------------------------
    def _create(self, module: str, event: str, make, allowed, fields: dict) -> dict:
        with self.lock:
            created = self._now(f"{module}.created")
            rec = make(created)
            self._apply(rec, fields, allowed)
            rec["modifiedTime"] = fields.get("modifiedTime", rec["createdTime"])
            self.store[module][rec["id"]] = rec
            out = copy.deepcopy(rec)
        self.hub.emit(event, out)
        return out

    def _update(self, module: str, event: str, rid: str, allowed, fields: dict) -> dict:
        with self.lock:
            old = self.store[module].get(str(rid))
            if old is None:
                raise KeyError(f"{module[:-1]} {rid} does not exist")
            new = copy.deepcopy(old)
            self._apply(new, fields, allowed)
            if "modifiedTime" not in fields:
                new["modifiedTime"] = iso(self._now(f"{module}.modified", floor=old["modifiedTime"]))
            changed = self._changed(old, new)
            self.store[module][new["id"]] = new
            out, prev = copy.deepcopy(new), copy.deepcopy(old)
        self.hub.emit(event, out, prev_state=prev, changed=changed, department_id=out.get("departmentId"))
        return out

    def _delete(self, module: str, event: str, kind: str, rid: str, display) -> None:
        with self.lock:
            old = self.store[module].pop(str(rid), None)
            if old is None:
                raise KeyError(f"{module[:-1]} {rid} does not exist")
            now = iso(self._now(f"{module}.modified", floor=old.get("modifiedTime")))
            self.store["recycleBin"][old["id"]] = recycle_entry(
                old, kind, display(old), old.get("departmentId"), self._agent(), now
            )
        self.hub.emit(event, {"id": old["id"]}, department_id=old.get("departmentId"))

    def create_contact(self, **fields) -> dict:
        accounts = list(self.store["accounts"])
        return self._create(
            "contacts",
            "Contact_Add",
            lambda t: self.factory.contact(t, self.factory.rng.choice(accounts) if accounts else None, self._agent()),
            schema.CONTACT_FIELDS,
            fields,
        )

    def update_contact(self, contact_id: str, **fields) -> dict:
        return self._update("contacts", "Contact_Update", contact_id, schema.CONTACT_FIELDS, fields)

    def delete_contact(self, contact_id: str) -> None:
        self._delete(
            "contacts",
            "Contact_Delete",
            "Contacts",
            contact_id,
            lambda r: f"{r.get('firstName') or ''} {r.get('lastName') or ''}".strip(),
        )

    def create_account(self, **fields) -> dict:
        return self._create(
            "accounts", "Account_Add", lambda t: self.factory.account(t, self._agent()), schema.ACCOUNT_FIELDS, fields
        )

    def update_account(self, account_id: str, **fields) -> dict:
        return self._update("accounts", "Account_Update", account_id, schema.ACCOUNT_FIELDS, fields)

    def delete_account(self, account_id: str) -> None:
        self._delete("accounts", "Account_Delete", "Accounts", account_id, lambda r: r["accountName"])

    # --- tasks, calls, events, articles (Task_/Call_/Event_/Article_ events) ----------------------------------
    ACTIVITY_MODULES = {
        "tasks": ("Task", schema.TASK_FIELDS),
        "calls": ("Call", schema.CALL_FIELDS),
        "events": ("Event", schema.EVENT_FIELDS),
        "articles": ("Article", schema.ARTICLE_FIELDS),
    }

    def update_record(self, module: str, record_id: str, **fields) -> dict:
        event, allowed = self.ACTIVITY_MODULES[module]
        return self._update(module, f"{event}_Update", record_id, allowed, fields)

    def delete_record(self, module: str, record_id: str) -> None:
        event, _allowed = self.ACTIVITY_MODULES[module]
        kind = "Solutions" if module == "articles" else module.capitalize()
        self._delete(module, f"{event}_Delete", kind, record_id, lambda r: r.get("subject") or r.get("title"))

"""Webhook subscriptions, signing and delivery.

* ``validate_subscriptions`` checks a ``subscriptions`` object against the events Zoho Desk offers (there are
  no Product_* or Contract_* events) and the filter keys each event accepts.
* ``Signer`` holds an RSA key; every delivery carries ``X-ZDesk-JWT``: an RS256 JWT with ``kid`` in its header
  and claims ``iss = "orgId:<org>"``, ``aud = "webhookId:<id>"``, ``iat``, ``exp`` (+``jwt_ttl``). The public
  key is served as a JWKS. The body itself is not signed.
* ``WebhookHub`` turns store mutations into events, queues them per webhook and posts JSON arrays
  ``[{"eventType", "orgId", "eventTime", "payload", "prevState"?}]``. Receipt succeeds only on HTTP 200 [C];
  410 removes the webhook [C]; other failures are retried ``webhook_retries`` times in auto mode [U]. Faults
  (duplicate, reorder, delay, drop, batch) come from ``WebhookFaults``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import random
import threading
import time
from dataclasses import dataclass
from typing import Optional

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .data import epoch_to_dt, iso
from .settings import Clock, Settings, WebhookFaults

_D = frozenset({"departmentId", "departmentIds"})
_P = frozenset({"includePrevState"})
# event -> accepted filter keys; None = the value must be null (no filters)
EVENT_FILTERS = {
    "Ticket_Add": _D,
    "Ticket_Update": _D | {"fields"} | _P,
    "Ticket_Delete": None,
    "Ticket_Thread_Add": _D | {"direction"},
    "Ticket_Comment_Add": _D,
    "Ticket_Comment_Update": _D,
    "Ticket_Attachment_Add": frozenset(),
    "Ticket_Attachment_Update": frozenset(),
    "Ticket_Attachment_Delete": frozenset({"departmentIds"}),
    "Ticket_Approval_Add": None,
    "Ticket_Approval_Update": _P,
    "Contact_Add": None,
    "Contact_Update": _P,
    "Contact_Delete": None,
    "Account_Add": None,
    "Account_Update": _P,
    "Account_Delete": None,
    "Department_Add": None,
    "Department_Update": _P,
    "Agent_Add": None,
    "Agent_Update": _P,
    "Agent_Delete": None,
    "Task_Add": frozenset({"departmentIds"}),
    "Task_Update": frozenset({"departmentIds"}) | _P,
    "Task_Delete": None,
    "Call_Add": frozenset({"departmentIds"}),
    "Call_Update": frozenset({"departmentIds"}) | _P,
    "Call_Delete": None,
    "Event_Add": frozenset({"departmentIds"}),
    "Event_Update": frozenset({"departmentIds"}) | _P,
    "Event_Delete": None,
    "TimeEntry_Add": None,
    "TimeEntry_Update": _P,
    "TimeEntry_Delete": None,
    "Article_Add": None,
    "Article_Update": _P,
    "Article_Delete": None,
}
MAX_UPDATE_FIELDS = 5


def validate_subscriptions(subs) -> Optional[str]:
    """None if valid, else an error message."""
    if not isinstance(subs, dict) or not subs:
        return "'subscriptions' must be a non-empty object"
    for event, flt in subs.items():
        if event not in EVENT_FILTERS:
            return f"Invalid event '{event}' in subscriptions"
        allowed = EVENT_FILTERS[event]
        if flt is None:
            continue
        if allowed is None or not isinstance(flt, dict):
            return f"Event '{event}' does not support filters; pass null"
        for key, value in flt.items():
            if key not in allowed:
                return f"Filter '{key}' is not supported for event '{event}'"
            if key in ("departmentId", "departmentIds"):
                if value is not None and (not isinstance(value, list) or not all(str(v).isdigit() for v in value)):
                    return f"'{key}' of '{event}' must be a list of department ids"
            elif key == "includePrevState":
                if value is not None and not isinstance(value, bool):
                    return f"'includePrevState' of '{event}' must be a boolean"
            elif key == "fields":
                if value is not None and (not isinstance(value, list) or len(value) > MAX_UPDATE_FIELDS):
                    return f"'fields' of '{event}' must be a list of at most {MAX_UPDATE_FIELDS} field names"
            elif key == "direction" and value not in (None, "in", "out"):
                return f"'direction' of '{event}' must be 'in' or 'out'"
    return None


_KEY_CACHE: dict = {}
_KEY_LOCK = threading.Lock()


def _default_key():
    with _KEY_LOCK:
        if "key" not in _KEY_CACHE:
            _KEY_CACHE["key"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return _KEY_CACHE["key"]


class Signer:
    def __init__(self, private_key=None) -> None:
        self.key = private_key or _default_key()
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
        self.kid = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        self.jwk = jwk

    def jwks(self) -> dict:
        return {"keys": [dict(self.jwk)]}

    def sign(self, org_id: str, webhook_id: str, ttl: int) -> str:
        now = int(time.time())
        claims = {"iss": f"orgId:{org_id}", "aud": f"webhookId:{webhook_id}", "iat": now, "exp": now + ttl}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


@dataclass
class PendingEvent:
    webhook_id: str
    event: dict
    due_at: float  # time.monotonic()
    seq: int


@dataclass
class DeliveryRecord:
    webhook_id: str
    url: Optional[str]
    events: list
    status: Optional[int]  # HTTP status; 0 = no answer; None = not sent (dropped/skipped)
    attempt: int
    sent_at: float
    outcome: str  # delivered | failed | gone | dropped | skipped
    duplicate: bool = False
    error: Optional[str] = None
    jwt: Optional[str] = None


@dataclass
class ValidationRecord:
    url: str
    method: str
    status: int
    error: Optional[str] = None


class WebhookHub:
    def __init__(
        self,
        store,
        store_lock,
        settings: Settings,
        faults: WebhookFaults,
        clock: Clock,
        org_id: str,
        signer: Signer,
        seed: int,
    ) -> None:
        self.store = store
        self.store_lock = store_lock
        self.settings = settings
        self.faults = faults
        self.clock = clock
        self.org_id = org_id
        self.signer = signer
        self.rng = random.Random(seed * 7919 + 17)
        self.cond = threading.Condition()
        self.pending: list = []
        self.deliveries: list = []
        self.validations: list = []
        self._seq = 0
        self._busy = 0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    # --- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="zoho-sim-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self.cond:
            self.cond.notify_all()
        if self._thread:
            self._thread.join(timeout=10)
            self._thread = None

    # --- validation ------------------------------------------------------------------------------------------------
    def validate_url(self, url: str) -> Optional[str]:
        """Validation GET, then POST ``[]``; None when one answered 200, else the error message."""
        timeout = self.settings.webhook_timeout
        outcomes = []
        for method in ("GET", "POST"):
            try:
                if method == "GET":
                    r = requests.get(url, timeout=timeout)
                else:
                    r = requests.post(url, json=[], timeout=timeout)
                self.validations.append(ValidationRecord(url, method, r.status_code))
                if r.status_code == 200:
                    return None
                outcomes.append(f"{method} answered {r.status_code}")
            except requests.RequestException as exc:
                self.validations.append(ValidationRecord(url, method, 0, str(exc)))
                outcomes.append(f"{method} got no answer ({type(exc).__name__})")
        return (
            "The webhook URL could not be validated: it must answer 200 OK to the validation request ("
            + "; ".join(outcomes)
            + ")"
        )

    # --- events ----------------------------------------------------------------------------------------------------
    def _event_time(self) -> str:
        now = self.clock.now()
        if self.settings.event_time_format == "iso":
            return iso(epoch_to_dt(now))
        return str(int(now * 1000))

    def emit(
        self,
        event_type: str,
        payload: dict,
        prev_state: Optional[dict] = None,
        department_id: Optional[str] = None,
        changed: Optional[list] = None,
    ) -> int:
        """Queue ``event_type`` for every enabled webhook subscribed to it. Returns how many were queued."""
        with self.store_lock:
            hooks = [copy.deepcopy(w) for w in self.store["webhooks"].values()]
        queued = 0
        for hook in hooks:
            if not hook.get("isEnabled", True):
                continue
            subs = hook.get("subscriptions") or {}
            if event_type not in subs:
                continue
            flt = subs[event_type] or {}
            depts = list(flt.get("departmentIds") or []) + list(flt.get("departmentId") or [])
            if depts and department_id not in [str(d) for d in depts]:
                continue
            if flt.get("fields") and changed is not None and not set(flt["fields"]) & set(changed):
                continue
            event = {
                "eventType": event_type,
                "orgId": self.org_id,
                "eventTime": self._event_time(),
                "payload": copy.deepcopy(payload),
            }
            if flt.get("includePrevState") and prev_state is not None:
                if self.settings.prev_state_mode == "changed" and changed is not None:
                    prev = {k: prev_state.get(k) for k in changed if not k.startswith("cf_")}
                    cf_changed = [k for k in changed if k.startswith("cf_")]
                    if cf_changed:
                        prev["cf"] = {k: (prev_state.get("cf") or {}).get(k) for k in cf_changed}
                    event["prevState"] = prev
                else:
                    event["prevState"] = copy.deepcopy(prev_state)
            with self.cond:
                self._seq += 1
                self.pending.append(PendingEvent(hook["id"], event, time.monotonic() + self.faults.delay, self._seq))
                self.cond.notify_all()
            queued += 1
        return queued

    # --- delivery --------------------------------------------------------------------------------------------------
    def _take(self, force: bool) -> list:
        """Remove due events from the queue and group them into ``(webhook_id, [events])`` batches."""
        with self.cond:
            now = time.monotonic()
            due = [p for p in self.pending if force or p.due_at <= now]
            if not due:
                return []
            taken = set(id(p) for p in due)
            self.pending = [p for p in self.pending if id(p) not in taken]
            self._busy += 1
        due.sort(key=lambda p: p.seq)
        if self.faults.reorder:
            self.rng.shuffle(due)
        size = max(1, int(self.faults.batch or 1))
        batches: list = []
        open_batch: dict = {}
        for p in due:
            b = open_batch.get(p.webhook_id)
            if b is None or len(b[1]) >= size:
                b = (p.webhook_id, [])
                batches.append(b)
                open_batch[p.webhook_id] = b
            b[1].append(p.event)
        return batches

    def _done(self) -> None:
        with self.cond:
            self._busy -= 1
            self.cond.notify_all()

    def _send_batch(self, webhook_id: str, events: list, retries: int) -> list:
        results = []
        with self.store_lock:
            hook = self.store["webhooks"].get(webhook_id)
            url = hook["url"] if hook else None
        if float(self.faults.drop or 0) > 0 and self.rng.random() < float(self.faults.drop):
            self.deliveries.append(DeliveryRecord(webhook_id, url, events, None, 0, time.time(), "dropped"))
            return results
        copies = 2 if float(self.faults.duplicate or 0) > 0 and self.rng.random() < float(self.faults.duplicate) else 1
        for n in range(copies):
            status = self._post(webhook_id, events, retries, duplicate=n > 0)
            if status is not None:
                results.append((url, status))
        return results

    def _post(self, webhook_id: str, events: list, retries: int, duplicate: bool) -> Optional[int]:
        body = json.dumps(events, ensure_ascii=False).encode("utf-8")
        status: Optional[int] = None
        for attempt in range(1, retries + 2):
            with self.store_lock:
                hook = self.store["webhooks"].get(webhook_id)
                url = hook["url"] if hook else None
            if url is None:
                self.deliveries.append(
                    DeliveryRecord(
                        webhook_id,
                        None,
                        events,
                        None,
                        attempt,
                        time.time(),
                        "skipped",
                        duplicate,
                        "webhook no longer exists",
                    )
                )
                return status
            token = self.signer.sign(self.org_id, webhook_id, self.settings.jwt_ttl)
            headers = {
                "Content-Type": "application/json;charset=UTF-8",
                "X-ZDesk-JWT": token,
                "User-Agent": "ZohoDesk-Webhook-Simulator/1.0",
            }
            error = None
            try:
                r = requests.post(url, data=body, headers=headers, timeout=self.settings.webhook_timeout)
                status = r.status_code
            except requests.RequestException as exc:
                status, error = 0, f"{type(exc).__name__}: {exc}"
            outcome = "delivered" if status == 200 else ("gone" if status == 410 else "failed")
            self.deliveries.append(
                DeliveryRecord(webhook_id, url, events, status, attempt, time.time(), outcome, duplicate, error, token)
            )
            if status == 200:
                return status
            if status == 410:
                with self.store_lock:
                    self.store["webhooks"].pop(webhook_id, None)
                return status
            if attempt <= retries:
                delay = self.settings.webhook_retry_backoff * (2 ** (attempt - 1))
                if self._stop.wait(delay):
                    return status
        return status

    def deliver_pending(self, retries: int = 0) -> list:
        """Send everything queued now (ignoring ``delay``), synchronously. Returns ``[(url, status), ...]``."""
        results: list = []
        batches = self._take(force=True)
        if not batches:
            return results
        try:
            for webhook_id, events in batches:
                results.extend(self._send_batch(webhook_id, events, retries))
        finally:
            self._done()
        return results

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self.cond:
                if not self.settings.auto_deliver or not self.pending:
                    self.cond.wait(timeout=0.1)
                    continue
                now = time.monotonic()
                next_due = min(p.due_at for p in self.pending)
                if next_due > now:
                    self.cond.wait(timeout=min(0.1, next_due - now))
                    continue
            batches = self._take(force=False)
            if not batches:
                continue
            try:
                for webhook_id, events in batches:
                    self._send_batch(webhook_id, events, self.settings.webhook_retries)
            finally:
                self._done()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is being sent (and, in auto mode, nothing is queued). False on timeout."""
        end = time.monotonic() + timeout
        with self.cond:
            while (self.pending and self.settings.auto_deliver) or self._busy:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(timeout=min(left, 0.05))
        return True

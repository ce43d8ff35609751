"""Tests of the Zoho Desk simulator itself (integration_tests/simulator)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
import requests

from integration_tests.simulator import TICKET_FIELDS, TICKET_LIST_DEFAULT_FIELDS, ZohoDeskSimulator

ROOT = Path(__file__).resolve().parents[1]
# Upper bounds for conditions the tests wait on, generous for a loaded 2-core CI machine; no test waits them out.
SENDER_DEADLINE = 60.0  # the webhook sender going idle
START_DEADLINE = 60.0  # a Python subprocess starting (or stopping)


def wait_until(condition, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


@pytest.fixture
def sim():
    with ZohoDeskSimulator(seed=7) as s:
        yield s


def desk(sim, path, token=None, org=True, **params):
    headers = {"Authorization": f"Zoho-oauthtoken {token or sim.access_token()}"}
    if org:
        headers["orgId"] = sim.org_id
    return requests.get(sim.desk_base_url + path, headers=headers, params=params, timeout=10)


def token_call(sim, **params):
    r = requests.post(sim.accounts_base_url + "/oauth/v2/token", data=params, timeout=10)
    assert r.status_code == 200
    return r.json()


class Receiver:
    """A tiny webhook endpoint: records requests, answers ``status`` (or ``get_status`` for GET). The next
    deliveries (POSTs with events) take their answers from ``delivery_statuses`` first, so a test can script "fail
    once, then accept" without racing the simulator's retries."""

    def __init__(self):
        self.calls = []
        self.status = 200
        self.get_status = 200
        self.delivery_statuses = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _answer(self, status):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                outer.calls.append((self.command, self.path, dict(self.headers), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                self._answer(outer.get_status)

            def do_POST(self):
                carries_events = int(self.headers.get("Content-Length") or 0) > len(b"[]")
                scripted = outer.delivery_statuses.pop(0) if carries_events and outer.delivery_statuses else None
                self._answer(outer.status if scripted is None else scripted)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/zoho/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def posts(self):
        return [json.loads(c[3]) for c in self.calls if c[0] == "POST" and c[3] not in (b"", b"[]")]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def create_webhook(sim, url, subscriptions, token=None):
    return requests.post(
        sim.desk_base_url + "/webhooks",
        timeout=10,
        headers={"Authorization": f"Zoho-oauthtoken {token or sim.access_token()}", "orgId": sim.org_id},
        json={"url": url, "subscriptions": subscriptions, "name": "test"},
    )


# --- OAuth ------------------------------------------------------------------------------------------------------------
def test_code_exchange_is_single_use_and_expires(sim):
    code = sim.grant_code()
    creds = {"client_id": sim.client_id, "client_secret": sim.client_secret}
    body = token_call(sim, grant_type="authorization_code", code=code, **creds)
    assert set(body) == {"access_token", "refresh_token", "api_domain", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["api_domain"] == "https://www.zohoapis.com"
    assert token_call(sim, grant_type="authorization_code", code=code, **creds) == {"error": "invalid_code"}
    late = sim.grant_code()
    sim.advance_time(sim.settings.code_ttl + 1)
    assert token_call(sim, grant_type="authorization_code", code=late, **creds) == {"error": "invalid_code"}
    wrong = dict(creds, client_secret="nope")
    assert token_call(sim, grant_type="authorization_code", code=sim.grant_code(), **wrong) == {
        "error": "invalid_client"
    }
    # parameters in the query string work too; the refresh token from the exchange is usable
    r = requests.post(
        sim.accounts_base_url + "/oauth/v2/token",
        timeout=10,
        params=dict(grant_type="refresh_token", refresh_token=body["refresh_token"], **creds),
    )
    assert "access_token" in r.json() and "refresh_token" not in r.json()


def test_ten_tokens_per_refresh_token_window(sim):
    rt = sim.refresh_token()
    creds = dict(grant_type="refresh_token", refresh_token=rt, client_id=sim.client_id, client_secret=sim.client_secret)
    for _ in range(10):
        assert "access_token" in token_call(sim, **creds)
    denied = token_call(sim, **creds)
    assert denied["error"] == "Access Denied" and "too many requests" in denied["error_description"]
    assert sim.tokens_minted(rt) == 10
    sim.advance_time(sim.settings.refresh_window + 1)
    assert "access_token" in token_call(sim, **creds)
    assert sim.tokens_minted(rt) == 11
    sim.revoke(rt)
    assert token_call(sim, **creds) == {"error": "invalid_code"}


def test_access_token_expiry(sim):
    tok = sim.access_token()
    assert desk(sim, "/departments", token=tok).status_code == 200
    sim.advance_time(3601)
    r = desk(sim, "/departments", token=tok)
    assert r.status_code == 401 and r.json()["errorCode"] == "INVALID_OAUTH"


# --- gateway checks ---------------------------------------------------------------------------------------------------
def test_header_checks(sim):
    tok = sim.access_token()
    url = sim.desk_base_url + "/tickets"
    r = requests.get(url, headers={"orgId": sim.org_id})
    assert r.status_code == 401 and r.json() == {
        "errorCode": "INVALID_OAUTH",
        "message": "The OAuth Token you provided is invalid.",
    }
    assert requests.get(url, headers={"Authorization": f"Bearer {tok}", "orgId": sim.org_id}).status_code == 401
    assert requests.get(url, headers={"Authorization": "Zoho-oauthtoken junk", "orgId": sim.org_id}).status_code == 401
    r = desk(sim, "/tickets", token=tok, org=False)
    assert r.status_code == 400 and r.json()["errorCode"] == "INVALID_DATA"
    r = requests.get(url, headers={"Authorization": f"Zoho-oauthtoken {tok}", "orgId": "123"})
    assert r.status_code == 401 and r.json()["errorCode"] == "OAUTH_ORG_MISMATCH"
    sim.settings.org_mismatch_status = 403
    assert requests.get(url, headers={"Authorization": f"Zoho-oauthtoken {tok}", "orgId": "123"}).status_code == 403
    r = desk(sim, "/organizations", token=tok, org=False)
    assert r.status_code == 200 and r.json()["data"][0]["id"] == sim.org_id


def test_scopes(sim):
    tok = sim.access_token(scopes="Desk.basic.READ,Desk.settings.READ")
    r = desk(sim, "/tickets", token=tok)
    assert r.status_code == 403 and r.json()["errorCode"] == "SCOPE_MISMATCH"
    assert desk(sim, "/departments", token=tok).status_code == 200
    assert desk(sim, "/products", token=tok).status_code == 200  # settings.READ is enough
    assert desk(sim, "/contracts", token=tok).status_code == 403  # needs contracts.READ too
    tickets_only = sim.access_token(scopes=["Desk.tickets.READ"])
    assert desk(sim, "/tickets/search", token=tickets_only).status_code == 403  # needs Desk.search.READ
    with pytest.raises(ValueError):
        sim.grant_code(scopes="Desk.tickets.READ,Desk.nonsense.READ")


def test_credits_headers_and_exhaustion(sim):
    tok = sim.access_token()
    r = desk(sim, "/tickets", token=tok, limit=10)
    assert r.headers["X-Rate-Limit-Request-Weight-v3"] == "3"
    assert r.headers["X-Rate-Limit-Remaining-v3"] == "99997"
    first = next(iter(sim.store["tickets"]))
    r = desk(sim, f"/tickets/{first}", token=tok)
    assert r.headers["X-Rate-Limit-Request-Weight-v3"] == "1"
    r = desk(sim, "/tickets", token=tok, **{"from": 2100, "limit": 10})
    assert r.status_code == 204 and r.headers["X-Rate-Limit-Request-Weight-v3"] == "5"
    assert sim.requests[-1].credits == 5
    sim.settings.credits_remaining = 2
    r = desk(sim, "/tickets", token=tok)
    assert r.status_code == 429 and r.json()["errorCode"] == "THRESHOLD_EXCEEDED"
    assert int(r.headers["Retry-After"]) > 0 and r.headers["X-Rate-Limit-Request-Weight-v3"] == "0"
    assert desk(sim, f"/tickets/{first}", token=tok).status_code == 200  # 1 credit still fits
    sim.settings.credits_reset_at = time.time() - 1
    assert desk(sim, "/tickets", token=tok).status_code == 200


def test_concurrency_limit(sim):
    sim.settings.max_concurrency = 2
    tok = sim.access_token()
    with ThreadPoolExecutor(2) as pool:
        # Admitted requests read the store under `sim.lock`: while the test holds it they stay in flight, however
        # slow the machine, and every further request meets a full gate.
        with sim.lock:
            admitted = [pool.submit(desk, sim, "/departments", token=tok) for _ in range(2)]
            wait_until(lambda: sim.max_in_flight == 2, "two requests in flight")
            refused = [desk(sim, "/departments", token=tok) for _ in range(4)]
        admitted = [future.result(timeout=60) for future in admitted]
    assert [r.status_code for r in admitted] == [200, 200]
    assert [r.status_code for r in refused] == [429] * 4
    assert all(r.json()["errorCode"] == "TOO_MANY_REQUESTS" for r in refused)
    assert sim.max_in_flight == 2


def test_inject(sim):
    tok = sim.access_token()
    sim.inject("/tickets", 500, times=2)
    assert [desk(sim, "/tickets", token=tok).status_code for _ in range(3)] == [500, 500, 200]
    sim.inject("/api/v1/tickets", 429, error_code="TOO_MANY_REQUESTS", retry_after=7)
    r = desk(sim, "/tickets", token=tok)
    assert r.status_code == 429 and r.headers["Retry-After"] == "7" and r.json()["errorCode"] == "TOO_MANY_REQUESTS"
    sim.inject("/tickets", 0)
    with pytest.raises(requests.ConnectionError):
        desk(sim, "/tickets", token=tok)
    sim.inject("/departments", 502, body=b"<html>Bad gateway</html>")
    r = desk(sim, "/departments", token=tok)
    assert r.status_code == 502 and r.text == "<html>Bad gateway</html>"
    assert desk(sim, "/departments", token=tok).status_code == 200


# --- lists ------------------------------------------------------------------------------------------------------------
def test_empty_page_is_204_with_empty_body(sim):
    r = desk(sim, "/tickets", **{"from": 5000, "limit": 10})
    assert r.status_code == 204 and r.content == b""
    r = desk(sim, "/tickets/search", modifiedTimeRange="2030-01-01T00:00:00.000Z,2030-02-01T00:00:00.000Z")
    assert r.status_code == 204 and r.content == b""


@pytest.mark.parametrize(
    "path,limit,ok",
    [
        ("/tickets", 100, True),
        ("/tickets", 101, False),
        ("/tickets", 0, False),
        ("/departments", 200, True),
        ("/departments", 201, False),
        ("/products", 101, False),
        ("/contracts", 100, True),
        ("/tickets/search", 101, False),
        ("/recycleBin", 101, False),
    ],
)
def test_limit_range(sim, path, limit, ok):
    r = desk(sim, path, limit=limit)
    if ok:
        assert r.status_code in (200, 204)
    else:
        assert r.status_code == 422
        body = r.json()
        assert body["errorCode"] == "UNPROCESSABLE_ENTITY"
        assert body["message"] == "The value passed for the 'limit' exceeds the range"
        assert body["errors"][0]["fieldName"] == "limit"


def test_parameter_validation(sim):
    tok = sim.access_token()
    sim.settings.ticket_list_max_limit = 50
    assert desk(sim, "/tickets", token=tok, limit=51).status_code == 422
    for bad in ({"from": -1}, {"from": "abc"}):
        r = desk(sim, "/tickets", token=tok, **bad)
        assert r.status_code == 422 and r.json()["errors"][0]["fieldName"] == "from"
    r = desk(sim, "/tickets", token=tok, bogus="1")
    assert r.status_code == 422 and r.json()["errorCode"] == "INVALID_DATA"
    assert desk(sim, "/tickets", token=tok, sortBy="modifiedTime").status_code == 422
    assert desk(sim, "/tickets", token=tok, sortBy="-dueDate").status_code == 200
    assert desk(sim, "/tickets", token=tok, include="contacts,nope").status_code == 422
    assert desk(sim, "/tickets/search", token=tok, **{"from": 1000}).status_code == 422
    assert desk(sim, "/tickets/search", token=tok, **{"from": 999}).status_code in (200, 204)
    assert desk(sim, "/tickets/search", token=tok, modifiedTimeRange="2024-01-01,2024-02-01").status_code == 422
    assert desk(sim, "/contracts", token=tok, departmentIds=",".join(["1"] * 11)).status_code == 422
    assert desk(sim, "/organizationFields", token=tok, module="widgets").status_code == 422


def test_pagination_walk_and_from_base(sim):
    tok = sim.access_token()
    expected = list(sim.store["tickets"])
    seen, start = [], 0
    while True:
        r = desk(sim, "/tickets", token=tok, **{"from": start, "limit": 100})
        if r.status_code == 204:
            break
        seen += [t["id"] for t in r.json()["data"]]
        start += 100
    assert seen == expected and len(expected) == 237
    first = desk(sim, "/tickets", token=tok, **{"from": 0, "limit": 1}).json()["data"][0]["id"]
    second = desk(sim, "/tickets", token=tok, **{"from": 1, "limit": 1}).json()["data"][0]["id"]
    assert (first, second) == tuple(expected[:2])
    sim.settings.list_from_base = 1
    assert desk(sim, "/tickets", token=tok, **{"from": 1, "limit": 1}).json()["data"][0]["id"] == expected[0]
    assert desk(sim, "/tickets", token=tok, **{"from": 0, "limit": 1}).json()["data"][0]["id"] == expected[0]
    contracts = list(sim.store["contracts"])
    assert desk(sim, "/contracts", token=tok, **{"from": 1, "limit": 1}).json()["data"][0]["id"] == contracts[0]
    products = list(sim.store["products"])
    assert desk(sim, "/products", token=tok, **{"from": 1, "limit": 1}).json()["data"][0]["id"] == products[1]


def test_ticket_projections(sim):
    tok = sim.access_token()
    rows = desk(sim, "/tickets", token=tok, limit=5).json()["data"]
    for row in rows:
        assert set(row) == set(TICKET_LIST_DEFAULT_FIELDS)
        assert "modifiedTime" not in row and "cf" not in row and "description" not in row
    detail = desk(sim, f"/tickets/{rows[0]['id']}", token=tok).json()
    assert set(detail) == set(TICKET_FIELDS)
    assert detail == sim.store["tickets"][rows[0]["id"]]
    r = desk(sim, "/tickets", token=tok, limit=3, fields="subject,modifiedTime,cf_impact_level,cf_is_vip")
    for row in r.json()["data"]:
        assert set(row) == {"id", "subject", "modifiedTime", "cf"}
        assert set(row["cf"]) == {"cf_impact_level", "cf_is_vip"}
        assert row["modifiedTime"] == sim.store["tickets"][row["id"]]["modifiedTime"]
    r = desk(sim, "/tickets", token=tok, limit=2, fields="status", include="contacts,assignee")
    assert {"contact", "assignee", "status", "id"} == set(r.json()["data"][0])
    too_many = ",".join(f for f in TICKET_FIELDS if f not in ("cf", "description", "resolution"))[:]
    assert len(too_many.split(",")) > 30
    r = desk(sim, "/tickets", token=tok, fields=too_many)
    assert r.status_code == 422 and r.json()["errors"][0]["fieldName"] == "fields"
    assert desk(sim, "/tickets", token=tok, fields=",".join(too_many.split(",")[:30])).status_code == 200
    for multiline in ("description", "cf_root_cause_notes", "cf_internal_log"):
        assert desk(sim, "/tickets", token=tok, fields=f"subject,{multiline}").status_code == 422
    assert desk(sim, "/tickets", token=tok, fields="subject,notAField").status_code == 422
    missing = desk(sim, "/tickets/1892000000000000001", token=tok)
    assert missing.status_code == 404 and missing.json()["errorCode"] == "URL_NOT_FOUND"


def test_search_by_modified_time(sim):
    tok = sim.access_token()
    lo, hi = "2023-06-01T00:00:00.000Z", "2023-09-01T00:00:00.000Z"
    expected = sorted(t["id"] for t in sim.store["tickets"].values() if lo <= t["modifiedTime"] <= hi)
    got, start = [], 0
    while True:
        r = desk(
            sim,
            "/tickets/search",
            token=tok,
            modifiedTimeRange=f"{lo},{hi}",
            sortBy="modifiedTime",
            limit=100,
            **{"from": start},
        )
        if r.status_code == 204:
            break
        data = r.json()["data"]
        assert all("modifiedTime" in d and "cf" in d and "description" in d for d in data)  # complete rows [C]
        got += [d["id"] for d in data]
        start += 100
    assert sorted(got) == expected and expected


def test_other_modules(sim):
    tok = sim.access_token()
    depts = desk(sim, "/departments", token=tok, limit=200).json()["data"]
    assert len(depts) == 6 and all("modifiedTime" not in d for d in depts)
    assert len(desk(sim, "/departments", token=tok, isEnabled="true", limit=200).json()["data"]) == 5
    products = desk(sim, "/products", token=tok, limit=100).json()["data"]
    assert len(products) == 41
    assert set(products[0]) == {"id", "productName", "productCode", "unitPrice", "departmentIds"}
    pdetail = desk(sim, f"/products/{products[0]['id']}", token=tok).json()
    assert {"cf", "createdTime", "modifiedTime", "description", "ownerId", "isDeleted"} <= set(pdetail)
    contracts = desk(sim, "/contracts", token=tok, limit=100).json()["data"]
    assert len(contracts) == 57 and "modifiedTime" not in contracts[0] and "cf" not in contracts[0]
    cdetail = desk(sim, f"/contracts/{contracts[0]['id']}", token=tok).json()
    assert {"cf", "modifiedTime", "createdTime", "description"} <= set(cdetail)
    assert desk(sim, "/ticketsCount", token=tok).json() == {"count": "237"}


def test_organization_fields(sim):
    tok = sim.access_token()
    all_ids = []
    for module in ("tickets", "contacts", "accounts", "tasks", "calls", "events", "contracts", "products"):
        r = desk(sim, "/organizationFields", token=tok, module=module)
        assert r.status_code == 200
        fields = r.json()["data"]
        all_ids += [f["id"] for f in fields]
        assert all(
            {"id", "apiName", "displayLabel", "type", "isCustomField", "isMandatory", "maxLength"} <= set(f)
            for f in fields
        )
    assert len(all_ids) == len(set(all_ids))
    tfields = desk(sim, "/organizationFields", token=tok, module="tickets").json()["data"]
    custom = {f["apiName"]: f["type"] for f in tfields if f["isCustomField"]}
    ticket = next(iter(sim.store["tickets"].values()))
    assert set(custom) == set(ticket["cf"])
    assert {"Textarea", "Picklist", "Date", "Number", "Checkbox", "Multiselect", "Decimal"} <= set(custom.values())


def test_seeded_data_is_deterministic_and_well_formed():
    a, b = ZohoDeskSimulator(seed=11), ZohoDeskSimulator(seed=11)
    assert json.dumps(a.store, sort_keys=True) == json.dumps(b.store, sort_keys=True)
    assert a.org_id == b.org_id and a.client_id == b.client_id
    assert ZohoDeskSimulator(seed=12).org_id != a.org_id
    tickets = list(a.store["tickets"].values())
    assert all(int(t["id"]) > 2**53 and 16 <= len(t["id"]) <= 19 for t in tickets)
    assert [t["createdTime"] for t in tickets] == sorted(t["createdTime"] for t in tickets)
    assert len({t["createdTime"] for t in tickets}) == len(tickets)
    assert [int(t["id"]) for t in tickets] == sorted(int(t["id"]) for t in tickets)
    assert all(isinstance(t["threadCount"], str) and t["createdTime"].endswith("Z") for t in tickets)
    assert any(t["assigneeId"] is None for t in tickets) and any(t["dueDate"] is None for t in tickets)
    assert any(any(ord(c) > 0x3000 for c in t["subject"]) for t in tickets)


# --- webhooks ---------------------------------------------------------------------------------------------------------
def test_webhook_create_requires_validation(sim, receiver):
    receiver.get_status = 500
    receiver.status = 500
    r = create_webhook(sim, receiver.url, {"Ticket_Add": None})
    assert r.status_code == 422 and "validat" in r.json()["errors"][0]["errorMessage"]
    assert sim.store["webhooks"] == {}
    assert [c[0] for c in receiver.calls] == ["GET", "POST"]
    receiver.status = 200  # GET still fails, POST fallback succeeds
    r = create_webhook(sim, receiver.url, {"Ticket_Add": None, "Ticket_Update": {"includePrevState": True}})
    assert r.status_code == 200 and r.json()["id"] in sim.store["webhooks"]
    assert create_webhook(sim, receiver.url, {"Product_Add": None}).status_code == 422
    assert create_webhook(sim, receiver.url, {"Ticket_Delete": {"includePrevState": True}}).status_code == 422
    assert create_webhook(sim, "http://127.0.0.1:9/" + "x" * 100, {"Ticket_Add": None}).status_code == 422
    listed = desk(sim, "/webhooks")
    assert listed.status_code == 200 and len(listed.json()["data"]) == 1


def test_signed_delivery_verified_with_jwks(sim, receiver):
    sim.settings.auto_deliver = False
    hook = create_webhook(
        sim, receiver.url, {"Ticket_Add": None, "Ticket_Update": {"includePrevState": True}, "Ticket_Delete": None}
    ).json()
    tid = next(iter(sim.store["tickets"]))
    old_status = sim.store["tickets"][tid]["status"]
    before = sim.store["tickets"][tid]["modifiedTime"]
    updated = sim.update_ticket(tid, status="On Hold", cf_impact_level="Critical")
    assert updated["modifiedTime"] > before and updated["statusType"] == "On Hold"
    created = sim.create_ticket(subject="Nouveau ticket ✨")
    sim.delete_ticket(created["id"])
    results = sim.deliver_pending()
    assert [s for _, s in results] == [200, 200, 200]
    bodies = receiver.posts()
    assert [b[0]["eventType"] for b in bodies] == ["Ticket_Update", "Ticket_Add", "Ticket_Delete"]
    upd = bodies[0][0]
    assert upd["orgId"] == sim.org_id and upd["eventTime"].isdigit()
    assert upd["payload"] == sim.store["tickets"][tid]
    assert upd["prevState"]["status"] == old_status and upd["payload"]["cf"]["cf_impact_level"] == "Critical"
    assert "prevState" not in bodies[1][0] and bodies[2][0]["payload"] == {"id": created["id"]}
    assert desk(sim, f"/tickets/{created['id']}").status_code == 404
    headers = [c[2] for c in receiver.calls if c[0] == "POST" and c[3] not in (b"[]",)]
    token = headers[0]["X-ZDesk-JWT"]
    key = jwt.PyJWKClient(sim.jwks_url).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token, key.key, algorithms=["RS256"], audience=f"webhookId:{hook['id']}", issuer=f"orgId:{sim.org_id}"
    )
    assert claims["exp"] - claims["iat"] == 300 and jwt.get_unverified_header(token)["kid"]


def test_auto_delivery_retries_and_410(sim, receiver):
    sim.settings.webhook_retry_backoff = 0.05
    hook = create_webhook(sim, receiver.url, {"Department_Update": {"includePrevState": False}}).json()
    receiver.delivery_statuses = [503]  # the first attempt fails, the retry finds the receiver back
    dept = next(iter(sim.store["departments"]))
    sim.update_department(dept, description="Nouvelle description")
    assert sim.wait_for_deliveries(SENDER_DEADLINE)
    assert [d.outcome for d in sim.deliveries] == ["failed", "delivered"]
    assert len(receiver.posts()) == 2
    receiver.status = 410
    sim.update_department(dept, description="again")
    assert sim.wait_for_deliveries(SENDER_DEADLINE)
    assert sim.deliveries[-1].outcome == "gone"
    assert hook["id"] not in sim.store["webhooks"]


def test_delivery_faults(sim, receiver):
    sim.settings.auto_deliver = False
    create_webhook(sim, receiver.url, {"Contact_Add": None})
    sim.webhook_faults.batch = 3
    for i in range(3):
        sim.create_contact(firstName=f"Zoë {i}")
    assert len(sim.deliver_pending()) == 1
    assert [len(b) for b in receiver.posts()] == [3]
    sim.webhook_faults.batch = 1
    sim.webhook_faults.duplicate = True
    sim.create_contact()
    assert len(sim.deliver_pending()) == 2
    sim.webhook_faults.duplicate = 0
    sim.webhook_faults.drop = True
    sim.create_contact()
    assert sim.deliver_pending() == [] and sim.deliveries[-1].outcome == "dropped"


def test_cli_prints_config():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "integration_tests.simulator",
            "--tickets",
            "5",
            "--calls",
            "3",
            "--events",
            "2",
            "--articles",
            "4",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []  # read on a daemon thread: a simulator that never prints fails the test instead of hanging it
        reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_DEADLINE)
        assert lines, f"the simulator printed nothing in {START_DEADLINE:g} s"
        info = json.loads(lines[0])
        assert {"base_url", "desk_base_url", "accounts_base_url", "jwks_url", "org_id", "config"} <= set(info)
        creds = info["config"]["credentials"]
        tok = token_call(
            type("S", (), {"accounts_base_url": info["accounts_base_url"]}),
            grant_type="refresh_token",
            refresh_token=creds["refresh_token"],
            client_id=creds["client_id"],
            client_secret=creds["client_secret"],
        )["access_token"]
        r = requests.get(
            info["desk_base_url"] + "/ticketsCount",
            timeout=30,
            headers={"Authorization": f"Zoho-oauthtoken {tok}", "orgId": info["org_id"]},
        )
        assert r.json() == {"count": "5"}
    finally:
        proc.terminate()
        proc.wait(timeout=START_DEADLINE)


def test_uncertain_event_switches(sim, receiver):
    sim.settings.auto_deliver = False
    create_webhook(sim, receiver.url, {"Ticket_Update": {"includePrevState": True}, "Ticket_Delete": None})
    sim.settings.event_time_format = "iso"
    sim.settings.delete_also_sends_update = True
    tid = next(iter(sim.store["tickets"]))
    sim.delete_ticket(tid)
    sim.deliver_pending()
    events = [b[0] for b in receiver.posts()]
    assert [e["eventType"] for e in events] == ["Ticket_Update", "Ticket_Delete"]
    assert events[0]["payload"]["isDeleted"] is True and events[0]["prevState"]["isDeleted"] is False
    assert events[1]["eventTime"].endswith("Z") and "T" in events[1]["eventTime"]
    assert tid not in sim.store["tickets"] and tid in sim.store["recycleBin"]


def test_inject_on_token_endpoint(sim):
    sim.inject("/oauth/v2/token", 503)
    r = requests.post(
        sim.accounts_base_url + "/oauth/v2/token",
        timeout=10,
        data={
            "grant_type": "refresh_token",
            "refresh_token": sim.refresh_token(),
            "client_id": sim.client_id,
            "client_secret": sim.client_secret,
        },
    )
    assert r.status_code == 503
    assert sim.tokens_minted() == 0


# --- the streams beyond the first five: endpoints, paging, scopes ----------------------------------------------------
def first(sim, module):
    return next(iter(sim.store[module].values()))


def busiest_ticket(sim):
    """A ticket with threads, comments, attachments, time entries and tags to list."""
    return max(
        sim.store["tickets"].values(),
        key=lambda t: (
            sum(
                min(int(t[k]), 1)
                for k in ("threadCount", "commentCount", "attachmentCount", "timeEntryCount", "tagCount")
            )
            * 100
            + int(t["threadCount"])
        ),
    )


# (path with {ticket}/{dept}/{team} placeholders, extra params, envelope, maximum limit or None when not paged,
#  from base). Each list answers its envelope, 422 "exceeds the range" past the maximum and 204 past the end.
NEW_LISTS = [
    ("/teams", {}, "teams", 200, 0),
    ("/departments/{dept}/teams", {}, "teams", 200, 0),
    ("/teams/{team}/members", {}, "members", None, 0),
    ("/roles", {}, "data", 500, 0),
    ("/profiles", {}, "data", 250, 0),
    ("/skills", {"departmentId": "{dept}"}, "data", 100, 0),
    ("/layouts", {"module": "tickets"}, "data", 99, 0),
    ("/businessHours", {}, "data", 50, 0),
    ("/holidayList", {}, "data", 50, 0),
    ("/supportPlans", {"departmentId": "{dept}"}, "data", 50, 0),
    ("/channels", {}, "data", None, 0),
    ("/agents", {}, "data", 200, 0),
    ("/contacts", {}, "data", 100, 0),
    ("/accounts", {}, "data", 100, 0),
    ("/tasks", {}, "data", 100, 0),
    ("/calls", {}, "data", 100, 0),
    ("/events", {}, "data", 100, 0),
    ("/tickets/{ticket}/threads", {}, "data", 200, 0),
    ("/tickets/{ticket}/comments", {}, "data", 100, 0),
    ("/tickets/{ticket}/timeEntry", {}, "data", 100, 0),
    ("/tickets/{ticket}/attachments", {}, "data", 100, 0),
    ("/tickets/{ticket}/tags", {}, "data", None, 0),
    ("/tickets/{ticket}/activities", {}, "data", 100, 0),
    ("/articles", {}, "data", 50, 1),
    ("/kbRootCategories", {}, "data", 700, 1),
    ("/recycleBin", {}, "data", 100, 0),
]


def fill(sim, value):
    team = next(t for t in sim.store["teams"].values() if t["derivedAgents"])
    dept = team["departmentId"]
    return value.format(ticket=busiest_ticket(sim)["id"], dept=dept, team=team["id"])


@pytest.mark.parametrize("path,params,envelope,max_limit,base", NEW_LISTS, ids=[p[0] for p in NEW_LISTS])
def test_new_lists_shape_paging_and_ranges(sim, path, params, envelope, max_limit, base):
    tok = sim.access_token()
    path = fill(sim, path)
    params = {k: fill(sim, v) for k, v in params.items()}
    r = desk(sim, path, token=tok, **params)
    assert r.status_code == 200, r.text
    rows = r.json()[envelope]
    assert rows and set(r.json()) == {envelope}
    assert all(isinstance(row.get("id", row.get("code")), str) for row in rows)
    if max_limit is None:
        assert desk(sim, path, token=tok, bogus="1", **params).status_code == 422  # strict parameters
        return
    r = desk(sim, path, token=tok, limit=max_limit + 1, **params)
    assert r.status_code == 422 and r.json()["errors"][0]["fieldName"] == "limit"
    assert r.json()["message"] == "The value passed for the 'limit' exceeds the range"
    r = desk(sim, path, token=tok, limit=max_limit, **{"from": 5000}, **params)
    assert r.status_code == 204 and r.content == b""
    # one row at a time gives the first rows of the big page, in the same order, then 204 past the end
    whole = desk(sim, path, token=tok, limit=max_limit, **params).json()[envelope]
    walked = []
    for start in range(base, base + min(len(whole), 12)):
        walked += desk(sim, path, token=tok, limit=1, **{"from": start}, **params).json()[envelope]
    assert [w["id"] for w in walked] == [w["id"] for w in whole[: len(walked)]]
    if len(whole) < max_limit:
        assert desk(sim, path, token=tok, limit=1, **{"from": base + len(whole)}, **params).status_code == 204


def test_new_list_scopes(sim):
    basic = sim.access_token(scopes="Desk.basic.READ")
    assert desk(sim, "/teams", token=basic).status_code == 200
    assert desk(sim, "/roles", token=basic).status_code == 200
    assert desk(sim, "/channels", token=basic).status_code == 200
    assert desk(sim, "/fields", token=basic, module="tickets").status_code == 200
    dept = first(sim, "departments")["id"]
    r = desk(sim, "/skills", token=basic, departmentId=dept)
    assert r.status_code == 403 and r.json()["errorCode"] == "SCOPE_MISMATCH"
    assert desk(sim, "/businessHours", token=basic).status_code == 403
    settings_only = sim.access_token(scopes="Desk.settings.READ")
    assert desk(sim, "/businessHours", token=settings_only).status_code == 200
    assert desk(sim, "/recycleBin", token=settings_only).status_code == 200
    tickets_only = sim.access_token(scopes="Desk.tickets.READ")
    ticket = busiest_ticket(sim)["id"]
    assert desk(sim, f"/tickets/{ticket}/threads", token=tickets_only).status_code == 200
    assert desk(sim, "/tasks", token=tickets_only).status_code == 403
    activity_scope = sim.access_token(scopes="Desk.activities.tasks.READ")  # the OAS's three-part scope names
    assert desk(sim, "/tasks", token=activity_scope).status_code == 200
    assert desk(sim, f"/tickets/{ticket}/activities", token=activity_scope).status_code == 200
    assert desk(sim, "/tasks/search", token=activity_scope).status_code == 403  # needs Desk.search.READ too
    searching = sim.access_token(scopes="Desk.tasks.READ,Desk.search.READ")
    assert desk(sim, "/tasks/search", token=searching).status_code == 200
    assert desk(sim, "/articles", token=basic).status_code == 403
    # the other reading of the OAS security blocks: every scope of a block required [U]
    sim.settings.scope_list_semantics = "all"
    assert desk(sim, "/teams", token=basic).status_code == 403
    assert (
        desk(
            sim, "/teams", token=sim.access_token(scopes="Desk.basic.READ,Desk.settings.READ,Desk.teams.READ")
        ).status_code
        == 200
    )
    assert desk(sim, "/businessHours", token=settings_only).status_code == 200  # its second block is settings alone
    with pytest.raises(ValueError):
        sim.access_token(scopes="Desk.activities.widgets.READ")


def test_teams_members_roles_profiles_skills(sim):
    tok = sim.access_token()
    teams = desk(sim, "/teams", token=tok).json()["teams"]  # limit 0, the default, lists every team
    assert len(teams) == len(sim.store["teams"])
    assert all(
        {
            "id",
            "name",
            "departmentId",
            "roles",
            "agents",
            "derivedAgents",
            "subTeams",
            "logoUrl",
            "rolesWithSubordinates",
        }
        <= set(t)
        for t in teams
    )
    team = next(t for t in teams if t["derivedAgents"])
    members = desk(sim, f"/teams/{team['id']}/members", token=tok, include="role,profile").json()["members"]
    assert [m["id"] for m in members] == team["derivedAgents"]
    assert all(m["role"]["id"] == m["roleId"] and m["profile"]["id"] == m["profileId"] for m in members)
    roles = desk(sim, "/roles", token=tok, limit=0).json()["data"]  # 0: all
    assert len(roles) == 6 and {r["id"] for r in roles} >= {a["roleId"] for a in sim.store["agents"].values()}
    assert desk(sim, "/roles", token=tok, isVisible="false", limit=50).json()["data"] == [
        r for r in roles if not r["isVisible"]
    ]
    assert len(desk(sim, "/profiles", token=tok, searchStr="agent").json()["data"]) == 3
    plain = desk(sim, "/profiles", token=tok).json()["data"]
    assert all(set(p) == {"id", "name"} for p in plain)
    rich = desk(sim, "/profiles", token=tok, fields="type,permissions").json()["data"]
    assert all(set(p) == {"id", "name", "type", "permissions"} for p in rich)
    assert desk(sim, "/profiles", token=tok, fields="type,secret").status_code == 422
    r = desk(sim, "/skills", token=tok)
    assert r.status_code == 422 and r.json()["errors"][0]["errorType"] == "missing"
    dept = first(sim, "departments")["id"]
    skills = desk(sim, "/skills", token=tok, departmentId=dept).json()["data"]
    assert skills and all(
        s["departmentId"] == dept and s["skillType"]["skillTypeId"] == s["skillTypeId"] for s in skills
    )
    agents = desk(sim, "/agents", token=tok, include="role,profile", sortOrder="desc", limit=200).json()["data"]
    assert [a["name"] for a in agents] == sorted((a["name"] for a in agents), key=str.lower, reverse=True)
    assert all(a["role"]["id"] == a["roleId"] and "cf" in a and "rolePermissionType" in a for a in agents)


def test_setup_lists(sim):
    tok = sim.access_token()
    layouts = desk(sim, "/layouts", token=tok, module="tickets").json()["data"]
    assert {lay["id"] for lay in layouts} >= {t["layoutId"] for t in sim.store["tickets"].values()}
    assert len(layouts) == len(sim.store["departments"])  # one ticket layout per department
    assert desk(sim, "/layouts", token=tok).status_code == 422  # module is required
    assert desk(sim, "/layouts", token=tok, module="widgets").status_code == 422
    task_layout = desk(sim, "/layouts", token=tok, module="tasks").json()["data"]
    assert [lay["id"] for lay in task_layout] == [first(sim, "tasks")["layoutId"]]
    hours = desk(sim, "/businessHours", token=tok).json()["data"]
    assert any(h["associatedHolidayList"] for h in hours)
    bare = requests.get(
        sim.desk_base_url + "/businessHours",
        timeout=10,
        headers={"Authorization": f"Zoho-oauthtoken {tok}", "orgId": sim.org_id, "exclude_holiday_list": "true"},
    ).json()
    assert all("associatedHolidayList" not in h for h in bare["data"])
    holidays = desk(sim, "/holidayList", token=tok).json()["data"]
    assert holidays and all("holidays" not in h for h in holidays)
    assert desk(sim, f"/holidayList/{holidays[0]['id']}", token=tok).json()["holidays"]
    assert [h["status"] for h in desk(sim, "/holidayList", token=tok, status="INACTIVE").json()["data"]] == ["INACTIVE"]
    dept = first(sim, "departments")
    plans = desk(sim, "/supportPlans", token=tok, departmentId=dept["id"]).json()["data"]
    assert len(plans) == 2 and all(p["department"] == {"id": dept["id"], "name": dept["name"]} for p in plans)
    assert all(p["sla"]["id"] in sim.store.slas for p in plans)
    channels = desk(sim, "/channels", token=tok).json()["data"]
    assert {"EMAIL", "PHONE", "FACEBOOK"} <= {c["code"] for c in channels}
    assert {c["type"] for c in channels} == {"SYSTEM", "INTEGRATION", "INSTANT_MESSAGE"}
    assert desk(sim, "/channels/email", token=tok).json()["code"] == "EMAIL"


def test_ticket_children_follow_the_counters(sim):
    tok = sim.access_token()
    tickets = sorted(sim.store["tickets"].values(), key=lambda t: t["id"])[:12]
    ids = set()
    for ticket in tickets:
        tid = ticket["id"]
        for path, counter in (
            ("threads", "threadCount"),
            ("comments", "commentCount"),
            ("attachments", "attachmentCount"),
            ("timeEntry", "timeEntryCount"),
            ("tags", "tagCount"),
        ):
            r = desk(sim, f"/tickets/{tid}/{path}", token=tok, **({} if path == "tags" else {"limit": 100}))
            rows = r.json()["data"] if r.status_code == 200 else []
            assert r.status_code in (200, 204) and len(rows) == int(ticket[counter]), (path, tid)
            for row in rows:
                stamp = row.get("createdTime") or row.get("commentedTime")
                if stamp:
                    assert ticket["createdTime"] <= stamp <= ticket["modifiedTime"]
                if path != "tags":
                    assert row["id"] not in ids and int(row["id"]) > 2**53
                    ids.add(row["id"])
    ticket = busiest_ticket(sim)
    threads = desk(sim, f"/tickets/{ticket['id']}/threads", token=tok).json()["data"]
    assert [t["createdTime"] for t in threads] == sorted((t["createdTime"] for t in threads), reverse=True)
    assert threads[-1]["isDescriptionThread"] and threads[-1]["direction"] == "in"
    assert all(
        "content" not in t and t["summary"] is not None and isinstance(t["attachmentCount"], str) for t in threads
    )
    assert {
        "id",
        "channel",
        "direction",
        "status",
        "visibility",
        "author",
        "createdTime",
        "contentType",
        "hasAttach",
        "fromEmailAddress",
        "respondedIn",
    } <= set(threads[0])
    detail = desk(sim, f"/tickets/{ticket['id']}/threads/{threads[0]['id']}", token=tok, include="plainText").json()
    assert detail["content"] and detail["plainText"] == threads[0]["summary"]
    ascending = desk(sim, f"/tickets/{ticket['id']}/threads", token=tok, sortBy="sendDateTime").json()["data"]
    assert ascending == threads[::-1]
    comments = desk(sim, f"/tickets/{ticket['id']}/comments", token=tok).json()["data"]
    assert [c["commentedTime"] for c in comments] == sorted(c["commentedTime"] for c in comments)
    assert all(
        {
            "id",
            "content",
            "contentType",
            "isPublic",
            "commenterId",
            "commenter",
            "commentedTime",
            "modifiedTime",
            "attachments",
        }
        <= set(c)
        and "mention" not in c
        for c in comments
    )
    assert all(
        "mention" in c
        for c in desk(sim, f"/tickets/{ticket['id']}/comments", token=tok, include="mentions").json()["data"]
    )
    assert desk(sim, f"/tickets/{ticket['id']}/comments", token=tok, limit=101).status_code == 422
    attachments = desk(sim, f"/tickets/{ticket['id']}/attachments", token=tok, include="creator").json()["data"]
    assert all(
        {"id", "name", "size", "creatorId", "createdTime", "isPublic", "href", "creator"} <= set(a) for a in attachments
    )
    assert desk(sim, "/tickets/1892000000000000001/threads", token=tok).status_code == 404
    trashed = next(iter(sim.store.trash))
    assert desk(sim, f"/tickets/{trashed}/comments", token=tok).status_code == 404


def test_ticket_children_are_deterministic_whatever_the_read_order():
    a, b = ZohoDeskSimulator(seed=5), ZohoDeskSimulator(seed=5)
    tickets = list(a.store["tickets"].values())
    forward = [a.store.children.of(t) for t in tickets]
    backward = [b.store.children.of(b.store["tickets"][t["id"]]) for t in reversed(tickets)][::-1]
    assert json.dumps(forward, sort_keys=True) == json.dumps(backward, sort_keys=True)
    created = a.create_ticket(subject="new")
    assert len(a.store.children.of(a.store["tickets"][created["id"]])["threads"]) == int(created["threadCount"])


def test_time_entries(sim):
    tok = sim.access_token()
    ticket = max(sim.store["tickets"].values(), key=lambda t: int(t["timeEntryCount"]))
    path = f"/tickets/{ticket['id']}/timeEntry"
    entries = desk(sim, path, token=tok, include="owner").json()["data"]
    assert len(entries) == int(ticket["timeEntryCount"]) >= 2
    assert [e["executedTime"] for e in entries] == sorted(e["executedTime"] for e in entries)
    desc = desk(sim, path, token=tok, orderBy="DESC").json()["data"]
    assert [e["id"] for e in desc] == [e["id"] for e in sorted(entries, key=lambda e: e["executedTime"], reverse=True)]
    for e in entries:
        assert e["parent"] == {
            "id": ticket["id"],
            "ticketNumber": ticket["ticketNumber"],
            "subject": ticket["subject"],
            "type": "TICKETS",
        }
        assert isinstance(e["hoursSpent"], str) and isinstance(e["isBillable"], bool) and e["isTrashed"] == "false"
        assert e["owner"]["id"] == e["ownerId"]
    custom = {f["apiName"] for f in sim.store.fields["timeEntry"] if f["isCustomField"]}
    assert all(set(e["cf"]) == custom for e in entries)
    latest = max(e["modifiedTime"] for e in entries)
    r = desk(sim, path, token=tok, modifiedTimeRange=f"{latest},{latest}")
    assert {e["id"] for e in r.json()["data"]} == {e["id"] for e in entries if e["modifiedTime"] == latest}
    billable = desk(sim, path, token=tok, billStatus="billable")
    assert [e["id"] for e in (billable.json()["data"] if billable.status_code == 200 else [])] == [
        e["id"] for e in entries if e["isBillable"]
    ]
    assert desk(sim, path, token=tok, module="tasks").status_code == 204
    assert desk(sim, path, token=tok, orderBy="sideways").status_code == 422


def test_tasks_calls_events_and_ticket_activities(sim):
    tok = sim.access_token()
    for ticket in list(sim.store["tickets"].values())[:40]:
        assert sum(1 for t in sim.store["tasks"].values() if t["ticketId"] == ticket["id"]) == int(ticket["taskCount"])
    calls = desk(sim, "/calls", token=tok, limit=100, sortBy="startTime").json()["data"]
    assert len(calls) == len(sim.store["calls"]) == 78  # 80 made, 2 already in the recycle bin
    assert [c["startTime"] for c in calls] == sorted(c["startTime"] for c in calls)
    for call in calls:
        assert {"direction", "duration", "status", "startTime", "contactId", "ticketId"} <= set(call)
        assert call["direction"] in ("inbound", "outbound") and call["duration"].isdigit()
        assert "cf" not in call and "description" not in call
    assert any(c["ticketId"] for c in calls) and any(c["ticketId"] is None for c in calls)
    detail = desk(sim, f"/calls/{calls[0]['id']}", token=tok, include="contacts,tickets,assignee,creator").json()
    assert detail["cf"] and "description" in detail and "creator" in detail
    tasks = desk(sim, "/tasks", token=tok, include="tickets,assignee", isCompleted="true", limit=100).json()["data"]
    assert all(t["isCompleted"] and t["ticket"]["id"] == t["ticketId"] for t in tasks)
    assert desk(sim, "/tasks", token=tok, sortBy="startTime").status_code == 422
    assert desk(sim, "/calls", token=tok, startTime="Today,Overdue").status_code in (200, 204)
    assert desk(sim, "/calls", token=tok, startTime="Someday").status_code == 422
    events = desk(sim, "/events", token=tok, limit=100).json()["data"]
    assert len(events) == 39
    ticket = next(
        t
        for t in sim.store["tickets"].values()
        if int(t["taskCount"]) and any(c["ticketId"] == t["id"] for c in sim.store["calls"].values())
    )
    acts = desk(sim, f"/tickets/{ticket['id']}/activities", token=tok, include="contacts").json()["data"]
    kinds = {a["activityType"] for a in acts}
    assert {"Tasks", "Calls"} <= kinds
    expected = sum(
        1 for m in ("tasks", "calls", "events") for r in sim.store[m].values() if r["ticketId"] == ticket["id"]
    )
    assert len(acts) == expected
    by_time = desk(sim, f"/tickets/{ticket['id']}/activities", token=tok, sortBy="-activityTime").json()["data"]
    assert [a["activityTime"] for a in by_time] == sorted((a["activityTime"] for a in acts), reverse=True)


def test_contact_phones_come_in_real_world_formats(sim):
    phones = [c[k] for c in sim.store["contacts"].values() for k in ("phone", "mobile") if c[k]]
    assert len(phones) > 60
    assert any(p.startswith("+1 (") for p in phones) and any(p.startswith("0") for p in phones)
    assert any(p.startswith("+49") for p in phones) and any("." in p for p in phones)
    assert any("ext." in p for p in phones) and any(p.startswith("00 ") for p in phones)
    for t in sim.store["tickets"].values():
        if t["contactId"]:
            assert t["phone"] == sim.store["contacts"][t["contactId"]]["phone"]
    row = desk(sim, "/contacts", fields="phone,mobile", limit=1).json()["data"][0]
    assert row["phone"] == sim.store["contacts"][row["id"]]["phone"]


# --- fields= and include= on lists, and the switches for what the docs leave open -------------------------------------
def test_fields_and_include_on_lists(sim):
    tok = sim.access_token()
    for path, names, module in (
        ("/products", "productName,modifiedTime,cf_warranty_months,layoutId", "products"),
        ("/contracts", "contractName,modifiedTime,cf_renewal_type", "contracts"),
        ("/contacts", "lastName,modifiedTime,photoURL,webUrl,cf_contact_tier", "contacts"),
        ("/accounts", "accountName,modifiedTime,cf_segment", "accounts"),
        ("/tasks", "subject,modifiedTime,cf_effort_hours,cf_effort_days", "tasks"),
        ("/calls", "subject,direction,cf_call_outcome", "calls"),
    ):
        rows = desk(sim, path, token=tok, fields=names, limit=50).json()["data"]
        standard = [n for n in names.split(",") if not n.startswith("cf_")]
        custom = [n for n in names.split(",") if n.startswith("cf_")]
        for row in rows:
            stored = sim.store[module][row["id"]]
            assert set(row) == {"id", "cf", *standard}, path
            assert row["cf"] == {n: stored["cf"][n] for n in custom}
            assert all(row[n] == stored[n] for n in standard)
    assert desk(sim, "/contracts", token=tok, fields=",".join(["contractName"] * 15)).status_code == 422  # > 100 chars
    assert desk(sim, "/contracts", token=tok, fields="cf_terms").status_code == 422  # multi-line
    assert desk(sim, "/contacts", token=tok, fields="description").status_code == 422
    view = desk(sim, "/contacts", token=tok, fields="${VIEW_FIELDS}", limit=3).json()["data"]
    assert view == desk(sim, "/contacts", token=tok, limit=3).json()["data"]
    row = desk(sim, "/products", token=tok, include="owner", limit=1).json()["data"][0]
    assert set(row) == {"id", "productName", "productCode", "unitPrice", "departmentIds", "owner"}
    assert row["owner"]["id"] == sim.store["products"][row["id"]]["ownerId"]
    row = desk(sim, "/contacts", token=tok, include="accounts", fields="lastName", limit=50).json()["data"]
    assert any(r["account"] for r in row) and all(set(r) == {"id", "lastName", "account"} for r in row)
    r = desk(sim, "/accounts", token=tok, include="owner")  # Account.json has no include on the list
    assert r.status_code == 422 and r.json()["errorCode"] == "INVALID_DATA"
    prices = [
        float(p["unitPrice"]) for p in desk(sim, "/products", token=tok, sortBy="-unitPrice", limit=100).json()["data"]
    ]
    assert prices == sorted(prices, reverse=True)


def test_fields_switches(sim):
    tok = sim.access_token()
    r = desk(sim, "/tickets", token=tok, fields="subject,notAField,cf_nope", limit=2)
    assert r.status_code == 422 and [e["fieldName"] for e in r.json()["errors"]] == ["notAField", "cf_nope"]
    sim.settings.unknown_field_policy = "ignore"
    rows = desk(sim, "/tickets", token=tok, fields="subject,notAField", limit=2).json()["data"]
    assert all(set(row) == {"id", "subject"} for row in rows)
    assert desk(sim, "/tickets", token=tok, fields="subject,description").status_code == 422  # still refused
    sim.settings.fields_cf_placement = "top_level"
    for path, names in (("/tickets", "subject,cf_impact_level"), ("/products", "productName,cf_warranty_months")):
        rows = desk(sim, path, token=tok, fields=names, limit=3).json()["data"]
        custom = names.split(",")[1]
        assert all(set(row) == {"id", *names.split(",")} and "cf" not in row for row in rows)
        module = path.strip("/")
        assert all(row[custom] == sim.store[module][row["id"]]["cf"][custom] for row in rows)


def test_recycle_bin_filters_and_type_switch(sim):
    tok = sim.access_token()
    everything = desk(sim, "/recycleBin", token=tok, limit=100).json()["data"]
    assert {e["type"] for e in everything} == {"Tickets", "Tasks", "Calls", "Events", "Solutions"}
    assert [e["deletedTime"] for e in everything] == sorted((e["deletedTime"] for e in everything), reverse=True)
    tasks = desk(sim, "/recycleBin", token=tok, module="tasks").json()["data"]
    assert len(tasks) == 3 and all(e["id"] not in sim.store["tasks"] for e in tasks)
    by_id = desk(sim, "/recycleBin", token=tok, moduleId=sim.store.modules["calls"]).json()["data"]
    assert {e["type"] for e in by_id} == {"Calls"} and len(by_id) == 2
    named = desk(sim, "/recycleBin", token=tok, sortBy="name", include="deletedBy,department", limit=100).json()
    assert [e["displayName"].lower() for e in named["data"]] == sorted(e["displayName"].lower() for e in everything)
    assert all(e["deletedBy"]["id"] == e["deletedById"] for e in named["data"])
    assert desk(sim, "/recycleBin", token=tok, moduleId="123").status_code == 422
    sim.settings.recycle_bin_type_format = "list"
    listed = desk(sim, "/recycleBin", token=tok, module="tickets").json()["data"]
    assert all(e["type"] == ["Tickets"] for e in listed)
    call = first(sim, "calls")
    sim.delete_record("calls", call["id"])
    gone = desk(sim, "/recycleBin", token=tok, module="calls", limit=100).json()["data"]
    assert call["id"] in {e["id"] for e in gone} and desk(sim, f"/calls/{call['id']}", token=tok).status_code == 404


def test_credit_cost_table(sim):
    tok = sim.access_token()
    assert desk(sim, "/tasks/search", token=tok).headers["X-Rate-Limit-Request-Weight-v3"] == "3"
    sim.settings.credit_costs["search"] = 5  # if search turned out dearer than a list [U]
    assert desk(sim, "/tasks/search", token=tok).headers["X-Rate-Limit-Request-Weight-v3"] == "5"
    assert desk(sim, "/tickets/search", token=tok, **{"from": 900}).headers["X-Rate-Limit-Request-Weight-v3"] == "5"
    assert desk(sim, "/tasks", token=tok).headers["X-Rate-Limit-Request-Weight-v3"] == "3"
    assert desk(sim, "/tickets", token=tok, **{"from": 2000}).headers["X-Rate-Limit-Request-Weight-v3"] == "5"
    assert desk(sim, f"/tasks/{first(sim, 'tasks')['id']}", token=tok).headers["X-Rate-Limit-Request-Weight-v3"] == "1"


# --- /search --------------------------------------------------------------------------------------------------------
SEARCHES = [
    ("contacts", "contacts"),
    ("accounts", "accounts"),
    ("tasks", "tasks"),
    ("calls", "calls"),
    ("events", "events"),
    ("products", "products"),
    ("articles", "articles"),
    ("tickets", "tickets"),
]


@pytest.mark.parametrize("path,module", SEARCHES)
def test_search_by_modified_time_window(sim, path, module):
    tok = sim.access_token()
    stamps = sorted(r["modifiedTime"] for r in sim.store[module].values())
    lo, hi = stamps[len(stamps) // 4], stamps[3 * len(stamps) // 4]
    expected = [r for r in sim.store[module].values() if lo <= r["modifiedTime"] <= hi]
    got, start = [], 0
    while True:
        r = desk(
            sim,
            f"/{path}/search",
            token=tok,
            modifiedTimeRange=f"{lo},{hi}",
            sortBy="modifiedTime",
            limit=100,
            **{"from": start},
        )
        if r.status_code == 204:
            break
        body = r.json()
        assert body["count"] == len(expected)
        got += body["data"]
        start += 100
    assert sorted(g["id"] for g in got) == sorted(e["id"] for e in expected)
    assert [g["modifiedTime"] for g in got] == sorted(g["modifiedTime"] for g in got)
    assert all(("cf" in g or module == "articles") and "modifiedTime" in g for g in got)
    if module != "tickets":
        assert all(g == sim.store[module][g["id"]] for g in got)  # complete rows
    newest = desk(sim, f"/{path}/search", token=tok, sortBy="-modifiedTime", limit=1).json()["data"][0]
    assert newest["modifiedTime"] == stamps[-1]
    assert desk(sim, f"/{path}/search", token=tok, **{"from": 999}).status_code in (200, 204)
    r = desk(sim, f"/{path}/search", token=tok, **{"from": 1000})
    assert r.status_code == 422 and r.json()["errors"][0]["fieldName"] == "from"
    assert desk(sim, f"/{path}/search", token=tok, limit=101).status_code == 422
    assert desk(sim, f"/{path}/search", token=tok, sortBy="name").status_code == 422


def test_search_field_filters(sim):
    tok = sim.access_token()
    contact = next(c for c in sim.store["contacts"].values() if c["lastName"] and c["accountId"])
    rows = desk(sim, "/contacts/search", token=tok, lastName=contact["lastName"], limit=100).json()["data"]
    assert contact["id"] in {r["id"] for r in rows} and all(
        contact["lastName"].lower() in r["lastName"].lower() for r in rows
    )
    account = sim.store["accounts"][contact["accountId"]]
    rows = desk(sim, "/contacts/search", token=tok, accountName=account["accountName"], limit=100).json()["data"]
    assert contact["id"] in {r["id"] for r in rows}
    tier = desk(sim, "/contacts/search", token=tok, customField1="cf_contact_tier:Gold", limit=100).json()
    assert all(r["cf"]["cf_contact_tier"] == "Gold" for r in tier["data"]) and tier["count"] == sum(
        1 for c in sim.store["contacts"].values() if c["cf"]["cf_contact_tier"] == "Gold"
    )
    sim.settings.search_count_type = "string"
    assert desk(sim, "/contacts/search", token=tok, customField1="cf_contact_tier:Gold").json()["count"] == str(
        tier["count"]
    )
    assert desk(sim, "/contacts/search", token=tok, customField1="nocolon").status_code == 422
    calls = desk(sim, "/calls/search", token=tok, direction="inbound", limit=100).json()
    assert int(calls["count"]) == sum(1 for c in sim.store["calls"].values() if c["direction"] == "inbound")
    acts = desk(sim, "/activities/search", token=tok, limit=100, sortBy="createdTime").json()
    assert int(acts["count"]) == sum(len(sim.store[m]) for m in ("tasks", "calls", "events"))
    assert {a["activityType"] for a in acts["data"]} <= {"Tasks", "Calls", "Events"}
    product = first(sim, "products")
    rows = desk(sim, "/products/search", token=tok, departmentId=product["departmentIds"][0], limit=100).json()
    assert product["id"] in {r["id"] for r in rows["data"]}
    assert desk(sim, "/contracts/search", token=tok).status_code == 404  # there is none [C]


def test_updated_record_moves_in_search(sim):
    tok = sim.access_token()
    task = first(sim, "tasks")
    updated = sim.update_record("tasks", task["id"], status="Deferred")
    assert updated["modifiedTime"] > task["modifiedTime"]
    newest = desk(sim, "/tasks/search", token=tok, sortBy="-modifiedTime", limit=1).json()["data"][0]
    assert newest["id"] == task["id"] and newest["status"] == "Deferred"


# --- GET /fields: one set of definitions behind both field endpoints and the records -------------------------------
def test_fields_endpoint(sim):
    tok = sim.access_token()
    for module in ("tickets", "contacts", "accounts", "tasks", "calls", "events", "contracts", "products"):
        new = desk(sim, "/fields", token=tok, module=module).json()["data"]
        old = desk(sim, "/organizationFields", token=tok, module=module).json()["data"]
        old_by_name = {f["apiName"]: f for f in old}
        assert {f["apiName"] for f in new} >= set(old_by_name)
        for fd in new:
            if fd["apiName"] in old_by_name:
                assert fd["id"] == old_by_name[fd["apiName"]]["id"]  # the same field, the same id
                if old_by_name[fd["apiName"]]["type"] == "Checkbox":
                    assert fd["type"] == "Boolean" and fd["defaultValue"] == "false"
            else:
                assert fd["type"] == "Formula" and fd["returnType"] and fd["isComputed"]
            if fd["type"] in ("Picklist", "Multiselect"):
                assert fd["pickListValues"] and all(set(v) == {"value"} for v in fd["pickListValues"])
            if fd["type"] == "LookUp":
                assert fd["lookup"]["module"]["apiName"]
        custom = {f["apiName"] for f in new if f["isCustomField"]}
        assert all(set(rec["cf"]) == custom for rec in sim.store[module].values()), module
    assert "Formula" in {f["type"] for f in sim.store.fields["tasks"]}
    assert "Formula" not in {f["type"] for fs in sim.store.org_fields.values() for f in fs}
    for module, records in (("timeEntry", None), ("agents", sim.store["agents"].values())):
        defs = desk(sim, "/fields", token=tok, module=module).json()["data"]
        assert defs and desk(sim, "/organizationFields", token=tok, module=module).status_code == 422
        if records is not None:
            custom = {f["apiName"] for f in defs if f["isCustomField"]}
            assert all(set(rec["cf"]) == custom for rec in records)
    tasks = [t for t in sim.store["tasks"].values() if t["cf"]["cf_effort_hours"]]
    assert all(t["cf"]["cf_effort_days"] == f"{float(t['cf']['cf_effort_hours']) / 8:.2f}" for t in tasks)
    only = desk(sim, "/fields", token=tok, module="tickets", apiNames="subject,cf_impact_level").json()["data"]
    assert [f["apiName"] for f in only] == ["subject", "cf_impact_level"]
    custom_only = desk(
        sim, "/fields", token=tok, module="tickets", filter="isCustomField='true' AND isComputed='false'"
    ).json()["data"]
    assert custom_only and all(f["isCustomField"] for f in custom_only)
    assert desk(sim, "/fields", token=tok, module="tickets", filter="nonsense").status_code == 422
    assert desk(sim, "/fields", token=tok).status_code == 422
    assert desk(sim, "/fields", token=tok, module="widgets").status_code == 422
    one = desk(sim, f"/fields/{only[0]['id']}", token=tok).json()
    assert one["apiName"] == "subject" and len(one["associatedDepartments"]["data"]) == 6


# --- knowledge base ------------------------------------------------------------------------------------------------
def test_articles_and_categories(sim):
    tok = sim.access_token()
    rows = desk(sim, "/articles", token=tok, limit=50).json()["data"]
    assert len(rows) == len(sim.store["articles"]) == 30 and all("answer" not in a for a in rows)
    assert desk(sim, "/articles", token=tok, **{"from": 1, "limit": 1}).json()["data"][0]["id"] == rows[0]["id"]
    r = desk(sim, "/articles", token=tok, **{"from": 0})  # Article.json: from is 1-based, minimum 1
    assert r.status_code == 422 and r.json()["errors"][0]["fieldName"] == "from"
    assert desk(sim, f"/articles/{rows[0]['id']}", token=tok).json()["answer"].startswith("<h2>")
    published = desk(sim, "/articles", token=tok, status="Published,Review", limit=50).json()["data"]
    assert {a["status"] for a in published} <= {"Published", "Review"}
    views = [
        int(a["viewCount"]) for a in desk(sim, "/articles", token=tok, sortBy="-viewCount", limit=50).json()["data"]
    ]
    assert views == sorted(views, reverse=True)
    cats = desk(sim, "/kbRootCategories", token=tok, include="allArticlesCount,publishedArticleCount").json()["data"]
    assert sum(int(c["allArticlesCount"]) for c in cats) == 30
    assert {a["rootCategoryId"] for a in rows} <= {c["id"] for c in cats}
    assert desk(sim, "/kbRootCategories", token=tok, limit=701).status_code == 422


def test_counts_of_the_new_modules():
    sim = ZohoDeskSimulator(seed=3, tickets=10, calls=4, events=3, articles=2)
    assert (len(sim.store["calls"]), len(sim.store["events"]), len(sim.store["articles"])) == (2, 2, 2)
    assert len(sim.store["tasks"]) == sum(int(t["taskCount"]) for t in sim.store["tickets"].values())


def test_the_playground_mints_grant_codes_and_changes_tickets_over_http(simulator):
    """What a person trying the connector does in Zoho, for the standalone simulator (README: try it)."""
    base = simulator.base_url + "/__simulator"
    minted = requests.post(f"{base}/grant-code", timeout=30).json()
    assert minted["client_id"] == simulator.client_id and minted["grant_code"]
    created = requests.post(f"{base}/tickets", json={"subject": "Tried over HTTP"}, timeout=30)
    assert (
        created.status_code == 201 and simulator.store["tickets"][created.json()["id"]]["subject"] == "Tried over HTTP"
    )
    ticket_id = created.json()["id"]
    updated = requests.patch(f"{base}/tickets/{ticket_id}", json={"status": "Closed"}, timeout=30)
    assert updated.status_code == 200 and simulator.store["tickets"][ticket_id]["status"] == "Closed"
    assert requests.delete(f"{base}/tickets/{ticket_id}", timeout=30).status_code == 204
    assert ticket_id not in simulator.store["tickets"]
    assert requests.patch(f"{base}/tickets/{ticket_id}", json={}, timeout=30).status_code == 404
    assert requests.patch(f"{base}/tickets/1", data=b"[1]", timeout=30).status_code == 400

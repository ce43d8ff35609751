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
    return requests.post(sim.desk_base_url + "/webhooks", timeout=10,
                         headers={"Authorization": f"Zoho-oauthtoken {token or sim.access_token()}",
                                  "orgId": sim.org_id},
                         json={"url": url, "subscriptions": subscriptions, "name": "test"})


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
    assert token_call(sim, grant_type="authorization_code", code=sim.grant_code(), **wrong) == \
        {"error": "invalid_client"}
    # parameters in the query string work too; the refresh token from the exchange is usable
    r = requests.post(sim.accounts_base_url + "/oauth/v2/token", timeout=10,
                      params=dict(grant_type="refresh_token", refresh_token=body["refresh_token"], **creds))
    assert "access_token" in r.json() and "refresh_token" not in r.json()


def test_ten_tokens_per_refresh_token_window(sim):
    rt = sim.refresh_token()
    creds = dict(grant_type="refresh_token", refresh_token=rt, client_id=sim.client_id,
                 client_secret=sim.client_secret)
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
    assert r.status_code == 401 and r.json() == {"errorCode": "INVALID_OAUTH",
                                                 "message": "The OAuth Token you provided is invalid."}
    assert requests.get(url, headers={"Authorization": f"Bearer {tok}", "orgId": sim.org_id}).status_code == 401
    assert requests.get(url, headers={"Authorization": "Zoho-oauthtoken junk", "orgId": sim.org_id}
                        ).status_code == 401
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


@pytest.mark.parametrize("path,limit,ok", [
    ("/tickets", 100, True), ("/tickets", 101, False), ("/tickets", 0, False),
    ("/departments", 200, True), ("/departments", 201, False), ("/products", 101, False),
    ("/contracts", 100, True), ("/tickets/search", 101, False), ("/recycleBin", 101, False),
])
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
        r = desk(sim, "/tickets/search", token=tok, modifiedTimeRange=f"{lo},{hi}", sortBy="modifiedTime",
                 limit=100, **{"from": start})
        if r.status_code == 204:
            break
        data = r.json()["data"]
        assert all("modifiedTime" in d and "cf" in d and "description" not in d for d in data)
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
        assert all({"id", "apiName", "displayLabel", "type", "isCustomField", "isMandatory", "maxLength"} <= set(f)
                   for f in fields)
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
    assert all(int(t["id"]) > 2 ** 53 and 16 <= len(t["id"]) <= 19 for t in tickets)
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
    hook = create_webhook(sim, receiver.url, {"Ticket_Add": None, "Ticket_Update": {"includePrevState": True},
                                              "Ticket_Delete": None}).json()
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
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=f"webhookId:{hook['id']}",
                        issuer=f"orgId:{sim.org_id}")
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
    proc = subprocess.Popen([sys.executable, "-m", "integration_tests.simulator", "--tickets", "5"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        lines = []  # read on a daemon thread: a simulator that never prints fails the test instead of hanging it
        reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_DEADLINE)
        assert lines, f"the simulator printed nothing in {START_DEADLINE:g} s"
        info = json.loads(lines[0])
        assert {"base_url", "desk_base_url", "accounts_base_url", "jwks_url", "org_id", "config"} <= set(info)
        creds = info["config"]["credentials"]
        tok = token_call(type("S", (), {"accounts_base_url": info["accounts_base_url"]}),
                         grant_type="refresh_token", refresh_token=creds["refresh_token"],
                         client_id=creds["client_id"], client_secret=creds["client_secret"])["access_token"]
        r = requests.get(info["desk_base_url"] + "/ticketsCount", timeout=30,
                         headers={"Authorization": f"Zoho-oauthtoken {tok}", "orgId": info["org_id"]})
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
    r = requests.post(sim.accounts_base_url + "/oauth/v2/token", timeout=10,
                      data={"grant_type": "refresh_token", "refresh_token": sim.refresh_token(),
                            "client_id": sim.client_id, "client_secret": sim.client_secret})
    assert r.status_code == 503
    assert sim.tokens_minted() == 0

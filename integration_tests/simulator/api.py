"""Desk API v1 routes and handlers (``/api/v1/...``).

Each route declares its scopes (alternatives of scope groups), whether it needs the ``orgId`` header and its
credit weight; ``gateway.py`` enforces those before calling the handler. Handlers validate parameters strictly
(unknown parameter -> 422 INVALID_DATA; bad limit/from/sortBy/include/fields -> 422 UNPROCESSABLE_ENTITY) and
answer ``{"data": [...]}`` or 204 with an empty body for an empty page.

This module serves the first streams (tickets, departments, agents, products, contracts, contacts, accounts,
organization fields, recycle bin, webhooks); the ``api_*.py`` modules add their own route groups.

Orders without ``sortBy``: tickets ``settings.ticket_list_default_sort`` (createdTime ascending); products,
contracts, contacts, accounts createdTime ascending; departments, agents, webhooks by id; recycle bin
``-deletedTime``; search ``relevance`` (a stable pseudo-random order). Ties break by numeric id, nulls sort last.
Default page sizes: tickets ``settings.ticket_list_default_limit`` (25), others ``default_list_limit`` (10).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from dataclasses import dataclass
from typing import Callable, Optional
from urllib.parse import urlsplit

from . import projection, schema, scopes
from .api_activities import ActivitiesApi
from .api_kb import KnowledgeBaseApi
from .api_people import PeopleApi
from .api_search import SearchApi
from .api_setup import SetupApi
from .api_ticket_children import TicketChildrenApi
from .data import Store, epoch_to_dt, iso
from .errors import ApiError, Response, empty_response, json_response, not_found, unprocessable
from .limits import call_cost
from .listing import page as _page
from .listing import rows_or_204 as _rows_or_204
from .listing import search_count, search_filter, sort_for_search, sort_records, text_matches
from .params import (
    bool_param,
    check_allowed,
    choice_param,
    id_list_param,
    id_param,
    limit_param,
    list_param,
    offset_param,
    sort_param,
    time_range_param,
)
from .settings import Clock, Settings
from .webhooks import WebhookHub, validate_subscriptions

TICKETS_READ = [["Desk.tickets.READ"]]
SEARCH_READ = [["Desk.tickets.READ", "Desk.search.READ"]]
BASIC_READ = [["Desk.basic.READ"]]
PRODUCTS_READ = [["Desk.products.READ"], ["Desk.settings.READ"]]
CONTRACTS_READ = [["Desk.contracts.READ", "Desk.settings.READ"]]
FIELDS_READ = [["Desk.basic.READ"], ["Desk.fields.READ"]]
CONTACTS_READ = [["Desk.contacts.READ"]]
SETTINGS_READ = [["Desk.settings.READ"]]


def _webhook_scopes(op: str) -> list:
    return [[f"Desk.settings.{op}"], [f"Desk.webhooks.{op}"], [f"Desk.events.{op}"]]


@dataclass
class Ctx:
    method: str
    path: str
    query: dict
    headers: dict  # lower-case names
    body: bytes
    groups: tuple
    token: object = None


@dataclass
class Route:
    method: str
    pattern: re.Pattern
    handler: Callable
    scopes: Optional[list]
    kind: str = "single"  # "list" / "search" -> settings.credit_costs[kind] (+1 per 1000 of from); "single" -> 1
    needs_org: bool = True

    def cost(self, query: dict, settings: Settings) -> int:
        return call_cost(self.kind, query.get("from"), settings.credit_costs)


def _sort(records: list, sort_by: Optional[str], key_fn=None, numeric: tuple = ()) -> list:
    return sort_records(records, sort_by, key_fn, numeric)


def _person(agent: Optional[dict]) -> Optional[dict]:
    """The short agent object of ``include=owner`` / ``assignee``."""
    if not agent:
        return None
    return {
        "id": agent["id"],
        "firstName": agent["firstName"],
        "lastName": agent["lastName"],
        "email": agent["emailId"],
        "photoURL": agent["photoURL"],
    }


class DeskApi:
    def __init__(
        self,
        store: Store,
        lock: threading.RLock,
        settings: Settings,
        clock: Clock,
        hub: WebhookHub,
        new_id: Callable[[str], str],
    ) -> None:
        self.store = store
        self.lock = lock
        self.settings = settings
        self.clock = clock
        self.hub = hub
        self.new_id = new_id
        R = self._route
        # /{module}/search first: the get-by-id patterns below would take "search" for an id
        self.routes = SearchApi(self).routes(R) + [
            R("GET", r"/organizations", self.list_organizations, None, "single", needs_org=False),
            R("GET", r"/organizations/(\d+)", self.get_organization, None, "single", needs_org=False),
            R("GET", r"/tickets", self.list_tickets, TICKETS_READ, "list"),
            R("GET", r"/tickets/search", self.search_tickets, SEARCH_READ, "search"),
            R("GET", r"/ticketsCount", self.count_tickets, TICKETS_READ),
            R("GET", r"/tickets/([^/]+)", self.get_ticket, TICKETS_READ),
            R("GET", r"/departments", self.list_departments, BASIC_READ, "list"),
            R("GET", r"/departments/([^/]+)", self.get_department, BASIC_READ),
            R("GET", r"/agents", self.list_agents, scopes.AGENTS_READ, "list"),
            R("GET", r"/agents/([^/]+)", self.get_agent, scopes.AGENTS_READ),
            R("GET", r"/products", self.list_products, PRODUCTS_READ, "list"),
            R("GET", r"/products/([^/]+)", self.get_product, PRODUCTS_READ),
            R("GET", r"/contracts", self.list_contracts, CONTRACTS_READ, "list"),
            R("GET", r"/contracts/([^/]+)", self.get_contract, CONTRACTS_READ),
            R("GET", r"/contacts", self.list_contacts, CONTACTS_READ, "list"),
            R("GET", r"/contacts/([^/]+)", self.get_contact, CONTACTS_READ),
            R("GET", r"/accounts", self.list_accounts, CONTACTS_READ, "list"),
            R("GET", r"/accounts/([^/]+)", self.get_account, CONTACTS_READ),
            R("GET", r"/organizationFields", self.org_fields, FIELDS_READ),
            R("GET", r"/recycleBin", self.list_recycle_bin, SETTINGS_READ, "list"),
            R("GET", r"/webhooks", self.list_webhooks, _webhook_scopes("READ")),
            R("POST", r"/webhooks", self.create_webhook, _webhook_scopes("CREATE")),
            R("GET", r"/webhooks/([^/]+)", self.get_webhook, _webhook_scopes("READ")),
            R("PATCH", r"/webhooks/([^/]+)", self.update_webhook, _webhook_scopes("UPDATE")),
            R("DELETE", r"/webhooks/([^/]+)", self.delete_webhook, _webhook_scopes("DELETE")),
        ]
        for part in (PeopleApi, SetupApi, ActivitiesApi, TicketChildrenApi, KnowledgeBaseApi):
            self.routes += part(self).routes(R)

    @staticmethod
    def _route(method, pattern, handler, scopes, kind="single", needs_org=True) -> Route:
        return Route(method, re.compile("^/api/v1" + pattern + "/?$"), handler, scopes, kind, needs_org)

    def match(self, method: str, path: str) -> tuple:
        methods = set()
        for route in self.routes:
            m = route.pattern.match(path)
            if m:
                if route.method == method:
                    return route, m.groups()
                methods.add(route.method)
        if methods:
            raise ApiError(
                405,
                "METHOD_NOT_ALLOWED",
                f"The HTTP method {method} is not allowed for this URL",
                headers={"Allow": ", ".join(sorted(methods))},
            )
        raise not_found("The requested URL does not exist")

    # --- helpers ---------------------------------------------------------------------------------------------------
    def _values(self, module: str) -> list:
        with self.lock:
            return list(self.store[module].values())

    def _get(self, module: str, rid: str) -> dict:
        if not rid.isdigit():
            raise not_found(f"The requested {module[:-1]} does not exist")
        with self.lock:
            rec = self.store[module].get(rid)
        if rec is None:
            raise not_found(f"The requested {module[:-1]} does not exist")
        return copy.deepcopy(rec)

    def _lookup(self, module: str, rid: Optional[str]) -> Optional[dict]:
        if not rid:
            return None
        with self.lock:
            return self.store[module].get(rid)

    # --- organizations ---------------------------------------------------------------------------------------------
    def list_organizations(self, ctx: Ctx) -> Response:
        check_allowed(ctx.query, ())
        return json_response(200, {"data": [copy.deepcopy(self.store.organization)]})

    def get_organization(self, ctx: Ctx) -> Response:
        check_allowed(ctx.query, ())
        if ctx.groups[0] != self.store.organization["id"]:
            raise not_found("The requested organization does not exist")
        return json_response(200, copy.deepcopy(self.store.organization))

    # --- tickets ---------------------------------------------------------------------------------------------------
    TICKET_LIST_PARAMS = (
        "from",
        "limit",
        "sortBy",
        "departmentId",
        "departmentIds",
        "status",
        "include",
        "fields",
        "assignee",
        "channel",
        "priority",
    )
    TICKET_LIST_INCLUDES = ("contacts", "products", "departments", "team", "assignee")
    TICKET_GET_INCLUDES = TICKET_LIST_INCLUDES + ("contract", "isRead", "skills")
    TICKET_SORTS = ("createdTime", "dueDate", "recentThread")

    def _ticket_filters(self, q: dict, rows: list) -> list:
        dept = id_param(q, "departmentId", extra_ok=("allDepartment", "0"))
        depts = id_list_param(q, "departmentIds") if "departmentIds" in q else None
        if dept:
            rows = [r for r in rows if r["departmentId"] == dept]
        if depts:
            rows = [r for r in rows if r["departmentId"] in depts]
        if q.get("status"):
            wanted = {s.strip().lower() for s in q["status"].split(",") if s.strip()}
            rows = [
                r for r in rows if (r["status"] or "").lower() in wanted or (r["statusType"] or "").lower() in wanted
            ]
        if q.get("channel"):
            wanted = {s.strip().lower() for s in q["channel"].split(",")}
            rows = [r for r in rows if (r["channel"] or "").lower() in wanted]
        if q.get("priority"):
            wanted = {s.strip().lower() for s in q["priority"].split(",")}
            rows = [r for r in rows if (r["priority"] or "").lower() in wanted]
        if q.get("assignee"):
            wanted = {s.strip() for s in q["assignee"].split(",")}
            if not all(w.isdigit() or w.lower() == "unassigned" for w in wanted):
                raise unprocessable("assignee", "The value passed for the 'assignee' is invalid")
            rows = [
                r
                for r in rows
                if (r["assigneeId"] in wanted)
                or (r["assigneeId"] is None and any(w.lower() == "unassigned" for w in wanted))
            ]
        return rows

    def _ticket_fields(self, q: dict) -> Optional[list]:
        return projection.parse_fields(q, "tickets", self.settings)

    def _ticket_includes(self, rec: dict, row: dict, includes) -> dict:
        for inc in includes:
            if inc == "contacts":
                c = self._lookup("contacts", rec.get("contactId"))
                acc = self._lookup("accounts", c.get("accountId")) if c else None
                row["contact"] = (
                    None
                    if not c
                    else {
                        "id": c["id"],
                        "firstName": c["firstName"],
                        "lastName": c["lastName"],
                        "email": c["email"],
                        "phone": c["phone"],
                        "mobile": c["mobile"],
                        "type": c["type"],
                        "isSpam": False,
                        "account": {"id": acc["id"], "accountName": acc["accountName"], "website": acc["website"]}
                        if acc
                        else None,
                    }
                )
            elif inc == "products":
                p = self._lookup("products", rec.get("productId"))
                row["product"] = {"id": p["id"], "productName": p["productName"]} if p else None
            elif inc == "departments":
                d = self._lookup("departments", rec.get("departmentId"))
                row["department"] = {"id": d["id"], "name": d["name"]} if d else None
            elif inc == "team":
                t = self._lookup("teams", rec.get("teamId"))
                row["team"] = {"id": t["id"], "name": t["name"], "logoUrl": None} if t else None
            elif inc == "assignee":
                a = self._lookup("agents", rec.get("assigneeId"))
                row["assignee"] = (
                    {
                        "id": a["id"],
                        "firstName": a["firstName"],
                        "lastName": a["lastName"],
                        "email": a["emailId"],
                        "photoURL": a["photoURL"],
                    }
                    if a
                    else None
                )
            elif inc == "contract":
                c = self._lookup("contracts", rec.get("contractId"))
                row["contract"] = (
                    {"id": c["id"], "contractName": c["contractName"], "contractNumber": c["contractNumber"]}
                    if c
                    else None
                )
            elif inc == "isRead":
                row["isRead"] = int(hashlib.md5(rec["id"].encode()).hexdigest(), 16) % 3 != 0
            elif inc == "skills":
                row["skills"] = []
        return row

    def _ticket_row(self, rec: dict, fields: Optional[list], includes) -> dict:
        if fields is None:
            row = schema.project(rec, schema.TICKET_LIST_DEFAULT_FIELDS)
        else:
            row = projection.project(rec, fields, self.settings)
        return self._ticket_includes(rec, copy.deepcopy(row), includes)

    def _recent_thread_key(self, r: dict):
        return r.get("customerResponseTime") or r.get("createdTime")

    def list_tickets(self, ctx: Ctx) -> Response:
        q = ctx.query
        s = self.settings
        check_allowed(q, self.TICKET_LIST_PARAMS)
        limit = limit_param(q, min(s.ticket_list_default_limit, s.ticket_list_max_limit), s.ticket_list_max_limit)
        start = offset_param(q, base=s.list_from_base)
        sort_by = sort_param(q, self.TICKET_SORTS, s.ticket_list_default_sort)
        includes = list_param(q, "include", self.TICKET_LIST_INCLUDES)
        fields = self._ticket_fields(q)
        rows = self._ticket_filters(q, self._values("tickets"))
        key_fn = self._recent_thread_key if sort_by and sort_by.lstrip("-") == "recentThread" else None
        rows = _page(_sort(rows, sort_by, key_fn), start, limit)
        return _rows_or_204([self._ticket_row(r, fields, includes) for r in rows])

    def get_ticket(self, ctx: Ctx) -> Response:
        check_allowed(ctx.query, ("include",))
        includes = list_param(ctx.query, "include", self.TICKET_GET_INCLUDES)
        rec = self._get("tickets", ctx.groups[0])
        return json_response(200, self._ticket_includes(rec, rec, includes))

    def count_tickets(self, ctx: Ctx) -> Response:
        check_allowed(ctx.query, ("departmentId", "departmentIds", "status", "channel", "priority", "assignee"))
        rows = self._ticket_filters(ctx.query, self._values("tickets"))
        return json_response(200, {"count": str(len(rows))})

    # Search.json: exact-match and wildcard parameters of GET /tickets/search (comma = any of the values)
    SEARCH_EXACT = (
        "status",
        "priority",
        "channel",
        "ticketNumber",
        "contactId",
        "assigneeId",
        "accountId",
        "productId",
        "id",
    )
    SEARCH_WILDCARD = ("subject", "email", "phone", "_all")
    SEARCH_RANGES = {
        "modifiedTimeRange": "modifiedTime",
        "createdTimeRange": "createdTime",
        "dueDateRange": "dueDate",
        "customerResponseTimeRange": "customerResponseTime",
    }
    SEARCH_PARAMS = (
        ("from", "limit", "sortBy", "departmentId")
        + SEARCH_EXACT
        + SEARCH_WILDCARD
        + tuple(SEARCH_RANGES)
        + tuple(f"customField{i}" for i in range(1, 11))
    )

    def search_tickets(self, ctx: Ctx) -> Response:
        q = ctx.query
        check_allowed(q, self.SEARCH_PARAMS)
        limit = limit_param(q, self.settings.default_list_limit, 100)
        start = offset_param(q, base=0, max_from=self.settings.search_max_from)
        sort_by = sort_param(q, ("relevance", "modifiedTime", "createdTime", "customerResponseTime"), "relevance")
        rows = self._values("tickets")
        for name, key in self.SEARCH_RANGES.items():
            bounds = time_range_param(q, name)
            if bounds:
                rows = [r for r in rows if r.get(key) and bounds[0] <= r[key] <= bounds[1]]
        dept = id_param(q, "departmentId")
        if dept:
            rows = [r for r in rows if r["departmentId"] == dept]
        rows = search_filter(
            q, rows, self.SEARCH_EXACT, self.SEARCH_WILDCARD, all_fields=("subject", "email", "phone", "ticketNumber")
        )
        rows = sort_for_search(rows, sort_by)
        body = [copy.deepcopy(schema.project(r, schema.TICKET_SEARCH_FIELDS)) for r in _page(rows, start, limit)]
        return _rows_or_204(body, extra={"count": search_count(len(rows), self.settings)})  # required in Search.json

    # --- departments / agents ----------------------------------------------------------------------------------
    def list_departments(self, ctx: Ctx) -> Response:
        q = ctx.query
        check_allowed(q, ("from", "limit", "isEnabled", "chatStatus"))
        limit = limit_param(q, self.settings.default_list_limit, 200)
        start = offset_param(q)
        enabled = bool_param(q, "isEnabled")
        chat = choice_param(q, "chatStatus", ("AVAILABLE", "DISABLED", "NOT_CREATED"), None)
        rows = self._values("departments")
        if enabled is not None:
            rows = [r for r in rows if r["isEnabled"] == enabled]
        if chat:
            rows = [r for r in rows if r["chatStatus"] == chat]
        return _rows_or_204([copy.deepcopy(r) for r in _page(_sort(rows, None), start, limit)])

    def get_department(self, ctx: Ctx) -> Response:
        check_allowed(ctx.query, ())
        return json_response(200, self._get("departments", ctx.groups[0]))

    AGENT_ROLE_TYPES = ("AgentPublic", "AgentPersonal", "AgentTeamPersonal", "Admin", "Custom", "Light", "${NON_LIGHT}")

    def _agent_row(self, rec: dict, includes) -> dict:
        row = copy.deepcopy(rec)
        for key, module in (("role", "roles"), ("profile", "profiles")):
            if key in includes:
                found = self._lookup(module, rec.get(f"{key}Id"))
                row[key] = {"id": found["id"], "name": found["name"]} if found else None
        return row

    def list_agents(self, ctx: Ctx) -> Response:
        # Agent.json: include (profile, role), roleIds / profileIds (<= 50), searchStr, fieldName, isLightAgent,
        # sortOrder (asc|desc, by name), limit (default 10, max 200), rolePermissionType, from, isConfirmed; the
        # simulator also keeps status and departmentIds
        q = ctx.query
        check_allowed(
            q,
            (
                "from",
                "limit",
                "status",
                "departmentIds",
                "include",
                "roleIds",
                "profileIds",
                "searchStr",
                "fieldName",
                "isLightAgent",
                "sortOrder",
                "rolePermissionType",
                "isConfirmed",
            ),
        )
        limit = limit_param(q, self.settings.default_list_limit, 200)
        start = offset_param(q)
        status = choice_param(q, "status", ("ACTIVE", "DISABLED"), None)
        depts = id_list_param(q, "departmentIds")
        roles = id_list_param(q, "roleIds", max_items=50)
        profiles = id_list_param(q, "profileIds", max_items=50)
        includes = list_param(q, "include", ("profile", "role"))
        order = choice_param(q, "sortOrder", ("asc", "desc"), None)
        field_name = choice_param(q, "fieldName", ("firstName", "lastName", "emailId", "name"), None)
        light = bool_param(q, "isLightAgent")
        confirmed = bool_param(q, "isConfirmed")
        role_type = choice_param(q, "rolePermissionType", self.AGENT_ROLE_TYPES, None)
        rows = self._values("agents")
        if status:
            rows = [r for r in rows if r["status"] == status]
        if depts:
            rows = [r for r in rows if set(depts) & set(r["associatedDepartmentIds"])]
        if roles:
            rows = [r for r in rows if r.get("roleId") in roles]
        if profiles:
            rows = [r for r in rows if r.get("profileId") in profiles]
        if light is not None:
            rows = [r for r in rows if bool(r.get("isLightAgent")) == light]
        if confirmed is not None:
            rows = [r for r in rows if r["isConfirmed"] == confirmed]
        if role_type == "${NON_LIGHT}":
            rows = [r for r in rows if r.get("rolePermissionType") != "Light"]
        elif role_type:
            rows = [r for r in rows if r.get("rolePermissionType") == role_type]
        if q.get("searchStr"):
            keys = (field_name,) if field_name else ("firstName", "lastName", "emailId")
            rows = [r for r in rows if any(text_matches(q["searchStr"], r.get(k)) for k in keys)]
        rows = _sort(rows, ("-" if order == "desc" else "") + "name" if order else None)
        return _rows_or_204([self._agent_row(r, includes) for r in _page(rows, start, limit)])

    def get_agent(self, ctx: Ctx) -> Response:
        check_allowed(ctx.query, ("include",))
        includes = list_param(ctx.query, "include", ("profile", "role"))
        return json_response(200, self._agent_row(self._get("agents", ctx.groups[0]), includes))

    # --- products ---------------------------------------------------------------------------------------------------
    def _account_name(self, rec: dict) -> Optional[str]:
        return (self._lookup("accounts", rec.get("accountId")) or {}).get("accountName")

    def _owner_include(self, rec: dict, row: Optional[dict], includes) -> dict:
        row = rec if row is None else row
        if "owner" in includes:
            row["owner"] = _person(self._lookup("agents", rec.get("ownerId")))
        return row

    def _list_row(self, module: str, rec: dict, default_fields: tuple, fields: Optional[list]) -> dict:
        """The default list projection, or the ``fields=`` one (``projection.py``)."""
        if fields is None:
            return copy.deepcopy(schema.project(rec, default_fields))
        return copy.deepcopy(projection.project(rec, fields, self.settings))

    PRODUCT_SORTS = ("productName", "productCode", "unitPrice", "createdTime", "modifiedTime")

    def list_products(self, ctx: Ctx) -> Response:
        # Product.json: include (owner), viewId, departmentId (0 = all), limit 1-100, from 0-based, sortBy, ownerId,
        # fields (<= 30)
        q = ctx.query
        check_allowed(q, ("from", "limit", "sortBy", "departmentId", "ownerId", "include", "viewId", "fields"))
        limit = limit_param(q, self.settings.default_list_limit, 100)
        start = offset_param(q)
        sort_by = sort_param(q, self.PRODUCT_SORTS, "createdTime")
        dept = id_param(q, "departmentId", extra_ok=("0",))
        owner = id_param(q, "ownerId")
        id_param(q, "viewId")
        includes = list_param(q, "include", ("owner",))
        fields = projection.parse_fields(q, "products", self.settings)
        rows = self._values("products")
        if dept:
            rows = [r for r in rows if dept in r["departmentIds"]]
        if owner:
            rows = [r for r in rows if r["ownerId"] == owner]
        page = _page(_sort(rows, sort_by, numeric=("unitPrice",)), start, limit)
        return _rows_or_204(
            [
                self._owner_include(r, self._list_row("products", r, schema.PRODUCT_LIST_FIELDS, fields), includes)
                for r in page
            ]
        )

    def get_product(self, ctx: Ctx) -> Response:
        check_allowed(ctx.query, ("include",))
        includes = list_param(ctx.query, "include", ("departments", "owner"))
        rec = self._owner_include(self._get("products", ctx.groups[0]), None, includes)
        if "departments" in includes:
            rec["departments"] = [
                {"id": d["id"], "name": d["name"]}
                for d in (self._lookup("departments", i) for i in rec["departmentIds"])
                if d
            ]
        return json_response(200, rec)

    # --- contracts --------------------------------------------------------------------------------------------------
    CONTRACT_INCLUDES = ("accounts", "products", "slas", "owner", "departments")

    def _contract_includes(self, rec: dict, row: dict, includes) -> dict:
        for inc in includes:
            if inc == "accounts":
                a = self._lookup("accounts", rec.get("accountId"))
                row["account"] = {"id": a["id"], "accountName": a["accountName"]} if a else None
            elif inc == "products":
                p = self._lookup("products", rec.get("productId"))
                row["product"] = {"id": p["id"], "productName": p["productName"]} if p else None
            elif inc == "slas":
                sla = self.store.slas.get(rec.get("slaId") or "")
                row["sla"] = {"id": sla["id"], "name": sla["name"]} if sla else None
            elif inc == "owner":
                o = self._lookup("agents", rec.get("ownerId"))
                row["owner"] = (
                    {
                        "id": o["id"],
                        "firstName": o["firstName"],
                        "lastName": o["lastName"],
                        "email": o["emailId"],
                        "photoURL": o["photoURL"],
                    }
                    if o
                    else None
                )
            elif inc == "departments":
                d = self._lookup("departments", rec.get("departmentId"))
                row["department"] = {"id": d["id"], "name": d["name"]} if d else None
        return row

    # the reference's sortBy names, plus the record's own names the simulator accepted before
    CONTRACT_SORTS = (
        "accountName",
        "contractName",
        "contractEndDate",
        "contractStartDate",
        "startDate",
        "endDate",
        "createdTime",
        "modifiedTime",
    )
    CONTRACT_SORT_KEYS = {"contractStartDate": "startDate", "contractEndDate": "endDate"}

    def list_contracts(self, ctx: Ctx) -> Response:
        # Contract.json: limit 1-100, from, sortBy, fields (a string of at most 100 characters), include,
        # departmentIds (<= 10), ownerIds (<= 10), filters, contractName, viewId
        q = ctx.query
        check_allowed(
            q,
            (
                "from",
                "limit",
                "sortBy",
                "departmentId",
                "departmentIds",
                "accountId",
                "include",
                "ownerId",
                "ownerIds",
                "fields",
                "viewId",
                "contractName",
                "filters",
            ),
        )
        limit = limit_param(q, self.settings.default_list_limit, 100)
        start = offset_param(q, base=self.settings.list_from_base)
        sort_by = sort_param(q, self.CONTRACT_SORTS, "createdTime")
        depts = id_list_param(q, "departmentIds", max_items=10)
        owners = id_list_param(q, "ownerIds", max_items=10)
        dept = id_param(q, "departmentId", extra_ok=("allDepartment", "0"))
        account = id_param(q, "accountId")
        owner = id_param(q, "ownerId")
        id_param(q, "viewId")
        includes = list_param(q, "include", self.CONTRACT_INCLUDES)
        fields = projection.parse_fields(q, "contracts", self.settings)
        rows = self._values("contracts")
        if depts:
            rows = [r for r in rows if r["departmentId"] in depts]
        if dept:
            rows = [r for r in rows if r["departmentId"] == dept]
        if account:
            rows = [r for r in rows if r["accountId"] == account]
        if owner:
            rows = [r for r in rows if r["ownerId"] == owner]
        if owners:
            rows = [r for r in rows if r["ownerId"] in owners]
        if q.get("contractName"):
            rows = [r for r in rows if text_matches(q["contractName"], r["contractName"])]
        key_fn = None
        if sort_by and sort_by.lstrip("-") == "accountName":
            key_fn = self._account_name
        elif sort_by and sort_by.lstrip("-") in self.CONTRACT_SORT_KEYS:
            sort_by = ("-" if sort_by.startswith("-") else "") + self.CONTRACT_SORT_KEYS[sort_by.lstrip("-")]
        page = _page(_sort(rows, sort_by, key_fn), start, limit)
        return _rows_or_204(
            [
                self._contract_includes(
                    r, self._list_row("contracts", r, schema.CONTRACT_LIST_FIELDS, fields), includes
                )
                for r in page
            ]
        )

    def get_contract(self, ctx: Ctx) -> Response:
        check_allowed(ctx.query, ("include",))
        includes = list_param(ctx.query, "include", self.CONTRACT_INCLUDES)
        rec = self._get("contracts", ctx.groups[0])
        return json_response(200, self._contract_includes(rec, rec, includes))

    # --- contacts / accounts ----------------------------------------------------------------------------------------
    CONTACT_SORTS = ("firstName", "lastName", "phone", "email", "account", "createdTime", "modifiedTime")

    def _contact_includes(self, rec: dict, row: dict, includes) -> dict:
        if "accounts" in includes:
            a = self._lookup("accounts", rec.get("accountId"))
            row["account"] = {"id": a["id"], "accountName": a["accountName"], "website": a["website"]} if a else None
        if "owner" in includes:
            row["owner"] = _person(self._lookup("agents", rec.get("ownerId")))
        return row

    def list_contacts(self, ctx: Ctx) -> Response:
        # Contact.json: fields (<= 30), viewId, limit 1-100, from, filterId, include (accounts), sortBy
        q = ctx.query
        check_allowed(q, ("from", "limit", "sortBy", "accountId", "fields", "viewId", "filterId", "include"))
        limit = limit_param(q, self.settings.default_list_limit, 100)
        start = offset_param(q)
        sort_by = sort_param(q, self.CONTACT_SORTS, "createdTime")
        account = id_param(q, "accountId")
        id_param(q, "viewId")
        id_param(q, "filterId")
        includes = list_param(q, "include", ("accounts",))
        fields = projection.parse_fields(q, "contacts", self.settings)
        rows = self._values("contacts")
        if account:
            rows = [r for r in rows if r["accountId"] == account]
        key_fn = self._account_name if sort_by and sort_by.lstrip("-") == "account" else None
        page = _page(_sort(rows, sort_by, key_fn), start, limit)
        return _rows_or_204(
            [
                self._contact_includes(r, self._list_row("contacts", r, schema.CONTACT_LIST_FIELDS, fields), includes)
                for r in page
            ]
        )

    def get_contact(self, ctx: Ctx) -> Response:
        check_allowed(ctx.query, ("include",))
        includes = list_param(ctx.query, "include", ("accounts", "owner"))
        rec = self._get("contacts", ctx.groups[0])
        return json_response(200, self._contact_includes(rec, rec, includes))

    ACCOUNT_SORTS = ("website", "email", "phone", "accountName", "createdTime", "modifiedTime")

    def list_accounts(self, ctx: Ctx) -> Response:
        # Account.json: viewId, limit 1-100, from (default 1: settings.list_from_base), sortBy, fields (<= 30),
        # filters, filterId; no include on the list
        q = ctx.query
        check_allowed(q, ("from", "limit", "sortBy", "fields", "viewId", "filters", "filterId"))
        limit = limit_param(q, self.settings.default_list_limit, 100)
        start = offset_param(q, base=self.settings.list_from_base)
        sort_by = sort_param(q, self.ACCOUNT_SORTS, "createdTime")
        id_param(q, "viewId")
        id_param(q, "filterId")
        fields = projection.parse_fields(q, "accounts", self.settings)
        page = _page(_sort(self._values("accounts"), sort_by), start, limit)
        return _rows_or_204([self._list_row("accounts", r, schema.ACCOUNT_LIST_FIELDS, fields) for r in page])

    def get_account(self, ctx: Ctx) -> Response:
        check_allowed(ctx.query, ("include",))
        includes = list_param(ctx.query, "include", ("owner",))
        rec = self._get("accounts", ctx.groups[0])
        return json_response(200, self._owner_include(rec, rec, includes))

    # --- organization fields / recycle bin --------------------------------------------------------------------------
    def org_fields(self, ctx: Ctx) -> Response:
        q = ctx.query
        check_allowed(q, ("module",))
        module = q.get("module")
        if module is None:
            raise unprocessable("module", "The parameter 'module' is mandatory", error_type="missing")
        if module not in self.store.org_fields:
            raise unprocessable("module", f"The value passed for the 'module' is invalid: {module!r}")
        return json_response(200, {"data": copy.deepcopy(self.store.org_fields[module])})

    # Recyclebin.json: module (deprecated) / moduleId, departmentId, include (deletedBy, department), limit 1-100
    # (default 10), from 0-based, sortBy name|type|department|deletedBy|deletedTime (- = descending)
    RECYCLE_MODULES = {
        "accounts": "Accounts",
        "contacts": "Contacts",
        "tickets": "Tickets",
        "tasks": "Tasks",
        "timeEntry": "TimeEntry",
        "calls": "Calls",
        "events": "Events",
        "contracts": "Contracts",
        "products": "Products",
        "topics": "Topics",
        "solutions": "Solutions",
    }
    RECYCLE_SORTS = ("name", "type", "department", "deletedBy", "deletedTime")

    def _recycle_sort_key(self, sort_by: str):
        name = sort_by.lstrip("-")
        if name == "name":
            return lambda r: r.get("displayName")
        if name == "department":
            return lambda r: (self._lookup("departments", r.get("departmentId")) or {}).get("name")
        if name == "deletedBy":
            return lambda r: (self._lookup("agents", r.get("deletedById")) or {}).get("name")
        return None

    def _recycle_row(self, rec: dict, includes) -> dict:
        row = copy.deepcopy(rec)
        if self.settings.recycle_bin_type_format == "list":  # the OAS example's ["Tickets"] [U]
            row["type"] = [row["type"]]
        if "department" in includes:
            d = self._lookup("departments", rec.get("departmentId"))
            row["department"] = {"id": d["id"], "name": d["name"]} if d else None
        if "deletedBy" in includes:
            a = self._lookup("agents", rec.get("deletedById"))
            row["deletedBy"] = (
                {
                    "id": a["id"],
                    "firstName": a["firstName"],
                    "lastName": a["lastName"],
                    "email": a["emailId"],
                    "photoURL": a["photoURL"],
                }
                if a
                else None
            )
        return row

    def list_recycle_bin(self, ctx: Ctx) -> Response:
        q = ctx.query
        check_allowed(q, ("from", "limit", "sortBy", "module", "moduleId", "departmentId", "include"))
        limit = limit_param(q, self.settings.default_list_limit, 100)
        start = offset_param(q)
        sort_by = sort_param(q, self.RECYCLE_SORTS, "-deletedTime")
        module = choice_param(q, "module", tuple(self.RECYCLE_MODULES), None)
        module_id = id_param(q, "moduleId")
        dept = id_param(q, "departmentId")
        includes = list_param(q, "include", ("deletedBy", "department"))
        rows = self._values("recycleBin")
        if module:
            rows = [r for r in rows if r["type"] == self.RECYCLE_MODULES[module]]
        if module_id:
            names = [m for m, mid in self.store.modules.items() if mid == module_id]
            if not names or names[0] not in self.RECYCLE_MODULES:
                raise unprocessable("moduleId", "The value passed for the 'moduleId' is invalid")
            rows = [r for r in rows if r["type"] == self.RECYCLE_MODULES[names[0]]]
        if dept:
            rows = [r for r in rows if r.get("departmentId") == dept]
        page = _page(_sort(rows, sort_by, self._recycle_sort_key(sort_by)), start, limit)
        return _rows_or_204([self._recycle_row(r, includes) for r in page])

    # --- webhooks ---------------------------------------------------------------------------------------------------
    WEBHOOK_KEYS = {"url", "subscriptions", "name", "description", "isEnabled", "ignoreSourceId", "includeEventsFrom"}
    _URL_RE = re.compile(r"^https?://[-.\w]+(:\d+)?(/[^\s]*)?$")
    _UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

    def _json_body(self, ctx: Ctx) -> dict:
        try:
            body = json.loads(ctx.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiError(422, "INVALID_DATA", "The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ApiError(422, "INVALID_DATA", "The request body must be a JSON object")
        unknown = set(body) - self.WEBHOOK_KEYS
        if unknown:
            name = sorted(unknown)[0]
            raise unprocessable(name, f"The field '{name}' is not allowed", error_type="unknown")
        return body

    def _check_webhook_fields(self, body: dict, creating: bool) -> None:
        if creating:
            for key in ("url", "subscriptions"):
                if body.get(key) in (None, "", {}):
                    raise unprocessable(key, f"The field '{key}' is mandatory", error_type="missing")
        if "url" in body:
            url = body["url"]
            if not isinstance(url, str) or not self._URL_RE.match(url):
                raise unprocessable("url", "The value passed for 'url' is not a valid URL")
            if len(url) > self.settings.webhook_url_max_length:
                raise unprocessable(
                    "url",
                    f"The value passed for 'url' exceeds the maximum length of {self.settings.webhook_url_max_length}",
                )
            if urlsplit(url).scheme not in ("http", "https"):
                raise unprocessable("url", "Only http and https URLs are supported")
        if "subscriptions" in body:
            problem = validate_subscriptions(body["subscriptions"])
            if problem:
                raise unprocessable("subscriptions", problem)
        if (
            "name" in body
            and body["name"] is not None
            and (not isinstance(body["name"], str) or len(body["name"]) > 100)
        ):
            raise unprocessable("name", "'name' must be a string of at most 100 characters")
        if (
            "description" in body
            and body["description"] is not None
            and (not isinstance(body["description"], str) or len(body["description"]) > 3000)
        ):
            raise unprocessable("description", "'description' must be a string of at most 3000 characters")
        if "isEnabled" in body and body["isEnabled"] is not None and not isinstance(body["isEnabled"], bool):
            raise unprocessable("isEnabled", "'isEnabled' must be a boolean")
        if body.get("ignoreSourceId") not in (None, "") and not (
            isinstance(body["ignoreSourceId"], str) and self._UUID_RE.match(body["ignoreSourceId"])
        ):
            raise unprocessable("ignoreSourceId", "'ignoreSourceId' must be a UUID")
        inc = body.get("includeEventsFrom")
        if inc is not None and (not isinstance(inc, list) or any(v != "AUTOMATION" for v in inc)):
            raise unprocessable("includeEventsFrom", "'includeEventsFrom' accepts only [\"AUTOMATION\"]")

    def _enabled_count(self, excluding: Optional[str] = None) -> int:
        with self.lock:
            return sum(1 for w in self.store["webhooks"].values() if w["isEnabled"] and w["id"] != excluding)

    def _creator(self) -> Optional[str]:
        with self.lock:
            return next(iter(self.store["agents"]), None)

    def list_webhooks(self, ctx: Ctx) -> Response:
        check_allowed(ctx.query, ())
        return _rows_or_204([copy.deepcopy(w) for w in _sort(self._values("webhooks"), None)])

    def get_webhook(self, ctx: Ctx) -> Response:
        check_allowed(ctx.query, ())
        return json_response(200, self._get("webhooks", ctx.groups[0]))

    def create_webhook(self, ctx: Ctx) -> Response:
        check_allowed(ctx.query, ())
        body = self._json_body(ctx)
        self._check_webhook_fields(body, creating=True)
        enabled = body.get("isEnabled")
        enabled = True if enabled is None else enabled
        if enabled and self._enabled_count() >= self.settings.max_enabled_webhooks:
            raise unprocessable(
                "isEnabled",
                f"The maximum of {self.settings.max_enabled_webhooks} enabled "
                "webhooks for this edition has been reached",
            )
        problem = self.hub.validate_url(body["url"])
        if problem:
            raise unprocessable("url", problem)
        now = iso(epoch_to_dt(self.clock.now()))
        hook = {
            "id": self.new_id("webhooks"),
            "name": body.get("name") or "Webhook",
            "url": body["url"],
            "description": body.get("description"),
            "isEnabled": enabled,
            "subscriptions": copy.deepcopy(body["subscriptions"]),
            "ignoreSourceId": body.get("ignoreSourceId") or None,
            "includeEventsFrom": list(body.get("includeEventsFrom") or []),
            "createdBy": self._creator(),
            "createdTime": now,
            "modifiedTime": now,
            "type": "CUSTOMER_WEBHOOK",
        }
        with self.lock:
            self.store["webhooks"][hook["id"]] = hook
        return json_response(200, copy.deepcopy(hook))

    def update_webhook(self, ctx: Ctx) -> Response:
        check_allowed(ctx.query, ())
        current = self._get("webhooks", ctx.groups[0])
        body = self._json_body(ctx)
        self._check_webhook_fields(body, creating=False)
        for key in ("url", "subscriptions"):
            if key in body and body[key] in (None, "", {}):
                raise unprocessable(key, f"The field '{key}' cannot be empty")
        if (
            body.get("isEnabled")
            and not current["isEnabled"]
            and self._enabled_count(excluding=current["id"]) >= self.settings.max_enabled_webhooks
        ):
            raise unprocessable(
                "isEnabled",
                f"The maximum of {self.settings.max_enabled_webhooks} enabled "
                "webhooks for this edition has been reached",
            )
        if "url" in body and body["url"] != current["url"]:
            problem = self.hub.validate_url(body["url"])
            if problem:
                raise unprocessable("url", problem)
        with self.lock:
            hook = self.store["webhooks"].get(current["id"])
            if hook is None:
                raise not_found("The requested webhook does not exist")
            hook = copy.deepcopy(hook)
            for key, value in body.items():
                if key == "includeEventsFrom":
                    value = list(value or [])
                elif key == "isEnabled" and value is None:
                    continue
                hook[key] = copy.deepcopy(value)
            hook["modifiedTime"] = iso(epoch_to_dt(self.clock.now()))
            self.store["webhooks"][hook["id"]] = hook
        return json_response(200, copy.deepcopy(hook))

    def delete_webhook(self, ctx: Ctx) -> Response:
        check_allowed(ctx.query, ())
        rid = ctx.groups[0]
        with self.lock:
            if not rid.isdigit() or self.store["webhooks"].pop(rid, None) is None:
                raise not_found("The requested webhook does not exist")
        return empty_response(204)

"""Routes for the portal's setup: layouts, business hours, holiday lists, support plans, channels and the new
field-definitions endpoint.

* ``GET /layouts`` (Layout.json): ``module`` required, ``status`` active|inactive|all (default active), ``from``
  0-based, ``limit`` up to 99 (default 99), ``layoutName``, ``departmentId``, ``id``.
* ``GET /businessHours`` (BusinessHour.json): ``limit`` 1-50, ``from``, ``status``, ``businessHourIds`` (<= 50);
  header ``exclude_holiday_list: true`` drops the holiday-list keys.
* ``GET /holidayList`` (HolidayList.json, singular path): ``limit`` 1-50, ``from``, ``status``; the list rows lack
  the ``holidays`` the detail has.
* ``GET /supportPlans`` (SupportPlan.json): ``departmentId`` required, ``status`` ACTIVE|DISCONTINUED, ``from``
  0-based, ``limit`` 1-50 (default 50). The OAS has no SLA list endpoint: SLAs appear inside support plans.
* ``GET /channels`` (Channel.json): no parameters, not paged.
* ``GET /fields?module=M`` (Field.json): ``module`` required (tickets, contacts, accounts, tasks, timeEntry,
  products, calls, events, contracts, agents), ``apiNames`` (<= 300), ``filter`` (``prop='value' AND ...``),
  ``associatedDepartments``; not paged. ``GET /fields/{id}`` adds ``associatedDepartments``.
"""

from __future__ import annotations

import copy
import re

from . import schema, scopes
from .errors import Response, json_response, not_found, unprocessable
from .listing import Filter, ListSpec, rows_or_204, serve_list
from .params import check_allowed, choice_param, id_param

LAYOUT_MODULES = ("tickets", "contacts", "accounts", "calls", "events", "tasks", "timeEntry", "products", "contracts")
LAYOUTS = ListSpec(
    max_limit=99,
    default_limit=99,
    required=("module",),
    accepted=("module", "status"),
    filters=(
        Filter("layoutName", "layoutName"),
        Filter("departmentId", "departmentId", "id"),
        Filter("id", "id", "id"),
    ),
)
BUSINESS_HOURS = ListSpec(
    max_limit=50,
    filters=(
        Filter("businessHourIds", "id", "ids", max_items=50),
        Filter("status", "status", "enum", values=("ACTIVE", "INACTIVE")),
    ),
)
HOLIDAY_LISTS = ListSpec(max_limit=50, filters=(Filter("status", "status", "enum", values=("ACTIVE", "INACTIVE")),))
SUPPORT_PLANS = ListSpec(
    max_limit=50,
    default_limit=50,
    required=("departmentId",),
    accepted=("departmentId",),
    filters=(Filter("status", "status", "enum", values=("ACTIVE", "DISCONTINUED")),),
)
_CLAUSE_RE = re.compile(r"^\s*([A-Za-z]+)\s*=\s*'([^']*)'\s*$")


class SetupApi:
    def __init__(self, api) -> None:
        self.api = api

    def routes(self, R) -> list:
        return [
            R("GET", r"/layouts", self.list_layouts, scopes.LAYOUTS_READ, "list"),
            R("GET", r"/layouts/([^/]+)", self.get_layout, scopes.LAYOUTS_READ),
            R("GET", r"/businessHours", self.list_business_hours, scopes.HOURS_READ, "list"),
            R("GET", r"/businessHours/([^/]+)", self.get_business_hour, scopes.HOURS_READ),
            R("GET", r"/holidayList", self.list_holiday_lists, scopes.HOURS_READ, "list"),
            R("GET", r"/holidayList/([^/]+)", self.get_holiday_list, scopes.HOURS_READ),
            R("GET", r"/supportPlans", self.list_support_plans, scopes.SUPPORT_PLANS_READ, "list"),
            R("GET", r"/supportPlans/([^/]+)", self.get_support_plan, scopes.SUPPORT_PLANS_READ),
            R("GET", r"/channels", self.list_channels, scopes.CHANNELS_READ),
            R("GET", r"/channels/([^/]+)", self.get_channel, scopes.CHANNELS_READ),
            R("GET", r"/fields", self.list_fields, scopes.FIELDS_LIST_READ),
            R("GET", r"/fields/([^/]+)", self.get_field, scopes.FIELD_READ),
        ]

    @property
    def default_limit(self) -> int:
        return self.api.settings.default_list_limit

    # --- layouts ---------------------------------------------------------------------------------------------
    def list_layouts(self, ctx) -> Response:
        q = ctx.query
        module = q.get("module")
        if module is not None and module not in LAYOUT_MODULES:
            raise unprocessable("module", f"The value passed for the 'module' is invalid: {module!r}")
        status = choice_param(q, "status", ("active", "inactive", "all"), "active")
        rows = [
            r
            for r in self.api._values("layouts")
            if r["module"] == module and (status == "all" or r["status"] == status)
        ]
        return serve_list(LAYOUTS, rows, q, self.default_limit)

    def get_layout(self, ctx) -> Response:
        check_allowed(ctx.query, ())
        return json_response(200, self.api._get("layouts", ctx.groups[0]))

    # --- business hours / holiday lists / support plans ----------------------------------------------------------
    def list_business_hours(self, ctx) -> Response:
        exclude = (ctx.headers.get("exclude_holiday_list") or "").lower() == "true"

        def row(rec: dict) -> dict:
            out = copy.deepcopy(rec)
            if exclude:
                out.pop("associatedHolidayList", None)
            return out

        return serve_list(BUSINESS_HOURS, self.api._values("businessHours"), ctx.query, self.default_limit, project=row)

    def get_business_hour(self, ctx) -> Response:
        check_allowed(ctx.query, ())
        return json_response(200, self.api._get("businessHours", ctx.groups[0]))

    def list_holiday_lists(self, ctx) -> Response:
        return serve_list(
            HOLIDAY_LISTS,
            self.api._values("holidayLists"),
            ctx.query,
            self.default_limit,
            project=lambda r: {k: copy.deepcopy(v) for k, v in r.items() if k != "holidays"},
        )

    def get_holiday_list(self, ctx) -> Response:
        check_allowed(ctx.query, ())
        return json_response(200, self.api._get("holidayLists", ctx.groups[0]))

    def list_support_plans(self, ctx) -> Response:
        dept = id_param(ctx.query, "departmentId")
        rows = [r for r in self.api._values("supportPlans") if (r.get("department") or {}).get("id") == dept]
        return serve_list(SUPPORT_PLANS, rows, ctx.query, self.default_limit)

    def get_support_plan(self, ctx) -> Response:
        check_allowed(ctx.query, ())
        return json_response(200, self.api._get("supportPlans", ctx.groups[0]))

    # --- channels ----------------------------------------------------------------------------------------------
    def list_channels(self, ctx) -> Response:
        check_allowed(ctx.query, ())
        return rows_or_204([copy.deepcopy(c) for c in self.api._values("channels")])

    def get_channel(self, ctx) -> Response:
        check_allowed(ctx.query, ())
        with self.api.lock:
            channel = self.api.store["channels"].get(ctx.groups[0].upper())
        if channel is None:
            raise not_found("The requested channel does not exist")
        return json_response(200, copy.deepcopy(channel))

    # --- GET /fields -------------------------------------------------------------------------------------------
    def list_fields(self, ctx) -> Response:
        q = ctx.query
        check_allowed(q, ("module", "apiNames", "filter", "associatedDepartments"))
        module = q.get("module")
        if module is None:
            raise unprocessable("module", "The parameter 'module' is mandatory", error_type="missing")
        if module not in schema.FIELD_MODULES:
            raise unprocessable("module", f"The value passed for the 'module' is invalid: {module!r}")
        dept = id_param(q, "associatedDepartments")
        if dept and self.api._lookup("departments", dept) is None:
            raise unprocessable("associatedDepartments", "The department does not exist")
        rows = self.api.store.fields[module]
        if q.get("apiNames") is not None:
            names = [n.strip() for n in q["apiNames"].split(",") if n.strip()]
            if not names or len(names) > 300:
                raise unprocessable("apiNames", "'apiNames' takes 1 to 300 comma separated names")
            rows = [f for f in rows if f["apiName"] in names]
        if q.get("filter") is not None:
            rows = [f for f in rows if self._passes(q["filter"], f)]
        # every field sits in a layout of every department here, so associatedDepartments keeps them all
        return json_response(200, {"data": copy.deepcopy(rows)})

    @staticmethod
    def _passes(expression: str, fd: dict) -> bool:
        for clause in re.split(r"\s+AND\s+", expression.strip(), flags=re.IGNORECASE):
            m = _CLAUSE_RE.match(clause)
            if not m or m.group(1) not in fd:
                raise unprocessable("filter", f"The value passed for the 'filter' is invalid: {clause!r}")
            have = fd[m.group(1)]
            want = m.group(2)
            if isinstance(have, bool):
                if want.lower() not in ("true", "false") or have != (want.lower() == "true"):
                    return False
            elif str(have) != want:
                return False
        return True

    def get_field(self, ctx) -> Response:
        check_allowed(ctx.query, ())
        fid = ctx.groups[0]
        for fields in self.api.store.fields.values():
            for fd in fields:
                if fd["id"] == fid:
                    out = copy.deepcopy(fd)
                    out["associatedDepartments"] = {
                        "data": [{"id": d["id"], "name": d["name"]} for d in self.api._values("departments")],
                        "hasMore": False,
                        "href": f"/api/v1/fields/{fid}/associatedDepartments",
                    }
                    return json_response(200, out)
        raise not_found("The requested field does not exist")

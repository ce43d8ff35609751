"""``GET /{module}/search`` for contacts, accounts, tasks, calls, events, products, articles and activities
(``/tickets/search`` lives in api.py).

From Search.json: ``limit`` 1-100 (default 10), ``from`` 0-based up to ``settings.search_max_from`` (999),
``sortBy`` relevance|modifiedTime|createdTime (``-`` = descending), ``modifiedTimeRange`` / ``createdTimeRange``,
exact-match and wildcard field parameters (comma = any of), ``_all``, ``customField1``..``customField10``
(``cf_name:value``). The answer carries the required ``count`` (all matches; an integer, as in the OAS examples,
or a string: ``settings.search_count_type``) and rows are complete
records (``cf``, ``modifiedTime``) [C]. Each search needs the module's read scope and ``Desk.search.READ``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from . import scopes
from .errors import Response
from .listing import page, rows_or_204, search_count, search_filter, sort_for_search
from .params import check_allowed, id_param, limit_param, offset_param, sort_param, time_range_param

COMMON = ("from", "limit", "sortBy", "modifiedTimeRange", "createdTimeRange", "departmentId", "_all") + tuple(
    f"customField{i}" for i in range(1, 11)
)
ACTIVITY_EXACT = ("id", "status", "priority", "ticketNumber", "ticketId", "contactId", "ownerId")


@dataclass(frozen=True)
class SearchSpec:
    modules: tuple  # store modules searched (activities: three)
    exact: tuple
    wildcard: tuple
    all_fields: tuple
    scopes: list
    department_key: str = "departmentId"


SEARCHES = {
    "contacts": SearchSpec(
        ("contacts",),
        ("id", "accountId"),
        ("firstName", "lastName", "fullName", "email", "phone", "mobile", "accountName"),
        ("firstName", "lastName", "email", "phone", "mobile"),
        scopes.search("Desk.contacts.READ"),
    ),
    "accounts": SearchSpec(
        ("accounts",),
        ("id",),
        ("accountName", "email", "phone", "website"),
        ("accountName", "email", "phone", "website"),
        scopes.search("Desk.contacts.READ"),
    ),
    "tasks": SearchSpec(
        ("tasks",),
        ACTIVITY_EXACT,
        ("subject",),
        ("subject", "description"),
        scopes.search("Desk.tasks.READ", "Desk.activities.tasks.READ"),
    ),
    "calls": SearchSpec(
        ("calls",),
        ACTIVITY_EXACT + ("direction",),
        ("subject",),
        ("subject", "description"),
        scopes.search("Desk.calls.READ", "Desk.activities.calls.READ"),
    ),
    "events": SearchSpec(
        ("events",),
        ACTIVITY_EXACT,
        ("subject",),
        ("subject", "description"),
        scopes.search("Desk.events.READ", "Desk.activities.events.READ"),
    ),
    "activities": SearchSpec(
        ("tasks", "calls", "events"),
        ACTIVITY_EXACT,
        ("subject",),
        ("subject", "description"),
        scopes.search(
            "Desk.tasks.READ",
            "Desk.calls.READ",
            "Desk.events.READ",
            "Desk.activities.tasks.READ",
            "Desk.activities.calls.READ",
            "Desk.activities.events.READ",
        ),
    ),
    "products": SearchSpec(
        ("products",),
        ("id",),
        ("productName", "productCode"),
        ("productName", "productCode"),
        scopes.search("Desk.products.READ", "Desk.settings.READ"),
        department_key="departmentIds",
    ),
    "articles": SearchSpec(
        ("articles",),
        ("id", "categoryId", "status", "permission"),
        ("title",),
        ("title", "summary"),
        scopes.search("Desk.articles.READ"),
    ),
}
ACTIVITY_TYPES = {"tasks": "Tasks", "calls": "Calls", "events": "Events"}


class SearchApi:
    def __init__(self, api) -> None:
        self.api = api

    def routes(self, R) -> list:
        return [
            R("GET", f"/{name}/search", self._searcher(name, spec), spec.scopes, "search")
            for name, spec in SEARCHES.items()
        ]

    def _view(self, module: str, rec: dict) -> dict:
        """The record as the filters see it: contacts also match on their full and account names."""
        if module != "contacts":
            return rec
        account = self.api._lookup("accounts", rec.get("accountId"))
        full = " ".join(x for x in (rec.get("firstName"), rec.get("lastName")) if x)
        return dict(rec, fullName=full, accountName=account["accountName"] if account else None)

    def _searcher(self, name: str, spec: SearchSpec):
        def handler(ctx) -> Response:
            q = ctx.query
            check_allowed(q, COMMON + spec.exact + spec.wildcard)
            limit = limit_param(q, self.api.settings.default_list_limit, 100)
            start = offset_param(q, base=0, max_from=self.api.settings.search_max_from)
            sort_by = sort_param(q, ("relevance", "modifiedTime", "createdTime"), "relevance")
            modified = time_range_param(q, "modifiedTimeRange")
            created = time_range_param(q, "createdTimeRange")
            dept = id_param(q, "departmentId")
            views, records = [], {}
            for module in spec.modules:
                for rec in self.api._values(module):
                    records[rec["id"]] = (module, rec)
                    views.append(self._view(module, rec))
            if modified:
                views = [v for v in views if modified[0] <= v["modifiedTime"] <= modified[1]]
            if created:
                views = [v for v in views if created[0] <= v["createdTime"] <= created[1]]
            if dept:
                views = [v for v in views if dept in _as_ids(v.get(spec.department_key))]
            views = search_filter(q, views, spec.exact, spec.wildcard, spec.all_fields)
            ordered = sort_for_search(views, sort_by)
            out = []
            for view in page(ordered, start, limit):
                module, rec = records[view["id"]]
                row = copy.deepcopy(rec)
                if len(spec.modules) > 1:
                    row["activityType"] = ACTIVITY_TYPES[module]
                out.append(row)
            return rows_or_204(out, extra={"count": search_count(len(ordered), self.api.settings)})

        return handler


def _as_ids(value) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)

"""Routes for tasks, calls and events, and a ticket's activities (all three kinds of one ticket).

From Task.json / Call.json / Event.json: ``limit`` 1-100, ``from`` 0-based, ``fields`` (<= 30, see
``projection.py``), ``include`` (contacts, tickets, assignee, teams; tasks also projects), ``departmentId``,
``departmentIds`` (<= 20), ``assignee`` (<= 20 ids), ``isCompleted``, ``viewId`` / ``filterId`` / ``filters``
(accepted, no effect here). Tasks sort by category, subject, dueDate, status, createdTime, modifiedTime or
priority and filter ``dueDate`` by Overdue/Today/Tomorrow/CurrentWeek/CurrentMonth; calls and events sort by
startTime or createdTime and filter ``startTime`` by the same words (relative to the simulator clock).

``GET /tickets/{id}/activities`` (Activity.json): the ticket's tasks, calls and events, each row with
``activityType`` (Tasks, Calls, Events); ``sortBy`` activityTime (a task's dueDate, a call's or event's startTime)
or createdTime; ``isSpam``, ``isCompleted``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import timedelta

from . import projection, schema, scopes
from .data import epoch_to_dt, parse_iso
from .errors import Response, json_response
from .listing import page, rows_or_204, sort_records
from .params import (
    bool_param,
    check_allowed,
    id_list_param,
    id_param,
    limit_param,
    list_param,
    offset_param,
    sort_param,
)

RELATIVE_DATES = ("Overdue", "Today", "Tomorrow", "CurrentWeek", "CurrentMonth")


@dataclass(frozen=True)
class Kind:
    module: str
    activity_type: str
    list_fields: tuple
    sorts: tuple
    date_param: str  # the relative-date filter and the activity time
    includes: tuple
    scopes: object


TASKS = Kind(
    "tasks",
    "Tasks",
    schema.TASK_LIST_FIELDS,
    ("category", "subject", "dueDate", "status", "createdTime", "modifiedTime", "priority"),
    "dueDate",
    ("contacts", "tickets", "assignee", "teams", "projects"),
    scopes.TASKS_READ,
)
CALLS = Kind(
    "calls",
    "Calls",
    schema.CALL_LIST_FIELDS,
    ("startTime", "createdTime"),
    "startTime",
    ("contacts", "tickets", "assignee", "teams"),
    scopes.CALLS_READ,
)
EVENTS = Kind(
    "events",
    "Events",
    schema.EVENT_LIST_FIELDS,
    ("startTime", "createdTime"),
    "startTime",
    ("contacts", "tickets", "assignee", "teams"),
    scopes.EVENTS_READ,
)
KINDS = (TASKS, CALLS, EVENTS)


class ActivitiesApi:
    def __init__(self, api) -> None:
        self.api = api

    def routes(self, R) -> list:
        out = []
        for kind in KINDS:
            out += [
                R("GET", f"/{kind.module}", self._lister(kind), kind.scopes, "list"),
                R("GET", f"/{kind.module}/(\\d+)", self._getter(kind), kind.scopes),
            ]
        out.append(
            R("GET", r"/tickets/(\d+)/activities", self.ticket_activities, scopes.TICKET_ACTIVITIES_READ, "list")
        )
        return out

    # --- shared rows -------------------------------------------------------------------------------------------
    def includes(self, rec: dict, row: dict, includes) -> dict:
        api = self.api
        for inc in includes:
            if inc == "contacts":
                c = api._lookup("contacts", rec.get("contactId"))
                row["contact"] = (
                    dict(
                        {k: c.get(k) for k in ("id", "firstName", "lastName", "accountId", "phone", "mobile", "email")},
                        isSpam=False,
                    )
                    if c
                    else None
                )
            elif inc == "tickets":
                t = api._lookup("tickets", rec.get("ticketId"))
                a = api._lookup("agents", (t or {}).get("assigneeId"))
                row["ticket"] = (
                    None
                    if not t
                    else {
                        **{
                            k: t.get(k)
                            for k in (
                                "id",
                                "ticketNumber",
                                "subject",
                                "isArchived",
                                "dueDate",
                                "channel",
                                "closedTime",
                                "phone",
                                "teamId",
                                "createdTime",
                                "isSpam",
                                "status",
                            )
                        },
                        "assignee": {k: a.get(k) for k in ("id", "firstName", "lastName", "photoURL")} if a else None,
                    }
                )
            elif inc == "assignee":
                a = api._lookup("agents", rec.get("ownerId"))
                row["assignee"] = (
                    {k: a.get(k) for k in ("id", "firstName", "lastName", "photoURL", "emailId")} if a else None
                )
            elif inc == "teams":
                t = api._lookup("teams", rec.get("teamId"))
                row["team"] = {"id": t["id"], "name": t["name"], "logoUrl": t.get("logoUrl")} if t else None
            elif inc == "projects":
                row["project"] = None
            elif inc == "creator":
                row["creator"] = _short(api._lookup("agents", rec.get("creatorId")))
        return row

    def _within(self, word: str, when) -> bool:
        now = epoch_to_dt(self.api.clock.now())
        today = now.date()
        if when is None:
            return False
        day = when.date()
        if word == "Overdue":
            return when < now
        if word == "Today":
            return day == today
        if word == "Tomorrow":
            return day == today + timedelta(days=1)
        if word == "CurrentWeek":
            return day.isocalendar()[:2] == today.isocalendar()[:2]
        return (day.year, day.month) == (today.year, today.month)

    # --- lists -------------------------------------------------------------------------------------------------
    def _lister(self, kind: Kind):
        def handler(ctx) -> Response:
            q = ctx.query
            check_allowed(
                q,
                (
                    "from",
                    "limit",
                    "sortBy",
                    "include",
                    "fields",
                    "departmentId",
                    "departmentIds",
                    "assignee",
                    "isCompleted",
                    "viewId",
                    "filterId",
                    "filters",
                    kind.date_param,
                ),
            )
            limit = limit_param(q, self.api.settings.default_list_limit, 100)
            start = offset_param(q)
            sort_by = sort_param(q, kind.sorts, "createdTime")
            includes = list_param(q, "include", kind.includes)
            fields = projection.parse_fields(q, kind.module, self.api.settings)
            dept = id_param(q, "departmentId")
            depts = id_list_param(q, "departmentIds", max_items=20)
            owners = id_list_param(q, "assignee", max_items=20)
            completed = bool_param(q, "isCompleted")
            id_param(q, "viewId")
            id_param(q, "filterId")
            words = list_param(q, kind.date_param, RELATIVE_DATES)
            rows = self.api._values(kind.module)
            if dept:
                rows = [r for r in rows if r["departmentId"] == dept]
            if depts:
                rows = [r for r in rows if r["departmentId"] in depts]
            if owners:
                rows = [r for r in rows if r.get("ownerId") in owners]
            if completed is not None:
                rows = [r for r in rows if r["isCompleted"] == completed]
            if words:
                rows = [
                    r
                    for r in rows
                    if any(
                        self._within(w, parse_iso(r[kind.date_param]) if r.get(kind.date_param) else None)
                        for w in words
                    )
                ]
            out = []
            for rec in page(sort_records(rows, sort_by), start, limit):
                row = (
                    projection.project(rec, fields, self.api.settings)
                    if fields is not None
                    else schema.project(rec, kind.list_fields)
                )
                out.append(self.includes(rec, copy.deepcopy(row), includes))
            return rows_or_204(out)

        return handler

    def _getter(self, kind: Kind):
        def handler(ctx) -> Response:
            check_allowed(ctx.query, ("include",))
            includes = list_param(ctx.query, "include", kind.includes + ("creator",))
            rec = self.api._get(kind.module, ctx.groups[0])
            return json_response(200, self.includes(rec, rec, includes))

        return handler

    def ticket_activities(self, ctx) -> Response:
        q = ctx.query
        check_allowed(q, ("from", "limit", "sortBy", "include", "isSpam", "isCompleted"))
        ticket = self.api._get("tickets", ctx.groups[0])
        limit = limit_param(q, self.api.settings.default_list_limit, 100)
        start = offset_param(q)
        sort_by = sort_param(q, ("activityTime", "createdTime"), "createdTime")
        includes = list_param(q, "include", ("contacts", "tickets", "assignee", "teams"))
        spam = bool_param(q, "isSpam")
        completed = bool_param(q, "isCompleted")
        rows = []
        for kind in KINDS:
            for rec in self.api._values(kind.module):
                if rec.get("ticketId") == ticket["id"]:
                    row = schema.project(rec, kind.list_fields)
                    row["activityType"] = kind.activity_type
                    row["activityTime"] = rec.get(kind.date_param)
                    rows.append((rec, row))
        if spam:
            rows = []  # no activity is spam here
        if completed is not None:
            rows = [(rec, row) for rec, row in rows if rec["isCompleted"] == completed]
        ordered = sort_records([row for _rec, row in rows], sort_by)
        by_id = {row["id"]: rec for rec, row in rows}
        out = [self.includes(by_id[row["id"]], copy.deepcopy(row), includes) for row in page(ordered, start, limit)]
        return rows_or_204(out)


def _short(agent):
    if not agent:
        return None
    return {
        "id": agent["id"],
        "firstName": agent["firstName"],
        "lastName": agent["lastName"],
        "photoURL": agent["photoURL"],
        "email": agent["emailId"],
    }

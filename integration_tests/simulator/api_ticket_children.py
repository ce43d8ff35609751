"""Routes for a ticket's children (made lazily by ``children.py``). There is no org-wide list of any of them [C].

* ``GET /tickets/{id}/threads`` (Thread.json): ``from``/``limit`` (the OAS declares no range; 1-200, default 100
  here, as its conversations list), ``sortBy`` sendDateTime, descending when absent. Rows have ``summary`` but no
  ``content``; ``GET /tickets/{id}/threads/{threadId}`` has it (``include=plainText`` adds ``plainText``).
* ``GET /tickets/{id}/comments`` (TicketComment.json): ``limit`` 1-100 (default 50), ``from``, ``sortBy``
  commentedTime (ascending when absent), ``include`` mentions|plainText.
* ``GET /tickets/{id}/timeEntry`` (TicketTimeEntry.json): ``limit`` 1-100, ``from``, ``include`` owner, ``module``
  (tickets|tasks|calls|events: whose entries), ``billStatus`` nonBillable|billable|billed, ``orderBy`` ASC|DESC
  (by executedTime), ``createdTimeRange``, ``modifiedTimeRange``.
* ``GET /tickets/{id}/attachments`` (TicketAttachment.json): ``limit`` 1-100, ``from``, ``isPublic``, ``sortBy``
  createdTime, ``include`` creator.
* ``GET /tickets/{id}/tags`` (TicketTag.json): no parameters, not paged.
"""

from __future__ import annotations

import copy

from . import scopes
from .errors import Response, json_response, not_found
from .listing import page, paging, rows_or_204, sort_records
from .params import bool_param, check_allowed, choice_param, list_param, sort_param, time_range_param

THREADS_LIMIT = (100, 200)  # (default, maximum): not in the OAS for threads; its conversations list uses these
COMMENTS_LIMIT = (50, 100)


class TicketChildrenApi:
    def __init__(self, api) -> None:
        self.api = api

    def routes(self, R) -> list:
        read = scopes.TICKETS_READ
        return [
            R("GET", r"/tickets/(\d+)/threads", self.list_threads, read, "list"),
            R("GET", r"/tickets/(\d+)/threads/(\d+)", self.get_thread, read),
            R("GET", r"/tickets/(\d+)/comments", self.list_comments, read, "list"),
            R("GET", r"/tickets/(\d+)/comments/(\d+)", self.get_comment, read),
            R("GET", r"/tickets/(\d+)/timeEntry", self.list_time_entries, read, "list"),
            R("GET", r"/tickets/(\d+)/timeEntry/(\d+)", self.get_time_entry, read),
            R("GET", r"/tickets/(\d+)/attachments", self.list_attachments, read, "list"),
            R("GET", r"/tickets/(\d+)/tags", self.list_tags, read),
        ]

    def _children(self, ticket_id: str) -> dict:
        ticket = self.api._get("tickets", ticket_id)
        return self.api.store.children.of(ticket)

    @staticmethod
    def _one(rows: list, rid: str, what: str) -> dict:
        for row in rows:
            if row["id"] == rid:
                return copy.deepcopy(row)
        raise not_found(f"The requested {what} does not exist")

    # --- threads -----------------------------------------------------------------------------------------------
    def list_threads(self, ctx) -> Response:
        q = ctx.query
        check_allowed(q, ("from", "limit", "sortBy"))
        start, limit = paging(q, *THREADS_LIMIT)
        sort_by = sort_param(q, ("sendDateTime",), "-sendDateTime")
        rows = self._children(ctx.groups[0])["threads"]
        rows = sort_records(rows, sort_by, key_fn=lambda r: r["createdTime"])
        return rows_or_204(
            [{k: copy.deepcopy(v) for k, v in r.items() if k != "content"} for r in page(rows, start, limit)]
        )

    def get_thread(self, ctx) -> Response:
        check_allowed(ctx.query, ("include",))
        includes = list_param(ctx.query, "include", ("plainText",))
        thread = self._one(self._children(ctx.groups[0])["threads"], ctx.groups[1], "thread")
        thread["attachments"] = []
        if "plainText" in includes:
            thread["plainText"] = thread["summary"]
        return json_response(200, thread)

    # --- comments ----------------------------------------------------------------------------------------------
    def _comment_row(self, rec: dict, includes) -> dict:
        row = {k: copy.deepcopy(v) for k, v in rec.items() if k not in ("plainText", "mention")}
        if "plainText" in includes:
            row["plainText"] = rec["plainText"]
        if "mentions" in includes:
            row["mention"] = copy.deepcopy(rec["mention"])
        return row

    def list_comments(self, ctx) -> Response:
        q = ctx.query
        check_allowed(q, ("from", "limit", "sortBy", "include"))
        start, limit = paging(q, *COMMENTS_LIMIT)
        sort_by = sort_param(q, ("commentedTime",), "commentedTime")
        includes = list_param(q, "include", ("mentions", "plainText"))
        rows = sort_records(self._children(ctx.groups[0])["comments"], sort_by)
        return rows_or_204([self._comment_row(r, includes) for r in page(rows, start, limit)])

    def get_comment(self, ctx) -> Response:
        check_allowed(ctx.query, ("include",))
        includes = list_param(ctx.query, "include", ("mentions", "plainText"))
        rec = self._one(self._children(ctx.groups[0])["comments"], ctx.groups[1], "comment")
        return json_response(200, self._comment_row(rec, includes))

    # --- time entries ------------------------------------------------------------------------------------------
    def _entry_row(self, rec: dict, includes) -> dict:
        row = copy.deepcopy(rec)
        if "owner" in includes:
            a = self.api._lookup("agents", rec.get("ownerId"))
            row["owner"] = (
                {
                    "id": a["id"],
                    "firstName": a["firstName"],
                    "lastName": a["lastName"],
                    "name": a["name"],
                    "photoURL": a["photoURL"],
                }
                if a
                else None
            )
        return row

    def list_time_entries(self, ctx) -> Response:
        q = ctx.query
        check_allowed(
            q, ("from", "limit", "include", "module", "billStatus", "orderBy", "createdTimeRange", "modifiedTimeRange")
        )
        start, limit = paging(q, self.api.settings.default_list_limit, 100)
        includes = list_param(q, "include", ("owner",))
        module = choice_param(q, "module", ("tickets", "tasks", "calls", "events"), "tickets")
        bill = choice_param(q, "billStatus", ("nonBillable", "billable", "billed"), None)
        order = choice_param(q, "orderBy", ("ASC", "DESC"), "ASC")
        created = time_range_param(q, "createdTimeRange")
        modified = time_range_param(q, "modifiedTimeRange")
        rows = self._children(ctx.groups[0])["timeEntries"] if module == "tickets" else []
        if bill == "billed":
            rows = [r for r in rows if r.get("invoiceId")]
        elif bill:
            rows = [r for r in rows if r["isBillable"] == (bill == "billable") and not r.get("invoiceId")]
        if created:
            rows = [r for r in rows if created[0] <= r["createdTime"] <= created[1]]
        if modified:
            rows = [r for r in rows if modified[0] <= r["modifiedTime"] <= modified[1]]
        rows = sort_records(rows, ("-" if order == "DESC" else "") + "executedTime")
        return rows_or_204([self._entry_row(r, includes) for r in page(rows, start, limit)])

    def get_time_entry(self, ctx) -> Response:
        check_allowed(ctx.query, ("include",))
        includes = list_param(ctx.query, "include", ("owner",))
        rec = self._one(self._children(ctx.groups[0])["timeEntries"], ctx.groups[1], "time entry")
        return json_response(200, self._entry_row(rec, includes))

    # --- attachments and tags ----------------------------------------------------------------------------------
    def list_attachments(self, ctx) -> Response:
        q = ctx.query
        check_allowed(q, ("from", "limit", "sortBy", "include", "isPublic"))
        start, limit = paging(q, self.api.settings.default_list_limit, 100)
        sort_by = sort_param(q, ("createdTime",), "createdTime")
        includes = list_param(q, "include", ("creator",))
        public = bool_param(q, "isPublic")
        rows = self._children(ctx.groups[0])["attachments"]
        if public is not None:
            rows = [r for r in rows if r["isPublic"] == public]
        rows = sort_records(rows, sort_by)
        return rows_or_204(
            [
                {k: copy.deepcopy(v) for k, v in r.items() if k != "creator" or "creator" in includes}
                for r in page(rows, start, limit)
            ]
        )

    def list_tags(self, ctx) -> Response:
        check_allowed(ctx.query, ())
        return rows_or_204(copy.deepcopy(self._children(ctx.groups[0])["tags"]))

"""What every Desk list shares: paging, sorting, the ``{"data": [...]}`` / 204 answer, and simple filters.

``ListSpec`` describes a plain list endpoint (the settings-like modules: roles, profiles, skills, layouts, business
hours, holiday lists, support plans, KB categories): its parameters as the OAS declares them, its ``limit`` range,
the base of ``from``, its ``sortBy`` names and its filters; ``serve_list`` answers it. Richer lists (tickets, tasks,
...) use the same helpers directly.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
from dataclasses import dataclass
from typing import Callable, Optional

from .errors import Response, empty_response, json_response, unprocessable
from .params import bool_param, check_allowed, choice_param, id_list_param, id_param, int_param, sort_param


def rows_or_204(rows: list, envelope: str = "data", extra: Optional[dict] = None) -> Response:
    """``{envelope: rows, **extra}``, or 204 with no body for an empty page [C]."""
    if not rows:
        return empty_response(204)
    body = {envelope: rows}
    body.update(extra or {})
    return json_response(200, body)


def _norm(value):
    return value.lower() if isinstance(value, str) else value


def sort_records(records: list, sort_by: Optional[str], key_fn: Optional[Callable] = None, numeric: tuple = ()) -> list:
    """Sort by a field (``-`` = descending); nulls last either way; ties by numeric id. ``numeric`` names fields
    holding numbers as strings ("129.99")."""
    if not sort_by:
        return sorted(records, key=lambda r: int(r["id"]) if str(r.get("id", "")).isdigit() else 0)
    desc = sort_by.startswith("-")
    name = sort_by.lstrip("-")
    getter = key_fn or (lambda r: r.get(name))
    if name in numeric:
        text = getter

        def getter(r):
            return None if text(r) in (None, "") else float(text(r))

    def rid(r):
        return int(r["id"]) if str(r.get("id", "")).isdigit() else 0

    present = [r for r in records if getter(r) is not None]
    missing = [r for r in records if getter(r) is None]
    present.sort(key=rid, reverse=desc)
    present.sort(key=lambda r: _norm(getter(r)), reverse=desc)
    missing.sort(key=rid)
    return present + missing


def page(rows: list, start: int, limit: Optional[int]) -> list:
    return rows[start:] if limit is None else rows[start : start + limit]


def paging(
    q: dict,
    default_limit: int,
    max_limit: int,
    base: int = 0,
    min_limit: int = 1,
    from_min: int = 0,
    max_from: Optional[int] = None,
) -> tuple:
    """``(start, limit)``: ``limit`` within [min_limit, max_limit] and ``from`` within [from_min, max_from], else
    422 "exceeds the range". ``base=1``: ``from=1`` is the first row (and 0, where allowed, acts like 1)."""
    limit = int_param(q, "limit", default_limit, min_limit, max_limit)
    start = int_param(q, "from", max(base, from_min), from_min, max_from)
    if base == 1:
        start = max(start, 1) - 1
    return start, limit


# --- filters ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filter:
    param: str
    field: str
    kind: str = "equals"  # equals | id | ids | bool | enum | text | prefix
    values: tuple = ()  # enum values
    max_items: Optional[int] = None

    def apply(self, q: dict, rows: list) -> list:
        if q.get(self.param) is None:
            return rows
        if self.kind == "bool":
            wanted = bool_param(q, self.param)
            return [r for r in rows if bool(r.get(self.field)) == wanted]
        if self.kind == "enum":
            wanted = choice_param(q, self.param, self.values, None)
            return [r for r in rows if r.get(self.field) == wanted]
        if self.kind == "id":
            wanted = id_param(q, self.param)
            return [r for r in rows if _ids_of(r.get(self.field)) & {wanted}]
        if self.kind == "ids":
            wanted = set(id_list_param(q, self.param, max_items=self.max_items))
            return [r for r in rows if _ids_of(r.get(self.field)) & wanted]
        if self.kind == "text":
            return [r for r in rows if text_matches(q[self.param], r.get(self.field))]
        if self.kind == "prefix":
            return [r for r in rows if str(r.get(self.field) or "").lower().startswith(q[self.param].lower())]
        return [r for r in rows if str(r.get(self.field)) == q[self.param]]


def _ids_of(value) -> set:
    if isinstance(value, (list, tuple)):
        return {str(v) for v in value}
    return {str(value)} if value is not None else set()


def text_matches(pattern: str, value) -> bool:
    """Zoho's text search: ``*`` is a wildcard; without one the value is searched as a substring; case-insensitive.
    ``${empty}`` / ``${notempty}`` test for (non-)empty values."""
    p = pattern.strip()
    if p.lower() == "${empty}":
        return value in (None, "", [])
    if p.lower() == "${notempty}":
        return value not in (None, "", [])
    if value is None:
        return False
    text = str(value).lower()
    if "*" in p:
        return fnmatch.fnmatchcase(text, p.lower())
    return p.lower() in text


# --- /search filters ------------------------------------------------------------------------------------------
def search_filter(q: dict, rows: list, exact: tuple, wildcard: tuple, all_fields: tuple = ()) -> list:
    """The field filters shared by the /search endpoints (Search.json): exact-match names take comma-separated
    alternatives; wildcard names match ``*`` patterns or substrings (``text_matches``); ``_all`` searches
    ``all_fields``; ``customFieldN=cf_name:value`` matches a custom field."""
    for name in exact:
        if q.get(name):
            wanted = {v.strip().lower() for v in q[name].split(",") if v.strip()}
            rows = [r for r in rows if str(r.get(name) if r.get(name) is not None else "").lower() in wanted]
    for name in wildcard:
        if q.get(name) is None:
            continue
        if name == "_all":
            rows = [r for r in rows if any(text_matches(q[name], r.get(f)) for f in all_fields)]
        else:
            alternatives = [v for v in q[name].split(",") if v.strip()] or [q[name]]
            rows = [r for r in rows if any(text_matches(v, r.get(name)) for v in alternatives)]
    for i in range(1, 11):
        raw = q.get(f"customField{i}")
        if raw is None:
            continue
        api_name, sep, value = raw.partition(":")
        if not sep or not api_name.strip():
            raise unprocessable(f"customField{i}", f"'customField{i}' must be 'apiName:value'")
        rows = [r for r in rows if text_matches(value, (r.get("cf") or {}).get(api_name.strip()))]
    return rows


def search_count(total: int, settings) -> object:
    """Search.json types ``count`` as string or integer; its examples are integers (``settings.search_count_type``)."""
    return str(total) if settings.search_count_type == "string" else total


def sort_for_search(rows: list, sort_by: str) -> list:
    """``relevance`` is a stable pseudo-random order (the simulator has no relevance); others sort by the field."""
    if sort_by.lstrip("-") == "relevance":
        return sorted(rows, key=lambda r: hashlib.md5(r["id"].encode()).hexdigest(), reverse=sort_by.startswith("-"))
    return sort_records(rows, sort_by)


# --- plain list endpoints --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListSpec:
    max_limit: int
    default_limit: Optional[int] = None  # None: settings.default_list_limit
    min_limit: int = 1
    base: int = 0  # 1: the OAS declares from default 1
    from_min: int = 0
    sorts: tuple = ()
    default_sort: Optional[str] = None
    numeric_sorts: tuple = ()
    filters: tuple = ()
    required: tuple = ()  # parameters the OAS marks required
    accepted: tuple = ()  # further parameters accepted without effect here (viewId, locale, ...)
    envelope: str = "data"
    zero_means_all: bool = False  # GET /teams: limit 0 (the default) lists everything

    def params(self) -> tuple:
        names = ["from", "limit"] + [f.param for f in self.filters] + list(self.required) + list(self.accepted)
        if self.sorts:
            names.append("sortBy")
        return tuple(names)


def serve_list(
    spec: ListSpec,
    records: list,
    q: dict,
    default_limit: int,
    project: Optional[Callable] = None,
    sort_key: Optional[Callable] = None,
) -> Response:
    check_allowed(q, spec.params())
    for name in spec.required:
        if q.get(name) in (None, ""):
            raise unprocessable(name, f"The parameter '{name}' is mandatory", error_type="missing")
    default = spec.default_limit if spec.default_limit is not None else default_limit
    start, limit = paging(q, default, spec.max_limit, base=spec.base, min_limit=spec.min_limit, from_min=spec.from_min)
    if spec.zero_means_all and limit == 0:
        limit = None
    sort_by = sort_param(q, spec.sorts, spec.default_sort) if spec.sorts else None
    rows = records
    for flt in spec.filters:
        rows = flt.apply(q, rows)
    rows = page(sort_records(rows, sort_by, sort_key, spec.numeric_sorts), start, limit)
    return rows_or_204([project(r) if project else copy.deepcopy(r) for r in rows], spec.envelope)

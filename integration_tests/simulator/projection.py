"""``fields=a,b,cf_x`` on list endpoints: which names a module accepts and the row it answers.

From the OAS (tickets, contacts, accounts, products, contracts, tasks, calls): "returns the values of mentioned
fields (both pre-defined and custom) ... All field types except multi-text are supported. Standard, non-editable
fields are supported too (photoURL, webUrl / layoutId). Maximum of 30 fields". Contracts' ``fields`` is a string
of at most 100 characters. The row is ``id`` plus exactly the names asked for.

Not documented, so switched by ``Settings`` [U]:

* ``fields_cf_placement``: custom values nested under ``cf`` ("nested", what tickets do) or as top-level keys;
* ``unknown_field_policy``: an unknown name is a 422 whose ``errors[].fieldName`` is that name ("error"), so a
  client can drop it and ask again, or is silently left out ("ignore").

Multi-line names (Textarea/LargeText, ``description``, ``resolution``) and more than 30 names are 422 either way.
"""

from __future__ import annotations

from typing import Optional

from . import schema
from .errors import ApiError, unprocessable
from .settings import Settings

MAX_NAMES = 30
MULTILINE_STANDARD = ("description", "resolution", "answer")
MODULE_FIELDS = {
    "tickets": schema.TICKET_FIELDS,
    "contacts": schema.CONTACT_FIELDS,
    "accounts": schema.ACCOUNT_FIELDS,
    "products": schema.PRODUCT_FIELDS,
    "contracts": schema.CONTRACT_FIELDS,
    "tasks": schema.TASK_FIELDS,
    "calls": schema.CALL_FIELDS,
    "events": schema.EVENT_FIELDS,
}
MAX_VALUE_LENGTH = {"contracts": 100}  # Contract.json: fields is a string, maxLength 100
VIEW_FIELDS = "${VIEW_FIELDS}"  # Contact.json's pattern also allows this: "the fields of the view"


def _custom(module: str) -> dict:
    return {api: ftype for api, _l, ftype, _e in schema.module_custom_fields(module)}


def multiline_names(module: str) -> set:
    standard = {n for n in MULTILINE_STANDARD if n in MODULE_FIELDS[module]}
    return standard | {a for a, t in _custom(module).items() if t in schema.MULTILINE_TYPES}


def allowed_names(module: str) -> set:
    names = {f for f in MODULE_FIELDS[module] if f not in MULTILINE_STANDARD and f != "cf"}
    return names | {a for a, t in _custom(module).items() if t not in schema.MULTILINE_TYPES}


def parse_fields(q: dict, module: str, settings: Settings) -> Optional[list]:
    """The names asked for (duplicates dropped, order kept), None without ``fields``; 422 per the rules above."""
    raw = q.get("fields")
    if raw is None:
        return None
    if module == "contacts" and raw.strip() == VIEW_FIELDS:
        return None  # the view's own columns: the default list row here
    limit = MAX_VALUE_LENGTH.get(module)
    if limit is not None and len(raw) > limit:
        raise unprocessable("fields", f"The value passed for the 'fields' exceeds the maximum length of {limit}")
    names = []
    for n in (s.strip() for s in raw.split(",")):
        if n and n not in names:
            names.append(n)
    if not names:
        raise unprocessable("fields", "The value passed for the 'fields' is invalid")
    if len(names) > MAX_NAMES:
        raise unprocessable("fields", f"At most {MAX_NAMES} fields can be requested in 'fields' ({len(names)} given)")
    multiline = multiline_names(module)
    bad = [n for n in names if n in multiline]
    if bad:
        raise _name_errors(bad, "Multi-line text fields are not supported in 'fields'")
    allowed = allowed_names(module)
    unknown = [n for n in names if n not in allowed]
    if unknown and settings.unknown_field_policy != "ignore":
        raise _name_errors(unknown, "is not a valid field")
    return [n for n in names if n in allowed]


def _name_errors(names: list, why: str) -> ApiError:
    errors = [
        {
            "fieldName": n,
            "errorType": "invalid",
            "errorMessage": f"'{n}' passed in 'fields' {why}" if why.startswith("is") else f"{why}: '{n}'",
        }
        for n in names
    ]
    return ApiError(422, "UNPROCESSABLE_ENTITY", "The value passed for the 'fields' is invalid", errors)


def project(record: dict, names: list, settings: Settings) -> dict:
    """``id`` plus the names asked for; custom values placed per ``settings.fields_cf_placement``."""
    row = {"id": record["id"]}
    cf = record.get("cf") or {}
    custom = [n for n in names if n.startswith("cf_")]
    for n in names:
        if not n.startswith("cf_"):
            row[n] = record.get(n)
    if custom:
        if settings.fields_cf_placement == "top_level":
            row.update({n: cf.get(n) for n in custom})
        else:
            row["cf"] = {n: cf.get(n) for n in custom}
    return row

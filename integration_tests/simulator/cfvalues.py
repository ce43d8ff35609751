"""``cf`` objects of the modules added after the first five streams, following ``schema.module_custom_fields``.

Every custom field ``GET /fields`` lists for a module gets a key (value or null), so a connector that types columns
from the field definitions can be checked against the records. Formula fields are computed from the record (the
expressions in ``schema.FIELDS_ONLY_CUSTOM``), as Zoho computes them, rather than drawn at random.
"""

from __future__ import annotations

import random
from datetime import datetime

from . import schema
from .data import cf_value


def custom_values(rng: random.Random, module: str, created: datetime, record: dict) -> dict:
    cf = {}
    formulas = []
    for api_name, _label, ftype, extras in schema.module_custom_fields(module):
        if ftype == "Formula":
            formulas.append(api_name)
        else:
            cf[api_name] = cf_value(rng, ftype, extras, created)
    for api_name in formulas:
        cf[api_name] = formula_value(module, api_name, record, cf)
    return cf


def formula_value(module: str, api_name: str, record: dict, cf: dict):
    if (module, api_name) == ("tasks", "cf_effort_days"):
        hours = cf.get("cf_effort_hours")
        return None if hours is None else f"{float(hours) / 8:.2f}"
    if (module, api_name) == ("timeEntry", "cf_billable_amount"):
        return (record.get("totalCost") or "0.00") if record.get("isBillable") else "0.00"
    return None

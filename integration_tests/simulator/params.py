"""Strict query-parameter parsing (Zoho rejects unknown or malformed parameters with 422)."""

from __future__ import annotations

import re
from typing import Iterable, Optional

from .data import iso, parse_iso
from .errors import ApiError, unprocessable

IGNORED = {"orgId"}  # tolerated everywhere (some clients repeat the org id in the query string)
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$")


def check_allowed(query: dict, allowed: Iterable[str]) -> None:
    allowed = set(allowed) | IGNORED
    for name in query:
        if name not in allowed:
            raise ApiError(
                422,
                "INVALID_DATA",
                f"The parameter '{name}' is not supported by this API",
                [{"fieldName": name, "errorType": "unknown", "errorMessage": f"Unknown parameter '{name}'"}],
            )


def int_param(query: dict, name: str, default: int, lo: int, hi: Optional[int]) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
        if not re.fullmatch(r"[+-]?\d+", raw.strip()):
            raise ValueError
    except ValueError:
        raise unprocessable(
            name,
            f"The value passed for the '{name}' is invalid",
        ) from None
    if value < lo or (hi is not None and value > hi):
        rng = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        err = unprocessable(name, f"The value passed for the '{name}' exceeds the range")
        err.errors[0]["errorMessage"] = f"'{name}' must be {rng}"
        raise err
    return value


def limit_param(query: dict, default: int, hi: int) -> int:
    return int_param(query, "limit", default, 1, hi)


def offset_param(query: dict, base: int = 0, max_from: Optional[int] = None) -> int:
    """0-based index into the result list. With ``base=1`` ``from=1`` is the first row and 0 acts like 1."""
    start = int_param(query, "from", base, 0, max_from)
    if base == 1:
        return max(start, 1) - 1
    return start


def choice_param(query: dict, name: str, allowed: Iterable[str], default: Optional[str]) -> Optional[str]:
    raw = query.get(name)
    if raw is None:
        return default
    if raw not in set(allowed):
        raise unprocessable(name, f"The value passed for the '{name}' is invalid: {raw!r}")
    return raw


def sort_param(query: dict, fields: Iterable[str], default: Optional[str]) -> Optional[str]:
    allowed = set()
    for f in fields:
        allowed |= {f, "-" + f}
    return choice_param(query, "sortBy", allowed, default)


def bool_param(query: dict, name: str) -> Optional[bool]:
    raw = query.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise unprocessable(name, f"The value passed for the '{name}' must be true or false")
    return raw.lower() == "true"


def id_param(query: dict, name: str, extra_ok: Iterable[str] = ()) -> Optional[str]:
    raw = query.get(name)
    if raw is None:
        return None
    if raw in set(extra_ok):
        return None
    if not raw.isdigit():
        raise unprocessable(name, f"The value passed for the '{name}' is not a valid id")
    return raw


def id_list_param(query: dict, name: str, max_items: Optional[int] = None) -> Optional[list]:
    raw = query.get(name)
    if raw is None:
        return None
    items = [s.strip() for s in raw.split(",") if s.strip()]
    if not items or not all(s.isdigit() for s in items):
        raise unprocessable(name, f"The value passed for the '{name}' must be a comma separated list of ids")
    if max_items is not None and len(items) > max_items:
        raise unprocessable(name, f"At most {max_items} values are allowed in '{name}'")
    return items


def list_param(query: dict, name: str, allowed: Iterable[str]) -> list:
    raw = query.get(name)
    if raw is None:
        return []
    items = [s.strip() for s in raw.split(",") if s.strip()]
    allowed = set(allowed)
    bad = [s for s in items if s not in allowed]
    if bad or not items:
        raise unprocessable(name, f"The value passed for the '{name}' is invalid: {', '.join(bad) or raw!r}")
    return items


def time_range_param(query: dict, name: str) -> Optional[tuple]:
    """``<iso>,<iso>`` (``yyyy-MM-ddTHH:mm:ss.SSSZ``) -> normalised ISO strings (inclusive bounds)."""
    raw = query.get(name)
    if raw is None:
        return None
    parts = raw.split(",")
    if len(parts) != 2 or not all(_ISO_RE.match(p.strip()) for p in parts):
        raise unprocessable(
            name, f"The value passed for the '{name}' must be '<from>,<to>' in yyyy-MM-ddTHH:mm:ss.SSSZ format"
        )
    lo, hi = (iso(parse_iso(p)) for p in parts)
    if lo > hi:
        raise unprocessable(name, f"The start of '{name}' is after its end")
    return lo, hi

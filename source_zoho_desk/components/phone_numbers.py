"""Phone numbers in E.164 next to Zoho's raw text, so that a PBX can match a caller to a contact or an account.

Zoho stores a phone number as it was typed: `(212) 555-0114`, `0176 12315000`, `+44 20 7946 0907`, `00 49 89 ...`.
For each configured key (`phone`, `mobile`, ...) the record gains `<key>_e164` (`+12125550114`), and keeps the raw
value untouched. The rule, also in BEHAVIOR.md:

* a number written internationally (`+…`, or `00…` which is read as `+`) needs no region;
* a national number is read in the record's own country (its `country` field: an ISO code or a country name in
  one of the languages libphonenumber knows, e.g. "Germany", "Deutschland", "DE"), else in the portal's country
  (the organization's `countryCode`, else its `country`, read once per run), else not at all;
* a number libphonenumber does not find valid in that region, or cannot parse, gives null; an extension
  (`ext. 17`) is not part of E.164 and is dropped.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import InitVar, dataclass
from functools import lru_cache
from typing import Any, Dict, List, Mapping, Optional

import phonenumbers
from airbyte_cdk.sources.declarative.transformations.transformation import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

LOGGER = logging.getLogger("airbyte")

E164_SUFFIX = "_e164"
# Common spellings libphonenumber's names do not cover.
_ALIASES = {
    "usa": "US",
    "u.s.a.": "US",
    "u.s.": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "uae": "AE",
    "south korea": "KR",
    "korea": "KR",
    "russia": "RU",
    "holland": "NL",
    "czech republic": "CZ",
}


@lru_cache(maxsize=1)
def _country_names() -> Dict[str, str]:
    """Lower-cased country name (every language libphonenumber ships) or ISO code -> region code."""
    from phonenumbers.geodata.locale import LOCALE_DATA

    names: Dict[str, set] = {}
    for region, by_language in LOCALE_DATA.items():
        names.setdefault(region.lower(), set()).add(region)
        for name in by_language.values():
            if name and not name.startswith("*"):
                names.setdefault(name.strip().casefold(), set()).add(region)
    table = {name: next(iter(regions)) for name, regions in names.items() if len(regions) == 1}
    table.update(_ALIASES)
    supported = phonenumbers.SUPPORTED_REGIONS
    return {name: region for name, region in table.items() if region in supported}


def region_of(country: Any) -> Optional[str]:
    """The region code for a country as people write it, or None."""
    if not isinstance(country, str) or not country.strip():
        return None
    return _country_names().get(country.strip().casefold())


_INTERNATIONAL_00 = re.compile(r"^\s*00\s*(?=[1-9])")


def to_e164(raw: Any, region: Optional[str]) -> Optional[str]:
    """`raw` in E.164, or None (see the module docstring for the rule)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = _INTERNATIONAL_00.sub("+", raw)
    try:
        number = phonenumbers.parse(text, None if text.lstrip().startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class PortalCountry:
    """The organization's country, read once per run with `GET /organizations/{org_id}` (None if refused)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read = False
        self._region: Optional[str] = None

    def region(self, config: Mapping[str, Any]) -> Optional[str]:
        with self._lock:
            if not self._read:
                self._read = True
                self._region = _read_portal_region(config)
            return self._region


def _read_portal_region(config: Mapping[str, Any]) -> Optional[str]:
    from source_zoho_desk.desk_client import DeskClient, json_body

    org_id = config.get("org_id")
    if not org_id:
        return None
    try:
        client = DeskClient(config)  # type: ignore[arg-type]
        response = client.get(f"organizations/{org_id}")
    except Exception as error:  # a network failure must not stop the records; numbers stay national-less
        LOGGER.info(
            f"The portal's country could not be read ({type(error).__name__}); national phone numbers are "
            "read in each record's own country only."
        )
        return None
    if client.refusal(response, stream="organizations") is not None:
        LOGGER.info(
            f"The portal's country could not be read (HTTP {response.status_code}); national phone numbers "
            "are read in each record's own country only."
        )
        return None
    body = json_body(response)
    return region_of(body.get("countryCode")) or region_of(body.get("country"))


def portal_country_of(config: Mapping[str, Any]) -> PortalCountry:
    """One PortalCountry per run (kept on the run's ConnectorConfig; a plain mapping gets a new one)."""
    found = getattr(config, "_zoho_portal_country", None)
    if isinstance(found, PortalCountry):
        return found
    country = PortalCountry()
    holder: Any = config
    try:
        holder._zoho_portal_country = country
    except AttributeError:
        pass
    return country


@dataclass
class AddE164PhoneNumbers(RecordTransformation):
    """Adds `<key>_e164` for each of `phone_fields` (see the module docstring)."""

    phone_fields: List[str]
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    country_field: str = "country"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._portal = portal_country_of(self.config)  # the run's (on a ConnectorConfig), else this stream's

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        region = region_of(record.get(self.country_field))
        for key in self.phone_fields:
            raw = record.get(key)
            if region is None and isinstance(raw, str) and raw.strip() and not _is_international(raw):
                region = self._portal.region(self.config)
            record[f"{key}{E164_SUFFIX}"] = to_e164(raw, region)


def _is_international(raw: str) -> bool:
    return raw.lstrip().startswith("+") or bool(_INTERNATIONAL_00.match(raw))

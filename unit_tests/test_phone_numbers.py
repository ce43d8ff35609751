"""E.164 numbers next to Zoho's raw phone text."""

from __future__ import annotations

import pytest

from source_zoho_desk.components import phone_numbers
from source_zoho_desk.components.phone_numbers import AddE164PhoneNumbers, region_of, to_e164


@pytest.mark.parametrize(
    "country, region",
    [
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("de", "DE"),
        ("France", "FR"),
        ("USA", "US"),
        ("United Kingdom", "GB"),
        ("日本", "JP"),
        ("Nowhere", None),
        ("", None),
        (None, None),
    ],
)
def test_countries_as_people_write_them(country, region):
    assert region_of(country) == region


@pytest.mark.parametrize(
    "raw, region, e164",
    [
        ("+44 20 7946 0907", None, "+442079460907"),
        ("00 49 89 12348063", None, "+498912348063"),
        ("+1 650-555-0163 ext. 17", None, "+16505550163"),
        ("(212) 555-0114", "US", "+12125550114"),
        ("0176 12315000", "DE", "+4917612315000"),
        ("01 42 68 77 83", "FR", "+33142687783"),
        ("(212) 555-0114", None, None),  # national, no region to read it in
        ("(212) 555-0114", "FR", None),  # not a valid French number
        ("call me", "US", None),
        ("", "US", None),
        (None, "US", None),
    ],
)
def test_numbers_in_e164(raw, region, e164):
    assert to_e164(raw, region) == e164


def test_a_national_number_is_read_in_the_record_country_else_the_portal(monkeypatch):
    asked = []

    def portal_region(config):
        asked.append(config)
        return "FR"

    monkeypatch.setattr(phone_numbers, "_read_portal_region", portal_region)
    transformation = AddE164PhoneNumbers(phone_fields=["phone", "mobile"], config={"org_id": "1"}, parameters={})
    german = {"phone": "0176 12315000", "mobile": None, "country": "Deutschland"}
    transformation.transform(german)
    assert german == {
        "phone": "0176 12315000",
        "mobile": None,
        "country": "Deutschland",
        "phone_e164": "+4917612315000",
        "mobile_e164": None,
    }
    assert not asked, "the record's own country was enough"

    nowhere = {"phone": "01 42 68 77 83", "mobile": "+49 30 1234439", "country": None}
    transformation.transform(nowhere)
    assert nowhere["phone_e164"] == "+33142687783" and nowhere["mobile_e164"] == "+49301234439"
    transformation.transform({"phone": "01 42 68 77 84"})
    assert len(asked) == 1, "the portal's country is read once per run"

"""Custom-field definitions from either endpoint, their column types, and records' typed values."""

from __future__ import annotations

import pytest

from source_zoho_desk.components.custom_fields import (
    ModuleFields,
    flatten_custom_fields,
    json_schema_of,
    normalise_definition,
    standard_fields,
    typed_value,
    with_custom_columns,
)


def test_both_endpoints_shapes_are_normalised():
    old = normalise_definition(
        {
            "id": 5,
            "apiName": "cf_tier",
            "type": "Checkbox",
            "maxLength": "5",
            "allowedValues": [{"value": "a"}, "b"],
            "defaultValue": True,
            "decimalPlaces": "2",
        }
    )
    new = normalise_definition(
        {
            "id": "6",
            "apiName": "cf_level",
            "type": "Picklist",
            "maxLength": 120,
            "pickListValues": [{"value": "Low"}, {"value": "High"}],
        }
    )
    assert old["type"] == "Boolean" and old["id"] == "5"
    assert old["maxLength"] == 5 and old["decimalPlaces"] == 2
    assert old["allowedValues"] == ["a", "b"] and old["defaultValue"] == "true"
    assert new["allowedValues"] == ["Low", "High"] and new["maxLength"] == 120 and new["defaultValue"] is None
    assert normalise_definition({"apiName": "x", "defaultValue": 3.5})["defaultValue"] == "3.5"


@pytest.mark.parametrize(
    "ftype, column",
    [
        ("Text", {"type": ["string", "null"]}),
        ("Number", {"type": ["integer", "null"]}),
        ("Decimal", {"type": ["number", "null"]}),
        ("Currency", {"type": ["number", "null"]}),
        ("Percent", {"type": ["number", "null"]}),
        ("Date", {"type": ["string", "null"], "format": "date"}),
        ("DateTime", {"type": ["string", "null"], "format": "date-time"}),
        ("Boolean", {"type": ["boolean", "null"]}),
        ("Checkbox", {"type": ["boolean", "null"]}),
        ("Picklist", {"type": ["string", "null"]}),
        ("Multiselect", {"type": ["array", "null"], "items": {"type": "string"}}),
        ("LookUp", {"type": ["string", "null"]}),
    ],
)
def test_each_field_type_has_a_column_type(ftype, column):
    schema = json_schema_of({"apiName": "cf_x", "type": ftype})
    schema.pop("description")
    assert schema == column


def test_a_formula_is_typed_by_what_it_returns():
    assert json_schema_of({"type": "Formula", "returnType": "DECIMAL"})["type"] == ["number", "null"]
    assert json_schema_of({"type": "Formula", "returnType": "SOMETHING"})["type"] == ["string", "null"]


@pytest.mark.parametrize(
    "ftype, raw, typed",
    [
        ("Number", "42", 42),
        ("Number", "4.5", None),
        ("Number", "x", None),
        ("Decimal", "129.99", 129.99),
        ("Percent", "12.5", 12.5),
        ("Boolean", "true", True),
        ("Boolean", "false", False),
        ("Boolean", "yes", None),
        ("Multiselect", "a;b; c", ["a", "b", "c"]),
        ("Multiselect", ["a"], ["a"]),
        ("Text", 7, "7"),
        ("LookUp", {"id": 12, "name": "n"}, "12"),
        ("Date", "", None),
        ("Currency", None, None),
    ],
)
def test_raw_values_become_the_column_type(ftype, raw, typed):
    assert typed_value({"type": ftype}, raw) == typed


FIELDS = ModuleFields(
    "tickets",
    [
        normalise_definition({"apiName": "cf_count", "type": "Number", "isCustomField": True}),
        normalise_definition({"apiName": "cf_vip", "type": "Checkbox", "isCustomField": True}),
        normalise_definition({"apiName": "subject", "type": "Text", "isCustomField": False}),
    ],
    "fields",
)


def test_nested_and_top_level_custom_values_give_the_same_record():
    nested = {"id": "1", "cf": {"cf_count": "3", "cf_vip": "true"}}
    top_level = {"id": "1", "cf_count": "3", "cf_vip": "true"}
    flatten_custom_fields(nested, FIELDS)
    flatten_custom_fields(top_level, FIELDS)
    assert nested == top_level == {"id": "1", "cf": {"cf_count": "3", "cf_vip": "true"}, "cf_count": 3, "cf_vip": True}


def test_a_row_sets_only_the_custom_columns_it_holds():
    chunk = {"id": "1", "subject": "s"}  # a `fields` chunk without custom fields must not blank another chunk's
    flatten_custom_fields(chunk, FIELDS)
    assert chunk == {"id": "1", "subject": "s"}
    unknown = {"id": "1", "cf": {"cf_new": 5}}
    flatten_custom_fields(unknown, FIELDS)
    assert unknown["cf_new"] == "5", "a field added since the definitions were read is kept as text"


def test_discover_schema_gains_typed_columns_and_cf_lists_them():
    schema = with_custom_columns(
        {"type": "object", "properties": {"id": {"type": "string"}, "cf": {"type": "object"}}}, FIELDS
    )
    assert schema["properties"]["cf_count"]["type"] == ["integer", "null"]
    assert schema["properties"]["cf_vip"]["type"] == ["boolean", "null"]
    assert "subject" not in schema["properties"], "standard fields come from the static schema"
    assert set(schema["properties"]["cf"]["properties"]) == {"cf_count", "cf_vip"}


def test_the_names_asked_for_leave_out_the_connectors_own_and_multi_line_columns():
    schema = {
        "properties": {
            n: {}
            for n in (
                "id",
                "subject",
                "description",
                "cf",
                "cf_x",
                "phone",
                "phone_e164",
                "_ab_cdc_cursor",
                "modifiedTime",
            )
        }
    }
    assert standard_fields(schema, ["modifiedTime"]) == ["subject", "phone"]

"""Every stream read in full from the simulator: exact counts against its store, records valid against the schemas
discover shows (typed custom-field columns included), the calls each stream costs, refused modules skipped with one
warning, and the `fields=` shapes and refusals Zoho may answer with."""

from __future__ import annotations

import re
from collections import Counter

import jsonschema
import phonenumbers
import pytest
from airbyte_cdk.test.entrypoint_wrapper import discover

from integration_tests.reads import read_streams, records_by_stream
from integration_tests.simulator.phones import PHONE_TEMPLATES
from integration_tests.simulator.schema import FIELD_MODULES
from source_zoho_desk.source import SourceZohoDesk

# stream -> the Zoho module whose custom fields are its typed columns
MODULE_OF = {
    "tickets": "tickets",
    "contacts": "contacts",
    "accounts": "accounts",
    "agents": "agents",
    "tasks": "tasks",
    "calls": "calls",
    "events": "events",
    "products": "products",
    "contracts": "contracts",
    "ticket_time_entries": "timeEntry",
}
CHILD_KINDS = {
    "ticket_threads": "threads",
    "ticket_comments": "comments",
    "ticket_time_entries": "timeEntries",
    "ticket_attachments": "attachments",
    "ticket_tags": "tags",
}
# Every stream the connector offers, in manifest order.
ALL_STREAMS = [
    "tickets",
    "departments",
    "products",
    "contracts",
    "organization_fields",
    "contacts",
    "accounts",
    "agents",
    "teams",
    "team_members",
    "roles",
    "profiles",
    "skills",
    "support_plans",
    "layouts",
    "business_hours",
    "holiday_lists",
    "channels",
    "tasks",
    "calls",
    "events",
    "activities",
    "ticket_threads",
    "ticket_comments",
    "ticket_time_entries",
    "ticket_attachments",
    "ticket_tags",
    "articles",
    "article_categories",
    "recycle_bin",
    "organizations",
]
LAYOUT_MODULES = ("tickets", "contacts", "accounts", "tasks", "calls", "events", "timeEntry", "products", "contracts")


def warnings(output):
    return [m.log.message for m in output.logs if m.log.level.value == "WARN"]


def expected_counts(sim):
    store = sim.store
    tickets = list(store["tickets"].values())
    children = {t["id"]: store.children.of(t) for t in tickets}
    ticket_ids = set(store["tickets"])
    counts = {
        "tickets": len(tickets),
        "departments": len(store["departments"]),
        "products": len(store["products"]),
        "contracts": len(store["contracts"]),
        "organization_fields": sum(len(store.fields[m]) for m in FIELD_MODULES),
        "contacts": len(store["contacts"]),
        "accounts": len(store["accounts"]),
        "agents": len(store["agents"]),
        "teams": len(store["teams"]),
        "team_members": sum(
            len([a for a in t["derivedAgents"] if a in store["agents"]]) for t in store["teams"].values()
        ),
        "roles": len(store["roles"]),
        "profiles": len(store["profiles"]),
        "skills": len(store["skills"]),
        "support_plans": len(store["supportPlans"]),
        "layouts": len([x for x in store["layouts"].values() if x["module"] in LAYOUT_MODULES]),
        "business_hours": len(store["businessHours"]),
        "holiday_lists": len(store["holidayLists"]),
        "channels": len(store["channels"]),
        "tasks": len(store["tasks"]),
        "calls": len(store["calls"]),
        "events": len(store["events"]),
        "activities": sum(
            1 for m in ("tasks", "calls", "events") for r in store[m].values() if r.get("ticketId") in ticket_ids
        ),
        "articles": len(store["articles"]),
        "article_categories": len(store["kbCategories"]),
        "recycle_bin": len(store["recycleBin"]),
        "organizations": 1,
    }
    for stream, kind in CHILD_KINDS.items():
        counts[stream] = sum(len(c[kind]) for c in children.values())
    return {stream: n for stream, n in counts.items() if n}


@pytest.fixture(scope="module")
def full_read():
    from integration_tests.simulator import ZohoDeskSimulator

    with ZohoDeskSimulator(seed=7) as sim:
        config = sim.config()
        catalog = discover(SourceZohoDesk(config=config), config).catalog.catalog
        sim.reset_requests()
        output = read_streams(config, [s.name for s in catalog.streams])
        yield sim, catalog, output


def test_every_stream_reads_exactly_the_store_and_matches_its_discovered_schema(full_read):
    sim, catalog, output = full_read
    assert not output.errors, [e.trace.error.message for e in output.errors]
    grouped = records_by_stream(output)
    expected = expected_counts(sim)
    assert {s: len(r) for s, r in grouped.items()} == expected
    assert set(expected) == {s.name for s in catalog.streams} == set(ALL_STREAMS), "every stream has rows in the demo"
    schemas = {s.name: s.json_schema for s in catalog.streams}
    keys = {s.name: s.source_defined_primary_key for s in catalog.streams}
    for stream, records in grouped.items():
        pk = [path[0] for path in keys[stream]]
        assert pk, f"{stream} has no primary key"
        ids = [tuple(r[k] for k in pk) for r in records]
        assert len(set(ids)) == len(ids), f"duplicate keys in {stream}"
        for record in records:
            jsonschema.validate(record, schemas[stream], format_checker=jsonschema.FormatChecker())


def test_discover_types_every_custom_field_of_every_module(full_read):
    sim, catalog, _ = full_read
    schemas = {s.name: s.json_schema for s in catalog.streams}
    kinds = {
        "Number": "integer",
        "Decimal": "number",
        "Currency": "number",
        "Percent": "number",
        "Boolean": "boolean",
        "Checkbox": "boolean",
        "Multiselect": "array",
        "MultiLookup": "array",
    }
    formats = {"Date": "date", "DateTime": "date-time"}
    for stream, module in MODULE_OF.items():
        properties = schemas[stream]["properties"]
        custom = [f for f in sim.store.fields[module] if f["isCustomField"]]
        assert custom, module
        for definition in custom:
            ftype = definition["type"]
            if ftype == "Formula":
                ftype = {"DECIMAL": "Decimal", "CURRENCY": "Currency"}[definition["returnType"]]
            column = properties[definition["apiName"]]
            assert column["type"] == [kinds.get(ftype, "string"), "null"], (stream, definition["apiName"], column)
            assert column.get("format") == formats.get(ftype), (stream, definition["apiName"])
            assert definition["apiName"] in properties["cf"]["properties"], "cf keeps the raw value too"


def test_custom_values_become_typed_columns_and_cf_keeps_them_raw(full_read):
    sim, _, output = full_read
    grouped = records_by_stream(output)
    tickets = {t["id"]: t for t in grouped["tickets"]}
    seen = Counter()
    for ticket_id, stored in sim.store["tickets"].items():
        row = tickets[ticket_id]
        raw = stored["cf"]
        if raw.get("cf_affected_users") is not None:
            assert (
                row["cf_affected_users"] == int(raw["cf_affected_users"])
                and row["cf"]["cf_affected_users"] == raw["cf_affected_users"]
            )
            seen["number"] += 1
        if raw.get("cf_is_vip") is not None:
            assert row.get("cf_is_vip") is (raw["cf_is_vip"] == "true")
            seen["boolean"] += 1
        if raw.get("cf_platforms"):
            assert row["cf_platforms"] == raw["cf_platforms"].split(";")
            seen["multiselect"] += 1
        if raw.get("cf_refund_amount") is not None:
            assert row["cf_refund_amount"] == float(raw["cf_refund_amount"])
            seen["currency"] += 1
        # tickets come from the search, whose rows are complete: multi-line custom fields too (a list omits them)
        assert row.get("cf_root_cause_notes") == raw.get("cf_root_cause_notes")
        if raw.get("cf_root_cause_notes") is not None:
            seen["multi-line"] += 1
    assert min(seen.values()) > 0 and len(seen) == 5
    entries = {e["id"]: e for e in grouped["ticket_time_entries"]}
    assert all(isinstance(e.get("cf_travel_needed"), (bool, type(None))) for e in entries.values())
    assert any(isinstance(e.get("cf_billable_amount"), float) for e in entries.values()), (
        "a Formula field by returnType"
    )


def _template_of(number):
    for template, country in PHONE_TEMPLATES:
        pattern = "^" + re.escape(template).replace("\\#", "[0-9]").replace("\\ ", " ") + "$"
        if re.match(pattern, number):
            return template, country
    return None, None


def test_contact_phones_keep_their_text_and_gain_an_e164_column(full_read):
    sim, _, output = full_read
    contacts = {c["id"]: c for c in records_by_stream(output)["contacts"]}
    checked = Counter()
    for contact_id, stored in sim.store["contacts"].items():
        row = contacts[contact_id]
        for key in ("phone", "mobile"):
            assert row.get(key) == stored[key], "the raw number stays as Zoho has it"
            if stored[key] is None:
                assert row.get(f"{key}_e164") is None
                continue
            template, country = _template_of(stored[key])
            assert template, stored[key]
            e164 = row.get(f"{key}_e164")
            if template.startswith(("+", "00")):  # international: the same digits whatever the region
                digits = re.sub(r"[^0-9]", "", stored[key].split(" ext.")[0])
                assert e164 == "+" + digits.removeprefix("00"), stored[key]
                checked["international"] += 1
            else:  # national: read in the contact's country, else the portal's (France in the simulator)
                region = {
                    "France": "FR",
                    "Germany": "DE",
                    "Brazil": "BR",
                    "Japan": "JP",
                    "USA": "US",
                    "India": "IN",
                    "Poland": "PL",
                    "Ireland": "IE",
                    "China": "CN",
                    "Canada": "CA",
                    "Spain": "ES",
                    "Switzerland": "CH",
                }.get(stored.get("country") or "", "FR")
                number = phonenumbers.parse(stored[key], region)
                wanted = (
                    phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                    if phonenumbers.is_valid_number(number)
                    else None
                )
                assert e164 == wanted, (stored[key], region)
                checked["national", wanted is not None] += 1
    assert checked["international"] and checked["national", True] and checked["national", False]


def test_calls_keep_what_a_pbx_matches_on(full_read):
    sim, _, output = full_read
    calls = {c["id"]: c for c in records_by_stream(output)["calls"]}
    for call_id, stored in sim.store["calls"].items():
        for key in ("direction", "duration", "status", "startTime", "contactId", "ticketId"):
            assert calls[call_id].get(key) == stored[key], key


def list_pages(rows, limit=100, overlap=3):
    """Calls to list `rows` rows with pages of `limit` that overlap by `overlap` (a full last page asks once more)."""
    calls, offset = 0, 0
    while True:
        calls += 1
        if min(limit, rows - offset) < limit:
            return calls
        offset += limit - overlap


def test_calls_per_stream(full_read):
    """The calls each stream costs on the demo portal: one list call per page, per `fields` chunk where a module's
    list needs one, and one call per ticket with children for the per-ticket streams."""
    sim, _, output = full_read
    requests = sim.desk_requests()
    paths = Counter(re.sub(r"/[0-9]+", "/{id}", r.path.removeprefix("/api/v1/")) for r in requests)
    tickets = list(sim.store["tickets"].values())
    ticket_pages = list_pages(len(tickets))
    with_children = {
        kind: sum(1 for t in tickets if str(t.get(counter)) != "0")
        for kind, counter in (
            ("threads", "threadCount"),
            ("comments", "commentCount"),
            ("timeEntry", "timeEntryCount"),
            ("attachments", "attachmentCount"),
            ("tags", "tagCount"),
        )
    }
    for kind, n in with_children.items():
        assert paths[f"tickets/{{id}}/{kind}"] == n, kind
    assert paths["tickets/{id}/activities"] == len(tickets)
    assert paths["products/{id}"] == 0 and paths["contracts/{id}"] == 0, "complete rows from the lists"
    assert paths["products"] == 1, "41 products: one page, one chunk of fields"
    assert paths["contracts"] <= 5, "57 contracts: one page, a few 100-character chunks of fields"
    for module in ("contacts", "accounts", "tasks", "calls", "events"):
        assert paths[module] == list_pages(len(sim.store[module])), f"{module}: one chunk of fields a page"
    assert paths["agents"] == list_pages(len(sim.store["agents"]), 200)
    assert paths["fields"] == len(FIELD_MODULES), "each module's definitions once per sync"
    assert paths["organizationFields"] == 0
    # the slim ticket list each per-ticket stream walks, and the tickets stream's chunks of fields
    assert paths["tickets"] <= 6 * ticket_pages + 3 * ticket_pages, "6 slim walks, and <= 3 chunks of fields a page"
    finished = [m.log.message for m in output.logs if m.log.message.startswith("Finished ")]
    assert any(
        line.startswith(
            f"Finished ticket_comments: {sum(len(sim.store.children.of(t)['comments']) for t in tickets):,} records"
        )
        for line in finished
    )


# --- refusals, field-definition fallbacks and `fields=` shapes ------------------------------------------------------
@pytest.fixture
def sim():
    from integration_tests.simulator import ZohoDeskSimulator

    with ZohoDeskSimulator(seed=7) as simulator:
        yield simulator


ALL_SCOPES_BUT_CALLS = (
    "Desk.tickets.READ,Desk.basic.READ,Desk.products.READ,Desk.contracts.READ,Desk.settings.READ,"
    "Desk.search.READ,Desk.contacts.READ,Desk.tasks.READ,Desk.events.READ,Desk.articles.READ"
)


def test_a_module_the_token_may_not_read_is_skipped_with_one_warning_naming_its_scope(sim):
    config = sim.config()
    config["credentials"]["refresh_token"] = sim.refresh_token(ALL_SCOPES_BUT_CALLS)
    output = read_streams(config, ["calls", "contacts", "tasks"])

    assert not output.errors, [e.trace.error.message for e in output.errors]
    counts = Counter(m.record.stream for m in output.records)
    assert counts == {"contacts": len(sim.store["contacts"]), "tasks": len(sim.store["tasks"])}
    skipped = [w for w in warnings(output) if "Skipped the 'calls' stream" in w]
    assert len(skipped) == 1 and "Desk.calls.READ" in skipped[0], warnings(output)
    assert len([r for r in sim.desk_requests() if r.path.endswith("/calls")]) == 1, "no second request once refused"


def test_an_edition_without_a_module_skips_it_once_for_all_its_partitions(sim):
    sim.inject(
        "/api/v1/skills",
        403,
        "LICENSE_ACCESS_LIMITED",
        times=100,
        message="This feature is not available in your edition",
    )
    sim.inject("/api/v1/articles", 404, "URL_NOT_FOUND", times=100)
    output = read_streams(sim.config(num_workers=1), ["skills", "articles", "roles"])  # one request at a time

    assert not output.errors
    assert Counter(m.record.stream for m in output.records) == {"roles": len(sim.store["roles"])}
    skipped = [w for w in warnings(output) if w.startswith("Skipped the '")]
    assert len(skipped) == 2, skipped
    assert any("'skills'" in w and "edition does not include it" in w for w in skipped)
    assert any("'articles'" in w and "HTTP 404" in w for w in skipped)
    # skills are listed per department: the first refusal stops the other departments' requests
    assert len([r for r in sim.desk_requests() if r.path.endswith("/skills")]) == 1


def test_custom_values_as_top_level_keys_give_the_same_records_as_nested_ones(sim):
    # Lists asked with `fields=` (contacts here; tickets come from the search, whose `cf` is always nested).
    nested = {r["id"]: r for r in records_by_stream(read_streams(sim.config(), ["tickets", "contacts"]))["contacts"]}
    sim.settings.fields_cf_placement = "top_level"
    sim.reset_requests()
    output = read_streams(sim.config(), ["tickets", "contacts"])
    top_level = {r["id"]: r for r in records_by_stream(output)["contacts"]}

    assert not output.errors
    assert top_level == nested
    placed = [r for r in sim.desk_requests() if r.path.endswith("/contacts") and "cf_" in r.query.get("fields", "")]
    assert placed, "the custom fields were asked for by name"
    assert any(any(value is not None for value in row["cf"].values()) for row in top_level.values())


def test_a_field_the_list_does_not_know_is_dropped_for_the_rest_of_the_sync(sim):
    gone = dict(
        sim.store.fields["contacts"][-1], id="1892000000999999", apiName="cf_gone", displayLabel="Gone", type="Text"
    )
    sim.store.fields["contacts"].append(gone)  # defined, but the list refuses it (a field deleted since)
    output = read_streams(sim.config(), ["contacts"])

    assert not output.errors
    assert len(output.records) == len(sim.store["contacts"])
    dropped = [w for w in warnings(output) if "cf_gone" in w]
    assert len(dropped) == 1 and "left out for the rest of this sync" in dropped[0]
    contact_calls = [r for r in sim.desk_requests() if r.path.endswith("/contacts")]
    asked = [r.query["fields"] for r in contact_calls]
    assert "cf_gone" in asked[0] and all("cf_gone" not in f for f in asked[1:]), asked
    assert len([r for r in contact_calls if r.status == 422]) == 1
    assert all("modifiedTime" in m.record.data for m in output.records)


def test_field_definitions_fall_back_to_the_deprecated_endpoint(sim):
    sim.inject("/api/v1/fields", 404, "URL_NOT_FOUND", times=100)
    config = sim.config()
    catalog = discover(SourceZohoDesk(config=config), config).catalog.catalog
    schemas = {s.name: s.json_schema for s in catalog.streams}
    output = read_streams(config, ["organization_fields", "tickets"])

    assert schemas["tickets"]["properties"]["cf_is_vip"]["type"] == ["boolean", "null"], "Checkbox is a boolean"
    assert schemas["tickets"]["properties"]["cf_affected_users"]["type"] == ["integer", "null"]
    assert "cf_employee_id" not in schemas["agents"]["properties"], "the old endpoint does not know agents' fields"
    fields = records_by_stream(output)["organization_fields"]
    assert len(fields) == sum(len(v) for v in sim.store.org_fields.values())
    for field in fields:
        jsonschema.validate(field, schemas["organization_fields"])
    impact = next(f for f in fields if f["apiName"] == "cf_impact_level")
    assert impact["allowedValues"] == ["Low", "Medium", "High", "Critical"]
    assert len([w for w in warnings(output) if "field definitions of the Zoho Desk module" in w]) >= 1
    refused = {
        r.query["module"] for r in sim.desk_requests() if r.path.endswith("/organizationFields") and r.status != 200
    }
    assert refused == {"timeEntry", "agents"}, "modules only /fields knows"


def test_products_whose_list_ignores_fields_are_read_by_id(sim, monkeypatch):
    from integration_tests.simulator import api, projection

    original = projection.parse_fields
    monkeypatch.setattr(
        api.projection,
        "parse_fields",
        lambda q, module, settings: None if module == "products" else original(q, module, settings),
    )
    output = read_streams(sim.config(), ["products"])

    assert not output.errors
    rows = {m.record.data["id"]: m.record.data for m in output.records}
    assert set(rows) == set(sim.store["products"])
    for product_id, stored in sim.store["products"].items():
        assert rows[product_id]["modifiedTime"] == stored["modifiedTime"]
        assert rows[product_id]["cf"] == stored["cf"]
    by_id = [r for r in sim.desk_requests() if re.search(r"/products/[0-9]+$", r.path)]
    assert len(by_id) == len(sim.store["products"]), "only because the list rows lack modifiedTime"

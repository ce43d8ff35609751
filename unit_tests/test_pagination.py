"""Paging: 204 ends a list, a short page ends a list, a 422 'exceeds the range' shrinks the page, and module lists
(contacts and the like) merge their `fields` chunks by id."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import requests_mock

from unit_tests.conftest import DESK, TOKEN_URL, make_config, run_read, token_answer


def departments(start: int, count: int) -> dict:
    return {"json": {"data": [{"id": str(1892000000000000 + i), "name": f"D{i}"} for i in range(start, start + count)]}}


def query(request) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}


def desk_queries(mocker, path: str) -> list:
    return [query(r) for r in mocker.request_history if urlparse(r.url).path == f"/api/v1/{path}"]


def offset_list(total: int, max_limit: int = 200):
    """A Zoho-like list of `total` departments: 0-based `from`, 204 past the end, 422 beyond `max_limit`."""

    def answer(request, context):
        params = query(request)
        offset, limit = int(params["from"]), int(params["limit"])
        if limit > max_limit:
            context.status_code = 422
            return {
                "errorCode": "UNPROCESSABLE_ENTITY",
                "message": "The value passed for the 'limit' exceeds the range",
                "errors": [{"fieldName": "limit", "errorType": "invalid"}],
            }
        rows = departments(offset, max(0, min(limit, total - offset)))["json"]["data"]
        if not rows:
            context.status_code = 204
            return None
        return {"data": rows}

    return answer


def test_pages_overlap_a_little_and_a_short_page_ends_the_list():
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/departments", json=offset_list(405))
        output = run_read(make_config(), "departments")

    ids = [r.record.data["id"] for r in output.records]
    assert len(ids) == len(set(ids)) == 405, "the re-read rows of each overlap are not emitted twice"
    assert [(q["from"], q["limit"]) for q in desk_queries(mocker, "departments")] == [
        ("0", "200"),
        ("197", "200"),
        ("394", "200"),
    ]


def test_a_row_deleted_during_the_read_does_not_make_another_row_disappear():
    state = {"deleted": False}
    rows = [{"id": str(1892000000000000 + i), "name": f"D{i}"} for i in range(300)]

    def answer(request, context):
        params = query(request)
        offset, limit = int(params["from"]), int(params["limit"])
        page = rows[offset : offset + limit]
        if not state["deleted"]:
            state["deleted"] = True
            del rows[10]  # deleted after the first page was read: every later row moves one place up
        return {"data": page}

    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/departments", json=answer)
        output = run_read(make_config(), "departments")

    ids = {r.record.data["id"] for r in output.records}
    assert ids >= {row["id"] for row in rows}, "row 200 of the original list must not be skipped"


def test_http_204_with_no_body_ends_the_list():
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/departments", json=offset_list(200))
        output = run_read(make_config(), "departments")

    assert len(output.records) == 200
    assert [q["from"] for q in desk_queries(mocker, "departments")] == ["0", "197"]
    assert not output.errors


def test_a_limit_beyond_the_endpoint_range_shrinks_the_page_and_carries_on():
    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/departments", json=offset_list(230, max_limit=100))
        output = run_read(make_config(), "departments")

    ids = [r.record.data["id"] for r in output.records]
    assert len(ids) == len(set(ids)) == 230
    assert [(q["from"], q["limit"]) for q in desk_queries(mocker, "departments")] == [
        ("0", "200"),
        ("0", "100"),
        ("97", "100"),
        ("194", "100"),
    ]


# Contacts have 27 standard fields: with these, their `fields` names take two chunks of 29.
MORE_CUSTOM_FIELDS = [
    {"id": str(9100 + k), "apiName": f"cf_extra_{k}", "type": "Text", "isCustomField": True} for k in range(8)
]


def test_module_lists_ask_each_page_once_per_field_chunk_and_merge_rows_by_id():
    """Contacts, accounts, tasks, calls and events (module_list_stream) still list with `fields=` chunks; tickets
    read complete rows from the search instead (test_ticket_windows.py)."""
    custom = [
        {"id": "9001", "apiName": "cf_tier", "type": "Picklist", "isCustomField": True},
        {"id": "9002", "apiName": "renewal_date", "type": "Date", "isCustomField": True},  # no cf_ prefix given
        {"id": "9003", "apiName": "cf_notes", "type": "Textarea", "isCustomField": True},  # not listable
        {"id": "9004", "apiName": "subject", "type": "Text", "isCustomField": False},
    ] + MORE_CUSTOM_FIELDS

    def contacts(request, context):
        fields = query(request)["fields"].split(",")
        offset = int(query(request)["from"])
        rows = []
        for i in range(offset, min(offset + 100, 130)):  # 130 contacts
            row = {"id": str(1892000000100000 + i)}
            for name in fields:
                if name.startswith("cf_"):
                    row.setdefault("cf", {})[name] = f"{name}-{i}"
                elif name != "id":
                    row[name] = None if name == "phone" else f"{name}-{i}"
            rows.append(row)
        return {"data": rows}

    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/organizationFields", json={"data": custom})
        mocker.get(f"{DESK}/contacts", json=contacts)
        output = run_read(make_config(), "contacts")

    calls = desk_queries(mocker, "contacts")
    chunks = [q["fields"].split(",") for q in calls]
    assert all(len(chunk) <= 30 and chunk[0] == "id" for chunk in chunks)
    assert len(calls) == 4  # two pages (100, then 33 from offset 97) x two chunks of field names
    requested = {name for chunk in chunks for name in chunk}
    assert {"modifiedTime", "cf_tier", "cf_renewal_date"} <= requested
    assert "cf_notes" not in requested and "description" not in requested

    records = [r.record.data for r in output.records]
    assert len(records) == 130
    assert len({r["id"] for r in records}) == 130
    first = records[0]
    assert first["modifiedTime"] == "modifiedTime-0"
    assert {k: first["cf"][k] for k in ("cf_tier", "cf_renewal_date")} == {
        "cf_tier": "cf_tier-0",
        "cf_renewal_date": "cf_renewal_date-0",
    }
    assert len(first["cf"]) == 2 + len(MORE_CUSTOM_FIELDS)
    # The CDK serializer omits null values from records; a destination reads an absent field as null.
    assert first["firstName"] == "firstName-0" and first.get("phone") is None
    assert all(q["sortBy"] == "createdTime" for q in calls)


def test_a_page_joins_the_last_one_only_if_it_starts_at_a_row_already_read():
    from source_zoho_desk.components.whole_pages import PageContinuity

    def rows(*numbers):
        return [{"id": str(n), "createdTime": f"2024-01-01T00:00:{n:02d}.000Z"} for n in numbers]

    continuity = PageContinuity(sort_field="createdTime")
    assert continuity.joins(97, rows(50)), "nothing to join before the first page kept"
    continuity.keep(rows(*range(10, 20)))
    assert continuity.joins(0, rows(40)), "the start of the list joins anything"
    assert continuity.joins(7, rows(17, 18, 19, 20)), "starts at a row of the last page"
    assert continuity.joins(7, rows(5, 6)), "starts before the last page's end (its own first rows were deleted)"
    assert not continuity.joins(7, rows(21, 22)), "rows 20 may have been skipped"
    assert not continuity.joins(7, []), "an empty page past rows now moved up"


def test_chunks_agree_only_on_the_same_tickets_in_the_same_order():
    from source_zoho_desk.components.whole_pages import chunks_agree

    assert chunks_agree([[{"id": "1"}, {"id": "2"}], [{"id": "1", "x": 1}, {"id": "2"}]])
    assert chunks_agree([[], []])
    assert not chunks_agree([[{"id": "1"}, {"id": "2"}], [{"id": "2"}, {"id": "3"}]])


def test_module_lists_whose_chunks_never_agree_fail_the_read_instead_of_emitting_partial_rows():
    def contacts(request, context):
        fields = query(request)["fields"].split(",")
        shift = 0 if "firstName" in fields else 1  # the chunk without `firstName` always sees the list one row on
        return {
            "data": [
                {
                    "id": str(1892000000100000 + i),
                    **{n: f"{n}-{i}" for n in fields if n != "id" and not n.startswith("cf_")},
                }
                for i in range(shift, shift + 40)
            ]
        }

    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/organizationFields", json={"data": MORE_CUSTOM_FIELDS})
        mocker.get(f"{DESK}/contacts", json=contacts)
        output = run_read(make_config(), "contacts", expect_failure=True)

    assert not output.records
    assert any("kept changing while one page was read" in str(e.trace.error.message) for e in output.errors)
    assert len(desk_queries(mocker, "contacts")) == 6 * 2  # six attempts at the first page, two chunks each


def test_a_422_about_the_offset_is_not_taken_for_a_page_size_refusal():
    def answer(request, context):
        context.status_code = 422
        return {
            "errorCode": "UNPROCESSABLE_ENTITY",
            "message": "The value passed for the 'from' exceeds the range",
            "errors": [
                {"fieldName": "from", "errorType": "invalid", "errorMessage": "'from' must be between 0 and 999"}
            ],
        }

    with requests_mock.Mocker() as mocker:
        mocker.post(TOKEN_URL, json=token_answer())
        mocker.get(f"{DESK}/departments", json=answer)
        output = run_read(make_config(), "departments", expect_failure=True)

    assert [q["limit"] for q in desk_queries(mocker, "departments")] == ["200"], "the limit was not the problem"
    message = " ".join(e.trace.error.message for e in output.errors)
    assert (
        "Zoho Desk answered HTTP 422 (UNPROCESSABLE_ENTITY) for the 'departments' stream: 'from' must be between 0 and 999."
        in message
    )

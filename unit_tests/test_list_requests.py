"""Which 422 answers name `fields=` names the connector can drop."""

from __future__ import annotations

import requests

from source_zoho_desk.components.list_requests import refused_field_names


def answer(status, body, url="https://desk.zoho.com/api/v1/contacts?fields=id%2CcreatedTime%2Ccf_gone&from=0"):
    response = requests.Response()
    response.status_code = status
    response._content = __import__("json").dumps(body).encode()
    response.request = requests.Request("GET", url).prepare()
    return response


def test_a_422_naming_asked_fields_names_them():
    body = {"errorCode": "UNPROCESSABLE_ENTITY", "errors": [{"fieldName": "cf_gone", "errorType": "invalid"}]}
    assert refused_field_names(answer(422, body)) == ["cf_gone"]


def test_other_422s_are_not_about_field_names():
    about_limit = {"errors": [{"fieldName": "limit", "errorMessage": "exceeds the range"}]}
    about_fields_itself = {"errors": [{"fieldName": "fields", "errorMessage": "exceeds the maximum length of 100"}]}
    mixed = {"errors": [{"fieldName": "cf_gone"}, {"fieldName": "from"}]}
    assert refused_field_names(answer(422, about_limit)) == []
    assert refused_field_names(answer(422, about_fields_itself)) == []
    assert refused_field_names(answer(422, mixed)) == []
    assert refused_field_names(answer(403, {"errors": [{"fieldName": "cf_gone"}]})) == []
    assert refused_field_names(answer(422, {"errors": [{"fieldName": "cf_gone"}]}, url="https://x/contacts")) == []

"""Each answer is decoded once, and the records taken from it are the ones the CDK's DpathExtractor would give."""

from __future__ import annotations

import json
import math

import pytest
import requests
from airbyte_cdk.sources.declarative.extractors.dpath_extractor import DpathExtractor

from source_zoho_desk.components.extraction import DecodedOnceExtractor
from source_zoho_desk.zoho_errors import decoded, json_body


def answer(body: bytes, status: int = 200) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    return response


def test_a_body_is_decoded_once_and_shared() -> None:
    response = answer(b'{"data": [{"id": "1"}]}')
    assert decoded(response) is decoded(response)
    assert json_body(response) is decoded(response)


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": 18446744073709551615, "n": -9223372036854775808}',  # the 64-bit limits
        b'{"id": "123456789012345678901234567890"}',  # Zoho's ids are strings
        b'{"x": NaN}',
        '{"name": "Zoë ✓"}'.encode(),
        b"[1, 2.5]",
        b'"text"',
    ],
)
def test_decoding_gives_what_the_standard_library_gives(body: bytes) -> None:
    got, expected = decoded(answer(body)), answer(body).json()
    if isinstance(expected, dict) and "x" in expected:
        assert math.isnan(got["x"])
    else:
        assert got == expected


@pytest.mark.parametrize("body", [b"", b"<html>proxy error</html>", b'{"data": [{"id": "1"}', b"\xff\xfe{}"])
def test_an_unreadable_body_is_refused_every_time(body: bytes) -> None:
    response = answer(body)
    for _ in range(2):
        with pytest.raises(ValueError):
            decoded(response)
    assert json_body(response) == {}


BODIES = [
    b'{"data": [{"id": "1"}, {"id": "2"}]}',
    b'{"data": []}',
    b'{"data": null}',
    b'{"other": [{"id": "1"}]}',
    b'{"data": {"id": "9"}}',
    b'{"data": {"inner": [{"id": "3"}]}}',
    b'[{"id": "4"}, {"id": "5"}]',
    b"{}",
    b"",
]


@pytest.mark.parametrize("path", [["data"], [], ["data", "inner"], ["data", "*"]])
@pytest.mark.parametrize("body", BODIES)
def test_records_are_those_of_the_cdk_extractor(path: list, body: bytes) -> None:
    ours = DecodedOnceExtractor(field_path=list(path), config={}, parameters={})
    cdk = DpathExtractor(field_path=list(path), config={}, parameters={})
    assert list(ours.extract_records(answer(body))) == list(cdk.extract_records(answer(body)))


def test_rows_come_from_the_body_the_error_handler_decoded() -> None:
    response = answer(json.dumps({"data": [{"id": "1"}]}).encode())
    rows = decoded(response)["data"]
    extractor = DecodedOnceExtractor(field_path=["data"], config={}, parameters={})
    assert [id(row) for row in extractor.extract_records(response)] == [id(row) for row in rows]

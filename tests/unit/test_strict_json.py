"""The strict JSON reader every route uses (clarion.api.body): hostile texts are refused with a
400 naming the field (a 413 past the route's limit), odd but valid ones read as json.loads reads
them, and nothing else ever escapes it."""

from __future__ import annotations

import json
import os

import pytest
from clarion.api.body import (
    MANAGEMENT_MAX_BYTES,
    MANAGEMENT_MAX_STORED_BYTES,
    TRIGGER_MAX_BYTES,
    declares_json,
    max_bytes,
    max_stored_bytes,
    parse_json,
)
from clarion.api.errors import ApiError, BadRequestError, PayloadTooLargeError
from clarion.dialects import suprsend
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.strategies import (
    deep_nesting,
    hostile_values,
    huge_integers,
    json_objects,
    lone_surrogates,
    nested,
    non_finite_numbers,
    novu_events,
    odd_valid_values,
    suprsend_records,
    with_value_at_a_field,
)

PROPERTIES = settings(
    max_examples=int(os.environ.get("CLARION_PROPERTY_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LIMIT = TRIGGER_MAX_BYTES
bodies = novu_events | suprsend_records | st.lists(suprsend_records, min_size=1, max_size=3) | json_objects


def refusal(text: str, limit: int = LIMIT) -> ApiError:
    with pytest.raises(ApiError) as raised:
        parse_json(text, limit=limit)
    return raised.value


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        (nested(10_000), "body", "nested deeper than 64 levels"),
        (nested(65, "{"), "body", "nested deeper than 64 levels"),
        ('{"payload": {"n": ' + "9" * 5000 + "}}", "payload.n", "an integer of 5000 digits"),
        ('{"n": -' + "1" * 39 + "}", "n", "an integer of 39 digits"),
        ('{"payload": {"s": "\\ud800"}}', "payload.s", "lone UTF-16 surrogate (\\ud800)"),
        ('{"to": ["a", "\\udfff b"]}', "to.1", "lone UTF-16 surrogate (\\udfff)"),
        ('{"\\ud800": 1}', "\\ud800", "the key holds a lone UTF-16 surrogate"),
        ('{"n": NaN}', "n", "NaN is not JSON"),
        ('{"n": [Infinity]}', "n.0", "Infinity is not JSON"),
        ('{"n": -Infinity}', "n", "-Infinity is not JSON"),
        ('{"n": 1e400}', "n", "1e400 is beyond the range of a double"),
    ],
)
def test_hostile_json_is_a_400_naming_the_field_and_the_problem(text: str, field: str, says: str) -> None:
    error = refusal(text)

    assert isinstance(error, BadRequestError) and error.status_code == 400
    assert error.message.startswith(f"{field}: ") and says in error.message, error.message
    assert list(error.field_errors()) == [field]
    json.dumps(error.message).encode()  # the refusal itself is writable as UTF-8


@pytest.mark.parametrize(
    "text",
    [
        nested(64),
        nested(64, "{"),
        "9" * 38,
        '"\\ud83d\\ude00"',
        "1e308",
        "1e-400",
        json.dumps(["[[[[{{"] * 100),
    ],
)
def test_the_limits_themselves_are_accepted(text: str) -> None:
    assert parse_json(text, limit=LIMIT) == json.loads(text)


def test_a_body_over_the_limit_is_a_413_saying_the_limit() -> None:
    error = refusal('"' + "x" * 9_000_000 + '"', limit=MANAGEMENT_MAX_BYTES)

    assert isinstance(error, PayloadTooLargeError) and error.status_code == 413
    assert error.message == "body: 9,000,002 bytes, larger than the 256 KB this route accepts"


def test_the_limit_counts_utf8_bytes_not_characters() -> None:
    text = json.dumps("é" * 600, ensure_ascii=False)  # 602 characters, 1,202 bytes
    assert parse_json(text, limit=1202) == "é" * 600
    assert isinstance(refusal(text, limit=1201), PayloadTooLargeError)


def test_a_management_body_too_large_once_stored_is_a_413() -> None:
    """The store writes JSON with non-ASCII escaped: 40,000 emoji (160 KB sent) become 480 KB."""
    text = json.dumps({"data": {"x": "\U0001f600" * 40_000}}, ensure_ascii=False)  # 160 KB sent

    with pytest.raises(PayloadTooLargeError, match="once stored"):
        parse_json(text, limit=MANAGEMENT_MAX_BYTES, stored_limit=MANAGEMENT_MAX_STORED_BYTES)
    assert parse_json(text, limit=MANAGEMENT_MAX_BYTES)["data"]["x"][0] == "\U0001f600"


def test_each_route_family_has_its_documented_limit() -> None:
    assert max_bytes("/trigger/") == max_bytes("/trigger") == suprsend.MAX_BODY_BYTES == 800 * 1024
    for path in ("/v1/events/trigger", "/v1/events/trigger/bulk", "/v1/events/trigger/broadcast"):
        assert max_bytes(path) == 5 * 1024 * 1024 and max_stored_bytes(path) is None
    for path in ("/v1/workflows", "/v1/subscribers/bulk", "/v1/tenants/t", "/v1/integrations"):
        assert max_bytes(path) == 256 * 1024 and max_stored_bytes(path) == 384 * 1024


@pytest.mark.parametrize(
    ("content_type", "is_json"),
    [
        (None, True),
        ("", True),
        ("application/json", True),
        ("application/json; charset=utf-8", True),  # suprsend-py-sdk
        ("Application/JSON;charset=UTF-8", True),  # older axios (@novu/node)
        ("text/plain", False),
        ("text/plain;charset=UTF-8", False),  # fetch() with a string body
        ("application/x-www-form-urlencoded", False),  # curl -d
        ("multipart/form-data; boundary=x", False),
        ("application/jsonp", False),
        ("application/merge-patch+json", False),  # the management routes' validation refuses it too
    ],
)
def test_only_application_json_declares_a_json_body(content_type: str | None, is_json: bool) -> None:
    assert declares_json(content_type) is is_json


@PROPERTIES
@given(case=with_value_at_a_field(bodies, hostile_values))
def test_a_hostile_value_at_any_field_is_refused_naming_that_field(case: tuple[str, str]) -> None:
    text, field = case

    error = refusal(text)

    assert isinstance(error, BadRequestError), error
    named = next(iter(error.field_errors()))
    assert named in (field, "body"), (named, field, error.message)
    if named == "body":  # only nesting is the whole body's fault
        assert "nested deeper" in error.message


@PROPERTIES
@given(value=deep_nesting | huge_integers | non_finite_numbers | lone_surrogates)
def test_each_kind_of_hostile_value_is_refused_on_its_own(value: str) -> None:
    assert isinstance(refusal(value), BadRequestError)


@PROPERTIES
@given(case=with_value_at_a_field(bodies, odd_valid_values))
def test_odd_but_valid_json_reads_as_json_loads_reads_it(case: tuple[str, str]) -> None:
    text, _ = case

    assert parse_json(text, limit=LIMIT) == json.loads(text)


@PROPERTIES
@given(
    text=st.text(max_size=60) | hostile_values | odd_valid_values | st.sampled_from(["", "[", '"\\u', "{]"])
)
def test_any_text_parses_to_writable_json_or_raises_a_4xx_or_a_decode_error(text: str) -> None:
    try:
        value = parse_json(text, limit=LIMIT)
    except ApiError as error:
        assert 400 <= error.status_code < 500
        return
    except json.JSONDecodeError:
        return
    json.dumps(value, allow_nan=False, ensure_ascii=False).encode()  # what SQS and DynamoDB need


def test_a_value_under_the_empty_key_is_named_by_that_key_not_as_the_body() -> None:
    error = refusal('{"": NaN}')
    assert isinstance(error, BadRequestError)
    assert list(error.field_errors()) == ['""']

"""Issue 11, points 8 and 14, through the real ApiFunction on moto: hostile JSON on every route
that reads a body is a 400 (413 for size) naming what was wrong, in the route's dialect, never a
5xx and never stored; a body that is not declared JSON is a 415 on every such route."""

from __future__ import annotations

import json

import pytest

from tests.hostile_json import (
    CASES,
    NOT_JSON_TYPES,
    SUPRSEND_PATH,
    assert_refused,
    body_routes,
    refusal_message,
)
from tests.integration.conftest import Cloud

ROUTES = body_routes()


@pytest.mark.parametrize(("case", "text", "status", "field", "says"), CASES, ids=[c[0] for c in CASES])
def test_hostile_json_on_every_body_route_is_refused_naming_the_problem(
    cloud: Cloud, case: str, text: str, status: int, field: str, says: str
) -> None:
    for method, path in ROUTES:
        answer_status, _, answer = cloud.api(method, path, raw_body=text)

        assert_refused(path, answer_status, answer, status, field, says)


def test_nan_and_infinity_are_not_stored_as_null(cloud: Cloud) -> None:
    for constant in ("NaN", "Infinity", "-Infinity", "1e400"):
        text = '{"identifier": "t", "name": "n", "data": {"score": ' + constant + "}}"
        assert cloud.api("POST", "/v1/tenants", raw_body=text)[0] == 400
    assert cloud.api("GET", "/v1/tenants/t")[0] == 404


def test_a_subscriber_too_large_once_stored_is_a_413_not_a_dynamodb_error(cloud: Cloud) -> None:
    """Under the 256 KB sent, but 720 KB as the store writes it (non-ASCII escaped)."""
    text = json.dumps({"subscriberId": "big", "data": {"x": "\U0001f600" * 60_000}}, ensure_ascii=False)

    status, _, answer = cloud.api("POST", "/v1/subscribers", raw_body=text)

    assert status == 413 and "once stored" in answer["message"], answer
    text = json.dumps({"subscriberId": "big", "data": {"x": "\U0001f600" * 31_000}}, ensure_ascii=False)
    assert cloud.api("POST", "/v1/subscribers", raw_body=text)[0] == 201  # 372 KB stored: fits


@pytest.mark.parametrize("content_type", NOT_JSON_TYPES)
def test_every_body_route_answers_415_to_a_body_not_declared_json(cloud: Cloud, content_type: str) -> None:
    for method, path in ROUTES:
        body = '{"name": "welcome", "to": "ada", "workflow": "welcome", "recipients": ["ada"]}'
        status, _, answer = cloud.api(method, path, raw_body=body, headers={"Content-Type": content_type})

        assert status == 415, (method, path, status, answer)
        message = refusal_message(path, answer)
        assert message == f"Content-Type: send application/json, not {content_type}", answer


def test_the_sdks_content_types_still_work(cloud: Cloud) -> None:
    """suprsend-py-sdk sends `application/json; charset=utf-8`; older axios (@novu/node) sends
    `application/json;charset=utf-8`; a body without Content-Type is read as JSON."""
    for content_type in ("application/json; charset=utf-8", "application/json;charset=utf-8"):
        headers = {"Content-Type": content_type}
        event = {"name": "welcome", "to": "ada"}
        assert cloud.api("POST", "/v1/events/trigger", event, headers=headers)[0] == 201
        record = {"workflow": "welcome", "recipients": ["ada"]}
        assert cloud.api("POST", SUPRSEND_PATH, record, headers=headers)[0] == 202
        assert cloud.api("POST", "/v1/subscribers", {"subscriberId": "ada"}, headers=headers)[0] == 201
    status, _, _ = cloud.api(
        "POST", "/v1/events/trigger", {"name": "welcome", "to": "ada"}, headers={"Content-Type": ""}
    )
    assert status == 201


def test_a_request_without_a_body_is_not_held_to_the_rule(cloud: Cloud) -> None:
    cloud.api("POST", "/v1/tenants", {"identifier": "t", "name": "n"})

    status, _, _ = cloud.api("DELETE", "/v1/tenants/t", headers={"Content-Type": "text/plain"})

    assert status in (200, 204)

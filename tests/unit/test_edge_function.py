"""The template's CloudFront viewer-request function, run by the same V8 runtime the local stack
uses: it answers an oversized Altcraft request exactly as the ApiFunction's Altcraft route does
(the same status, content type and bytes, JSON or XML), at the same limit, and passes every other
request on untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clarion.dialects import altcraft, altcraft_xml
from clarion_cli.edge import ViewerRequestFunction
from clarion_cli.template import Template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
START_BATCH = "/api/v1.1/campaigns/triggers/start_batch"
START_BATCH_TASK = "/api/v1.1/campaigns/triggers/start_batch_task"
OVER = altcraft.MAX_BODY_BYTES + 1
DOCUMENTED = altcraft.failure(400, altcraft.INVALID_REQUEST, altcraft.TOO_LARGE_DEBUG)


@pytest.fixture(scope="module")
def edge() -> ViewerRequestFunction:
    code = Template(TEMPLATE).viewer_request_code()
    assert code, "the template's default deployment has a CloudFront front"
    return ViewerRequestFunction(code)


def ask(edge: ViewerRequestFunction, path: str, length: int, content_type: str = "application/json"):
    headers = {"Content-Length": str(length), "Content-Type": content_type, "Host": "localhost"}
    return edge.answer("POST", path, {}, headers, "127.0.0.1")


@pytest.mark.parametrize("path", [START_BATCH, START_BATCH_TASK, START_BATCH + "/"])
def test_an_altcraft_body_over_the_route_limit_gets_the_routes_own_json_answer(
    edge: ViewerRequestFunction, path: str
) -> None:
    status, headers, body = ask(edge, path, OVER)
    assert status == 400
    assert headers == {"content-type": "application/json"}
    assert body == json.dumps(DOCUMENTED).encode()  # what api.altcraft._respond writes


@pytest.mark.parametrize("content_type", ["application/xml", "text/xml; charset=utf-8", " Application/XML"])
def test_an_xml_request_over_the_limit_is_answered_in_xml(
    edge: ViewerRequestFunction, content_type: str
) -> None:
    status, headers, body = ask(edge, START_BATCH, 11 * 1024 * 1024, content_type)
    assert status == 400
    assert headers == {"content-type": "application/xml"}
    assert body == altcraft_xml.to_xml(DOCUMENTED).encode()


def test_the_limit_is_the_routes_limit(edge: ViewerRequestFunction) -> None:
    assert ask(edge, START_BATCH, altcraft.MAX_BODY_BYTES) is None
    assert ask(edge, START_BATCH, OVER) is not None


@pytest.mark.parametrize(
    "path",
    ["/v1/events/trigger/bulk", "/api/v1/subscribers/events/bulk", "/api/v1.1/campaigns/triggers/start"],
)
def test_other_routes_pass_whatever_their_size(edge: ViewerRequestFunction, path: str) -> None:
    assert ask(edge, path, 11 * 1024 * 1024) is None


def test_requests_without_a_length_or_with_an_odd_one_pass(edge: ViewerRequestFunction) -> None:
    assert edge.answer("GET", START_BATCH, {"a": ["1", "2"]}, {"Host": "localhost"}, "127.0.0.1") is None
    assert ask(edge, START_BATCH, -1) is None
    headers = {"Content-Length": "lots", "Host": "localhost"}
    assert edge.answer("POST", START_BATCH, {}, headers, "127.0.0.1") is None


def test_without_the_front_the_local_stack_has_no_edge_function(tmp_path: Path) -> None:
    text = TEMPLATE.read_text().replace(
        "    Default: enabled\n    AllowedValues: [enabled, disabled]",
        "    Default: disabled\n    AllowedValues: [enabled, disabled]",
    )
    assert text != TEMPLATE.read_text()
    (tmp_path / "template.yaml").write_text(text)
    assert Template(tmp_path / "template.yaml").viewer_request_code() is None

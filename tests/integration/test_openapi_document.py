"""The OpenAPI document the ApiFunction serves (`/swagger?format=json`): it lists every route the
template routes to, declares a request model for every operation that takes a body, its examples
validate against its models (and the dialects' own models accept them), and the routes' real
answers to those examples are what it documents."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin

import jsonschema
import pytest
from clarion.api.app import app
from clarion.dialects import novu, suprsend
from clarion_cli.template import Template
from openapi_spec_validator import validate

from tests.conftest import TEMPLATE
from tests.integration.conftest import Cloud

DOCUMENT: dict[str, Any] = json.loads(app.get_openapi_json_schema())
OPERATIONS = [
    (method, path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]
GREEDY = "{proxy+}"
TRIGGER_ROUTES = [
    ("post", "/v1/events/trigger"),
    ("post", "/v1/events/trigger/bulk"),
    ("post", "/v1/events/trigger/broadcast"),
    ("post", "/trigger"),
    ("post", "/event"),
    ("post", "/v2/event"),
    ("post", "/v2/bulk/event"),
    ("post", "/v1/workflow_run/cancel"),
]


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator for `schema`, its `#/components/...` references resolved in the document."""
    return jsonschema.Draft202012Validator({**schema, "components": DOCUMENT["components"]})


def _examples(operation: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) of the request body and of every answer."""
    found = []
    bodies = [("requestBody", operation.get("requestBody", {}))]
    bodies += [(f"responses.{code}", answer) for code, answer in operation.get("responses", {}).items()]
    for where, body in bodies:
        for media in body.get("content", {}).values():
            if "example" in media:
                found.append((where, media["schema"], media["example"]))
    return found


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1")


def test_the_document_lists_every_route_the_template_routes_to() -> None:
    template_paths = {
        route.path for route, function in Template(TEMPLATE).api_routes() if function == "ApiFunction"
    }
    documented = set(DOCUMENT["paths"])
    for path in template_paths - {"/swagger"}:  # /swagger serves the document itself
        if path.endswith(GREEDY):
            prefix = path.removesuffix(GREEDY)
            assert any(p.startswith(prefix) for p in documented), path
        else:
            assert path in documented, path
    resolver_routes = {
        (method.lower(), route.openapi_path)
        for route in app._static_routes + app._dynamic_routes
        if route.include_in_schema
        for method in route.method.split(",")
    }
    assert resolver_routes == {(method, path) for method, path, _ in OPERATIONS}
    for method, path in TRIGGER_ROUTES:
        assert method in DOCUMENT["paths"][path], (method, path)


def test_every_operation_that_takes_a_body_declares_its_model() -> None:
    for method, path, operation in OPERATIONS:
        if method == "post" or (method, path) in TRIGGER_ROUTES:
            body = operation.get("requestBody")
            assert body, (method, path)
            assert body["content"]["application/json"]["schema"], (method, path)
    for method, path in TRIGGER_ROUTES:
        assert DOCUMENT["paths"][path][method]["requestBody"]["required"]
        assert "example" in DOCUMENT["paths"][path][method]["requestBody"]["content"]["application/json"]


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_every_example_validates_against_its_model(method: str, path: str, operation: dict[str, Any]) -> None:
    for where, schema, example in _examples(operation):
        errors = [e.message for e in _validator(schema).iter_errors(example)]
        assert not errors, (method, path, where, errors)


def test_the_trigger_examples_are_valid_for_the_dialects_themselves() -> None:
    paths = DOCUMENT["paths"]
    example = lambda path: paths[path]["post"]["requestBody"]["content"]["application/json"]["example"]  # noqa: E731
    novu.NovuTriggerEvent.model_validate(example("/v1/events/trigger"))
    for event in example("/v1/events/trigger/bulk")["events"]:
        novu.NovuTriggerEvent.model_validate(event)
    novu.NovuTriggerEvent.model_validate({**example("/v1/events/trigger/broadcast"), "to": "anyone"})
    for record in example("/trigger"):
        suprsend.WorkflowTrigger.model_validate(record)


def test_a_request_that_breaks_the_documented_model_is_still_answered_per_record(cloud: Cloud) -> None:
    """The document describes the trigger bodies; it does not make Powertools validate them."""
    status, _, body = cloud.trigger_bulk({"name": "welcome"}, {"name": "welcome", "to": "ada"})

    assert status == 201
    assert [item["status"] for item in body["data"]] == ["invalid_recipients", "processed"]


@pytest.mark.parametrize(("method", "path"), TRIGGER_ROUTES)
def test_the_trigger_routes_answer_their_examples_as_documented(cloud: Cloud, method: str, path: str) -> None:
    operation = DOCUMENT["paths"][path][method]
    example = operation["requestBody"]["content"]["application/json"]["example"]

    status, _, answer = cloud.api(
        method.upper(), path + ("/" if path in ("/trigger", "/event") else ""), example
    )

    documented = operation["responses"][str(status)]  # a status the document does not list fails here
    errors = [
        e.message for e in _validator(documented["content"]["application/json"]["schema"]).iter_errors(answer)
    ]
    assert not errors, (path, status, answer, errors)
    assert status < 400, (path, status, answer)


def test_status_answers_are_as_documented(cloud: Cloud) -> None:
    _, headers, sent = cloud.trigger_bulk(
        {"name": "welcome", "to": "ada"}, {"name": "no-such-workflow", "to": "ada"}
    )
    cloud.drain()
    transaction = f"/v1/events/trigger/{sent['data'][0]['transactionId']}"
    for method, path, answer in (
        ("get", "/v1/events/trigger/bulk/{bulk_id}", cloud.api("GET", headers["Location"])),
        (
            "get",
            "/v1/events/trigger/bulk/{bulk_id}/records",
            cloud.api("GET", f"{headers['Location']}/records"),
        ),
        ("get", "/v1/events/trigger/{transaction_id}", cloud.api("GET", transaction)),
        ("delete", "/v1/events/trigger/{transaction_id}", cloud.api("DELETE", transaction)),
    ):
        status, _, body = answer
        schema = DOCUMENT["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert status == 200, (path, body)
        assert not [e.message for e in _validator(schema).iter_errors(body)], (path, body)


def test_error_answers_are_as_documented(cloud: Cloud) -> None:
    for method, path, sent, key in (
        ("POST", "/v1/events/trigger", {"to": "ada"}, "clarion-dev-key"),
        ("POST", "/v1/events/trigger/bulk", {"events": []}, "not-a-key"),
        ("POST", "/trigger/", {"workflow": "no-such-workflow", "recipients": ["ada"]}, "clarion-dev-key"),
    ):
        status, _, body = cloud.api(method, path, sent, key=key)
        documented = DOCUMENT["paths"][path.rstrip("/")]["post"]["responses"][str(status)]
        schema = documented["content"]["application/json"]["schema"]
        assert status >= 400
        assert not [e.message for e in _validator(schema).iter_errors(body)], (path, status, body)


def test_the_server_url_resolves_to_the_base_path_the_document_is_served_under() -> None:
    (server,) = DOCUMENT["servers"]
    for served_at, base in (
        ("http://127.0.0.1:3000/swagger?format=json", "http://127.0.0.1:3000/"),  # the local stack
        (
            "https://abc.execute-api.us-east-1.amazonaws.com/live/swagger?format=json",
            "https://abc.execute-api.us-east-1.amazonaws.com/live/",
        ),
        ("https://api.example.com/swagger?format=json", "https://api.example.com/"),  # a custom domain
    ):
        assert urljoin(served_at, server["url"]) == base


def test_security_schemes_cover_the_api_key_bearer_and_suprsend_signature() -> None:
    schemes = DOCUMENT["components"]["securitySchemes"]
    assert {"ApiKey", "Bearer", "SuprSendHmac"} <= set(schemes)
    assert schemes["Bearer"] == {**schemes["Bearer"], "type": "http", "scheme": "bearer"}
    assert {"ApiKey": []} in DOCUMENT["security"]
    assert DOCUMENT["paths"]["/v1/health"]["get"]["security"] == []

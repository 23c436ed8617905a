"""The management and Inbox routes answer with the success statuses the OpenAPI document lists
(201 for a creation, 204 without a body), and their answers validate against its schemas."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from clarion.api.app import app

from tests.integration.conftest import Cloud
from tests.integration.inbox_helpers import INBOX_WORKFLOW, call, deliver, token_for

DOCUMENT: dict[str, Any] = json.loads(app.get_openapi_json_schema())
WORKFLOW = {
    "workflowId": "statuses",
    "name": "Statuses",
    "steps": [{"stepId": "bell", "type": "in_app", "content": {"subject": "Hi", "body": "Hi"}}],
}


def _documented(method: str, template: str, status: int, body: Any) -> None:
    responses = DOCUMENT["paths"][template][method]["responses"]
    assert str(status) in responses, (method, template, status, sorted(responses))
    schema = responses[str(status)].get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        assert body is None, (method, template, body)
        return
    validator = jsonschema.Draft202012Validator({**schema, "components": DOCUMENT["components"]})
    assert not [e.message for e in validator.iter_errors(body)], (method, template, body)


def test_management_routes_answer_the_statuses_the_document_lists(cloud: Cloud) -> None:
    for method, path, template, body in (
        ("POST", "/v1/workflows", "/v1/workflows", WORKFLOW),
        ("POST", "/v1/subscribers", "/v1/subscribers", {"subscriberId": "ada"}),
        ("POST", "/v1/subscribers/bulk", "/v1/subscribers/bulk", {"subscribers": [{"subscriberId": "bob"}]}),
        ("POST", "/v1/tenants", "/v1/tenants", {"identifier": "acme", "name": "Acme"}),
        ("POST", "/v1/topics", "/v1/topics", {"key": "beta", "name": "Beta"}),
        (
            "POST",
            "/v1/topics/beta/subscribers",
            "/v1/topics/{topic_key}/subscribers",
            {"subscribers": ["ada"]},
        ),
        (
            "DELETE",
            "/v1/topics/beta/subscribers",
            "/v1/topics/{topic_key}/subscribers",
            {"subscribers": ["ada"]},
        ),
        (
            "POST",
            "/v1/topics/beta/subscribers/removal",
            "/v1/topics/{topic_key}/subscribers/removal",
            {"subscribers": ["bob"]},
        ),
        (
            "POST",
            "/v1/integrations",
            "/v1/integrations",
            {"providerId": "ses", "channel": "email", "credentials": {"from": "team@example.com"}},
        ),
        ("DELETE", "/v1/tenants/acme", "/v1/tenants/{identifier}", None),
        ("GET", "/v1/workflows/statuses", "/v1/workflows/{workflow_id}", None),
    ):
        status, _, answer = cloud.api(method, path, body)
        assert status < 300, (method, path, status, answer)
        _documented(method.lower(), template, status, answer)


def test_inbox_routes_answer_the_statuses_the_document_lists(cloud: Cloud) -> None:
    assert cloud.api("POST", "/v1/workflows", INBOX_WORKFLOW)[0] == 201
    deliver(cloud, "ada", ["O-1"])
    token = token_for(cloud, "ada")  # POST /v1/inbox/session: 201
    status, _, answer = call(cloud, "POST", "/v1/inbox/notifications/seen", token, body={})
    _documented("post", "/v1/inbox/notifications/seen", status, answer)
    status, _, listed = call(cloud, "GET", "/v1/inbox/notifications", token)
    _documented("get", "/v1/inbox/notifications", status, listed)
    notification = listed["data"][0]["id"]
    status, _, answer = call(cloud, "DELETE", f"/v1/inbox/notifications/{notification}/delete", token)
    _documented("delete", "/v1/inbox/notifications/{notification_id}/delete", status, answer)
    assert "201" in DOCUMENT["paths"]["/v1/inbox/session"]["post"]["responses"]

"""Calling the Inbox routes in-process as a browser does: a session, then a Bearer token."""

from __future__ import annotations

import json
import uuid
from typing import Any

from clarion.api.inbox_auth import subscriber_hash
from clarion_cli.seed import DEFAULT_API_KEY, DEVELOPMENT

from tests.integration.conftest import Cloud

INBOX_WORKFLOW = {
    "workflowId": "order-update",
    "name": "Order update",
    "steps": [
        {
            "stepId": "bell",
            "type": "in_app",
            "content": {
                "subject": "Order {{ payload.order }}",
                "body": "Order {{ payload.order }} is {{ payload.state }}",
                "avatar": "https://example.com/a.png",
                "primaryAction": {"label": "Track", "redirect": {"url": "/orders", "target": "_self"}},
                "secondaryAction": {"label": "Help"},
                "redirect": {"url": "https://example.com/orders"},
                "data": {"kind": "order", "region": "eu"},
            },
        }
    ],
}


def call(
    cloud: Cloud,
    method: str,
    path: str,
    token: str | None = None,
    body: Any = None,
    query: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One request to the API as API Gateway hands it over; multi-valued query parameters."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    event = {
        "resource": "/v1/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": sent,
        "multiValueHeaders": {k: [v] for k, v in sent.items()},
        "queryStringParameters": {k: v[-1] for k, v in (query or {}).items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/v1/{proxy+}",
            "httpMethod": method,
            "path": path,
            "stage": "live",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
    answer = cloud.invoke("ApiFunction", event)
    response_headers = {k: v[0] for k, v in (answer.get("multiValueHeaders") or {}).items()}
    response_headers |= answer.get("headers") or {}
    return answer["statusCode"], response_headers, json.loads(answer["body"]) if answer.get("body") else None


def application_identifier(cloud: Cloud, key: str = DEFAULT_API_KEY) -> str:
    status, _, body = cloud.api("GET", "/v1/environment", key=key)
    assert status == 200, body
    return str(body["data"]["applicationIdentifier"])


def session(
    cloud: Cloud,
    subscriber_id: str,
    key: str = DEFAULT_API_KEY,
    hashed: bool | str = False,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    body: dict[str, Any] = {
        "applicationIdentifier": application_identifier(cloud, key),
        "subscriber": {"subscriberId": subscriber_id, "timezone": "Europe/Berlin"},
    }
    if hashed is True:
        body["subscriberHash"] = subscriber_hash(key, subscriber_id)
    elif isinstance(hashed, str):
        body["subscriberHash"] = hashed
    status, _, answer = call(cloud, "POST", "/v1/inbox/session", body=body, headers=headers)
    return status, answer


def token_for(cloud: Cloud, subscriber_id: str, key: str = DEFAULT_API_KEY) -> str:
    status, answer = session(cloud, subscriber_id, key, hashed=True)
    assert status == 201, answer
    return str(answer["data"]["token"])


def deliver(cloud: Cloud, subscriber_id: str, orders: list[str], key: str = DEFAULT_API_KEY) -> None:
    """A bulk of one trigger per order, run to the end."""
    events = [
        {
            "name": INBOX_WORKFLOW["workflowId"],
            "to": subscriber_id,
            "payload": {"order": o, "state": "shipped"},
        }
        for o in orders
    ]
    status, _, body = cloud.api("POST", "/v1/events/trigger/bulk", {"events": events}, key=key)
    assert status == 201, body
    cloud.drain()


__all__ = ["DEVELOPMENT", "INBOX_WORKFLOW"]

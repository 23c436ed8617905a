"""A warm worker caches the environment's active integrations; an integration created (by the
API, in another container) just before a trigger is nevertheless used by that trigger, and the
cache still spares the hot path its Query."""

from __future__ import annotations

from typing import Any

from clarion import aws
from clarion.store import integrations

from tests.integration.conftest import Cloud

WORKFLOW = {
    "workflowId": "receipt",
    "steps": [
        {"stepId": "mail", "type": "email", "content": {"subject": "Receipt", "body": "<p>Thanks</p>"}}
    ],
}
SES = {"providerId": "ses", "channel": "email", "active": True, "credentials": {"from": "team@example.com"}}


def mail_status(cloud: Cloud, transaction_id: str) -> tuple[str, str | None]:
    (row,) = cloud.api("GET", "/v1/messages", query={"transactionId": transaction_id})[2]["data"]
    return row["status"], row.get("detail")


def trigger(cloud: Cloud, transaction_id: str) -> None:
    event = {"name": "receipt", "to": {"subscriberId": "ada", "email": "ada@example.org"}}
    assert cloud.trigger_bulk(event | {"transactionId": transaction_id})[0] == 201
    cloud.drain()


def integration_queries(calls: list[dict[str, Any]]) -> int:
    return sum(
        1 for params in calls if params.get("KeyConditionExpression", "").endswith("begins_with(sk, :prefix)")
    )


def test_an_integration_created_just_before_a_trigger_is_used_by_a_warm_worker(cloud: Cloud) -> None:
    aws.sesv2().create_email_identity(EmailIdentity="example.com")
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    trigger(cloud, "before")
    assert (
        mail_status(cloud, "before")[0] == "failed"
    )  # no integration, no sender: this warm worker cached that

    warm_worker = dict(integrations._active_cache)
    assert cloud.api("POST", "/v1/integrations", SES)[0] == 201
    # The API runs in its own containers: its write cannot empty this worker's cache.
    integrations._active_cache.update(warm_worker)

    trigger(cloud, "after")
    assert mail_status(cloud, "after")[0] == "sent"


def test_the_cache_spares_the_query_once_it_is_fresh(cloud: Cloud) -> None:
    aws.sesv2().create_email_identity(EmailIdentity="example.com")
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    assert cloud.api("POST", "/v1/integrations", SES)[0] == 201
    calls: list[dict[str, Any]] = []
    aws.dynamodb().meta.events.register(
        "provide-client-params.dynamodb.Query", lambda params, **_: calls.append(dict(params))
    )
    trigger(cloud, "first")
    trigger(cloud, "second")
    trigger(cloud, "third")
    assert [mail_status(cloud, t)[0] for t in ("first", "second", "third")] == ["sent"] * 3
    assert integration_queries(calls) == 1  # the first fills the cache; the others read it

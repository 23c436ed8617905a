"""Workflow definitions in both shapes, and strict management bodies, through the real handlers on
moto: a Novu v1 workflow pasted as it is runs with exactly the steps its filters allow; unknown and
misplaced fields on every management route are 400s naming them."""

from __future__ import annotations

from typing import Any

import pytest
from clarion.clock import ControlledClock

from tests.integration.conftest import Cloud
from tests.integration.test_management_api import assert_field_error
from tests.novu_workflow_samples import (
    MISPLACED_DELAY,
    NOVU_ORDER_CASES,
    NOVU_ORDER_WORKFLOW,
    NOVU_ORDER_WORKFLOW_ID,
)


def step_statuses(cloud: Cloud, transaction_id: str) -> dict[str, str]:
    rows = cloud.api("GET", "/v1/execution-details", query={"transactionId": transaction_id})[2]["data"]
    return {row["stepId"]: row["status"] for row in rows}


def test_a_pasted_novu_workflow_runs_the_steps_its_filters_and_delay_allow(
    cloud: Cloud, controlled: ControlledClock
) -> None:
    status, _, body = cloud.api("POST", "/v1/workflows", NOVU_ORDER_WORKFLOW)
    assert status == 201, body
    assert body["data"]["workflowId"] == NOVU_ORDER_WORKFLOW_ID
    events = [
        {
            "name": NOVU_ORDER_WORKFLOW_ID,
            "to": {"subscriberId": subscriber, "data": data},
            "payload": payload,
            "transactionId": f"novu-{subscriber}",
        }
        for subscriber, data, payload, _ in NOVU_ORDER_CASES
    ]
    answer = cloud.api("POST", "/v1/events/trigger/bulk", {"events": events})
    assert answer[0] == 201 and [e["status"] for e in answer[2]["data"]] == ["processed"] * 3
    cloud.drain()
    for subscriber, _, _, _ in NOVU_ORDER_CASES:  # the delay holds the last step back
        assert step_statuses(cloud, f"novu-{subscriber}")["wait"] == "pending"
        assert "follow-up" not in step_statuses(cloud, f"novu-{subscriber}")
    controlled.advance(2.5)
    cloud.drain()
    for subscriber, _, payload, expected in NOVU_ORDER_CASES:
        assert step_statuses(cloud, f"novu-{subscriber}") == expected, subscriber
        feed = cloud.api("GET", f"/v1/subscribers/{subscriber}/notifications/feed")[2]["data"]
        bodies = [m["content"]["body"] for m in feed if m["status"] == "sent"]
        wanted = {
            "big-order": f"Big order: {payload['order']['total']}",
            "vip-or-europe": "VIP or Europe",
            "follow-up": "Follow up",
        }
        assert sorted(bodies) == sorted(
            wanted[s] for s, st in expected.items() if st == "sent" and s in wanted
        )
    skipped = cloud.api("GET", "/v1/execution-details", query={"transactionId": "novu-free-us"})[2]["data"]
    detail = next(r["detail"] for r in skipped if r["stepId"] == "big-order")
    assert detail == "condition not met: all(payload.plan EQUAL 'pro', payload.order.total LARGER '100')"


def test_a_novu_workflow_is_answered_in_clarion_shape_and_replaced_with_novu_steps(cloud: Cloud) -> None:
    created = cloud.api("POST", "/v1/workflows", NOVU_ORDER_WORKFLOW)[2]["data"]
    stored = cloud.api("GET", f"/v1/workflows/{NOVU_ORDER_WORKFLOW_ID}")[2]["data"]
    assert stored == created
    assert stored["notificationGroupId"] == NOVU_ORDER_WORKFLOW["notificationGroupId"]
    assert stored["steps"][2] == {
        "stepId": "wait",
        "type": "delay",
        "active": True,
        "content": {"amount": 2, "unit": "seconds"},
        "conditions": [],
        "onFailure": "continue",
    }
    again = cloud.api("PUT", f"/v1/workflows/{NOVU_ORDER_WORKFLOW_ID}", stored)  # a GET sent back as it is
    assert again[0] == 200 and again[2]["data"] == stored
    status, _, body = cloud.api(
        "PUT",
        f"/v1/workflows/{NOVU_ORDER_WORKFLOW_ID}",
        {
            "identifier": NOVU_ORDER_WORKFLOW_ID,
            "tags": ["x"],
            "steps": [{"template": {"type": "sms", "content": "hi"}}],
        },
    )
    assert status == 200, body
    assert body["data"]["tags"] == ["x"] and body["data"]["steps"][0]["stepId"] == "sms"
    assert_field_error(
        cloud.api("PUT", f"/v1/workflows/{NOVU_ORDER_WORKFLOW_ID}", {"identifier": "other"}),
        400,
        "workflowId",
    )


def test_a_misplaced_delay_field_is_a_400_naming_it_and_where_it_belongs(cloud: Cloud) -> None:
    status, _, body = cloud.api("POST", "/v1/workflows", MISPLACED_DELAY)
    assert status == 400
    named = {error["field"]: error["message"] for error in body["errors"]}
    assert named["steps.2.amount"] == "unknown field; did you mean content.amount?"
    assert named["steps.2.unit"] == "unknown field; did you mean content.unit?"
    assert cloud.api("GET", "/v1/workflows/misplaced")[0] == 404  # nothing stored
    assert_field_error(
        cloud.api(
            "POST",
            "/v1/workflows",
            {
                "workflowId": "w",
                "steps": [{"stepId": "d", "type": "digest", "content": {"amount": 5, "unit": "fortnights"}}],
            },
        ),
        400,
        "steps.0.content.unit",
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/v1/subscribers", {"subscriberId": "a", "firstname": "Ada"}, "firstname"),
        ("PUT", "/v1/subscribers/known", {"emial": "a@b.co"}, "emial"),
        (
            "PATCH",
            "/v1/subscribers/known/preferences",
            {"channels": {"sms": False}, "workflow": {}},
            "workflow",
        ),
        ("PUT", "/v1/subscribers/known/credentials", {"providerId": "slack", "credential": {}}, "credential"),
        ("POST", "/v1/tenants", {"identifier": "t", "name": "T", "date": {}}, "date"),
        ("PATCH", "/v1/tenants/known", {"nmae": "x"}, "nmae"),
        ("POST", "/v1/topics", {"key": "k", "name": "K", "subscribers": []}, "subscribers"),
        ("POST", "/v1/topics/known/subscribers", {"subscribers": ["a"], "extra": 1}, "extra"),
        (
            "POST",
            "/v1/integrations",
            {"providerId": "sns", "channel": "sms", "credentails": {}},
            "credentails",
        ),
        ("POST", "/v1/integrations", {"providerId": "0", "channel": "chat"}, "providerId"),
        (
            "POST",
            "/v1/integrations",
            {"providerId": "ses", "channel": "email", "credentials": {"apiKey": "k"}},
            "credentials.apiKey",
        ),
        ("POST", "/v1/workflows", {"workflowId": "w", "stepz": []}, "stepz"),
    ],
)
def test_unknown_fields_on_management_routes_are_400s_naming_them(
    cloud: Cloud, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    cloud.api("POST", "/v1/subscribers", {"subscriberId": "known"})
    cloud.api("POST", "/v1/tenants", {"identifier": "known", "name": "Known"})
    cloud.api("POST", "/v1/topics", {"key": "known", "name": "Known"})
    assert_field_error(cloud.api(method, path, body), 400, field)


def test_bulk_subscribers_report_an_unknown_field_per_entry(cloud: Cloud) -> None:
    status, _, body = cloud.api(
        "POST",
        "/v1/subscribers/bulk",
        {"subscribers": [{"subscriberId": "ok"}, {"subscriberId": "b", "nmae": "x"}]},
    )
    assert status == 201, body
    assert "nmae" in str(body["data"])
    assert cloud.api("GET", "/v1/subscribers/ok")[0] == 200


def test_trigger_bodies_stay_lenient(cloud: Cloud) -> None:
    cloud.api(
        "POST",
        "/v1/workflows",
        {"workflowId": "w", "steps": [{"stepId": "i", "type": "in_app", "content": {"body": "x"}}]},
    )
    status, _, body = cloud.api(
        "POST", "/v1/events/trigger", {"name": "w", "to": "ada", "payload": {}, "someFutureNovuField": True}
    )
    assert status == 201, body

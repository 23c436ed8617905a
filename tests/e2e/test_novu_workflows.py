"""Novu's v1 workflow JSON pasted into POST /v1/workflows on the local stack, over HTTP: it runs
with exactly the steps its filters (AND of EQUAL and LARGER, an OR group) and its metadata delay
allow; a misplaced field is a 400 naming it and where it belongs."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import RunningStack
from tests.e2e.test_local_stack import wait_for
from tests.novu_workflow_samples import (
    MISPLACED_DELAY,
    NOVU_ORDER_CASES,
    NOVU_ORDER_WORKFLOW,
    NOVU_ORDER_WORKFLOW_ID,
)


def test_a_pasted_novu_workflow_runs_exactly_the_steps_its_filters_allow(stack: RunningStack) -> None:
    created = stack.call("POST", "/v1/workflows", json=NOVU_ORDER_WORKFLOW)
    assert created.status_code in (201, 409), created.text
    assert stack.call("GET", f"/v1/workflows/{NOVU_ORDER_WORKFLOW_ID}").json()["data"]["steps"][2][
        "content"
    ] == {
        "amount": 2,
        "unit": "seconds",
    }
    events = [
        {
            "name": NOVU_ORDER_WORKFLOW_ID,
            "to": {"subscriberId": f"e2e-{subscriber}", "data": data},
            "payload": payload,
            "transactionId": f"e2e-novu-{subscriber}",
        }
        for subscriber, data, payload, _ in NOVU_ORDER_CASES
    ]
    answer = stack.call("POST", "/v1/events/trigger/bulk", json={"events": events})
    assert answer.status_code == 201, answer.text
    assert [e["status"] for e in answer.json()["data"]] == ["processed"] * len(events)

    def steps_of(subscriber: str) -> dict[str, str]:
        rows = stack.call("GET", "/v1/execution-details", params={"transactionId": f"e2e-novu-{subscriber}"})
        return {row["stepId"]: row["status"] for row in rows.json()["data"]}

    finished = wait_for(
        lambda: all(steps_of(s).get("follow-up") == "sent" for s, *_ in NOVU_ORDER_CASES) or None, timeout=90
    )
    assert finished
    for subscriber, _, payload, expected in NOVU_ORDER_CASES:
        assert steps_of(subscriber) == expected, subscriber
        feed = stack.call("GET", f"/v1/subscribers/e2e-{subscriber}/notifications/feed").json()["data"]
        sent = {m["stepId"]: m["content"]["body"] for m in feed if m["status"] == "sent"}
        assert set(sent) == {s for s, status in expected.items() if status == "sent"}
        if "big-order" in sent:
            assert sent["big-order"] == f"Big order: {payload['order']['total']}"
    messages = stack.call("GET", "/v1/messages", params={"transactionId": "e2e-novu-free-us"}).json()["data"]
    skipped = {m["stepId"]: m.get("detail") for m in messages if m["status"] == "skipped"}
    assert set(skipped) == {"big-order", "vip-or-europe"}
    assert "payload.order.total LARGER '100'" in (skipped["big-order"] or "")


def test_a_misplaced_field_is_a_400_naming_it_over_http(stack: RunningStack) -> None:
    answer = stack.call("POST", "/v1/workflows", json=MISPLACED_DELAY)
    assert answer.status_code == 400
    body: dict[str, Any] = answer.json()
    assert {"field": "steps.2.amount", "message": "unknown field; did you mean content.amount?"} in body[
        "errors"
    ]
    assert stack.call("GET", "/v1/workflows/misplaced").status_code == 404
    novu_shaped = {
        "name": "Misplaced Novu",
        "steps": [{"template": {"type": "delay"}, "amount": 5, "unit": "hours"}],
    }
    answer = stack.call("POST", "/v1/workflows", json=novu_shaped)
    assert answer.status_code == 400
    named = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert named["steps.0.amount"] == "unknown field; did you mean metadata.amount?"
    chat = stack.call("POST", "/v1/integrations", json={"providerId": "0", "channel": "chat"})
    assert chat.status_code == 400
    assert "slack, discord, msteams" in chat.json()["errors"][0]["message"]

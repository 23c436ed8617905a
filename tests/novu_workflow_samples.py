"""A workflow exactly as a Novu v1 user writes it (CreateWorkflowRequestDto), and who should get
which of its steps: shared by the integration and e2e tests."""

from __future__ import annotations

from typing import Any

NOVU_ORDER_WORKFLOW: dict[str, Any] = {
    "name": "Order update",
    "notificationGroupId": "64f0c0ffee0000000000beef",
    "description": "Pasted from Novu",
    "tags": ["orders"],
    "active": True,
    "draft": False,
    "critical": False,
    "preferenceSettings": {"email": True, "sms": True, "in_app": True, "chat": True, "push": True},
    "steps": [
        {
            "name": "Big order",
            "active": True,
            "shouldStopOnFail": False,
            "template": {"type": "in_app", "content": "Big order: {{ payload.order.total }}"},
            "filters": [
                {
                    "isNegated": False,
                    "type": "GROUP",
                    "value": "AND",
                    "children": [
                        {"on": "payload", "field": "plan", "operator": "EQUAL", "value": "pro"},
                        {"on": "payload", "field": "order.total", "operator": "LARGER", "value": "100"},
                    ],
                }
            ],
        },
        {
            "name": "VIP or Europe",
            "template": {"type": "in_app", "content": "VIP or Europe"},
            "filters": [
                {
                    "isNegated": False,
                    "type": "GROUP",
                    "value": "OR",
                    "children": [
                        {"on": "subscriber", "field": "data.vip", "operator": "EQUAL", "value": "true"},
                        {"on": "payload", "field": "region", "operator": "IN", "value": ["eu", "uk"]},
                    ],
                }
            ],
        },
        {
            "name": "Wait",
            "template": {"type": "delay", "content": ""},
            "metadata": {"type": "regular", "amount": 2, "unit": "seconds"},
        },
        {
            "name": "Follow up",
            "template": {"type": "in_app", "content": "Follow up"},
            "filters": [{"isNegated": False, "type": "GROUP", "value": "AND", "children": []}],
        },
    ],
}
NOVU_ORDER_WORKFLOW_ID = "order-update"  # Novu's identifier for the name

# (subscriber, its data, payload) -> the status of each step after the delay has passed
NOVU_ORDER_CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, str]]] = [
    (
        "vip-pro",
        {"vip": True},
        {"plan": "pro", "order": {"total": 150}, "region": "us"},
        {"big-order": "sent", "vip-or-europe": "sent", "wait": "resumed", "follow-up": "sent"},
    ),
    (
        "eu-small",
        {},
        {"plan": "pro", "order": {"total": 50}, "region": "eu"},
        {"big-order": "skipped", "vip-or-europe": "sent", "wait": "resumed", "follow-up": "sent"},
    ),
    (
        "free-us",
        {"vip": False},
        {"plan": "free", "order": {"total": 500}, "region": "us"},
        {"big-order": "skipped", "vip-or-europe": "skipped", "wait": "resumed", "follow-up": "sent"},
    ),
]

# A delay step written with amount/unit beside content: the error names the field and its place.
MISPLACED_DELAY: dict[str, Any] = {
    "workflowId": "misplaced",
    "steps": [
        {"stepId": "hello", "type": "in_app", "content": {"body": "hi"}},
        {"stepId": "again", "type": "in_app", "content": {"body": "again"}},
        {"stepId": "wait", "type": "delay", "content": {}, "amount": 5, "unit": "minutes"},
    ],
}

"""Workflows as the tests create them, step by step: one place for what each kind of step looks
like, so that a test reads `workflow("receipt", in_app("inbox", "Paid"), email("mail", "Receipt",
"Paid"))` and a change to the workflow schema is made here once."""

from __future__ import annotations

from typing import Any

Step = dict[str, Any]

VIP_ONLY = [{"field": "subscriber.data.vip", "operator": "eq", "value": True}]


def workflow(workflow_id: str, *steps: Step, **fields: Any) -> dict[str, Any]:
    return {"workflowId": workflow_id, **fields, "steps": list(steps)}


def step(step_id: str, kind: str, content: dict[str, Any], **fields: Any) -> Step:
    return {"stepId": step_id, "type": kind, "content": content, **fields}


def in_app(step_id: str, body: str, **fields: Any) -> Step:
    return step(step_id, "in_app", {"body": body}, **fields)


def email(step_id: str, subject: str, body: str, **fields: Any) -> Step:
    return step(step_id, "email", {"subject": subject, "body": body}, **fields)


def sms(step_id: str, body: str, **fields: Any) -> Step:
    return step(step_id, "sms", {"body": body}, **fields)


def chat(step_id: str, body: str, **fields: Any) -> Step:
    return step(step_id, "chat", {"body": body}, **fields)


def delay(step_id: str, amount: str | int, unit: str = "seconds", **fields: Any) -> Step:
    return step(step_id, "delay", {"amount": amount, "unit": unit}, **fields)

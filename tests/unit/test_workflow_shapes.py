"""Workflow bodies in Clarion's shape and Novu's v1 shape: one model; unknown and misplaced
fields refused by name, with the place they likely belong."""

from __future__ import annotations

from typing import Any

import pytest
from clarion.api.errors import BadRequestError
from clarion.api.workflows import WorkflowCreate
from pydantic import ValidationError

from tests.novu_workflow_samples import MISPLACED_DELAY, NOVU_ORDER_WORKFLOW


def errors(body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        WorkflowCreate.model_validate(body)
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in caught.value.errors()}


def test_misplaced_delay_fields_are_named_with_their_place() -> None:
    assert errors(MISPLACED_DELAY) == {
        "steps.2.amount": "unknown field; did you mean content.amount?",
        "steps.2.unit": "unknown field; did you mean content.unit?",
        "steps.2.content": "Value error, a delay needs amount and unit (or until)",
    }


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"workflowId": "w", "stepz": []}, "stepz", "did you mean steps?"),
        (
            {"workflowId": "w", "steps": [{"stepId": "m", "type": "email", "subject": "x"}]},
            "steps.0.subject",
            "did you mean content.subject?",
        ),
        (
            {
                "workflowId": "w",
                "steps": [{"stepId": "d", "type": "delay", "content": {"amout": 1, "unit": "days"}}],
            },
            "steps.0.content.amout",
            "did you mean amount?",
        ),
        (
            {"workflowId": "w", "steps": [{"stepId": "d", "type": "delay", "content": {"unit": "days"}}]},
            "steps.0.content",
            "needs amount and unit",
        ),
        (
            {
                "workflowId": "w",
                "steps": [{"stepId": "d", "type": "digest", "content": {"amount": 1, "unit": "years"}}],
            },
            "steps.0.content.unit",
            "'months'",
        ),
        (
            {"workflowId": "w", "steps": [{"stepId": "s", "type": "sms", "filters": []}]},
            "steps.0.filters",
            "did you mean conditions?",
        ),
        (
            {
                "workflowId": "w",
                "steps": [
                    {"stepId": "s", "type": "sms", "conditions": [{"field": "payload.x", "opertor": "eq"}]}
                ],
            },
            "steps.0.conditions.0.opertor",
            "did you mean operator?",
        ),
        (
            {
                "workflowId": "w",
                "steps": [
                    {
                        "stepId": "s",
                        "type": "sms",
                        "conditions": [{"field": "payload.x", "operator": "BETWEEN", "value": [1]}],
                    }
                ],
            },
            "steps.0.conditions.0",
            "[low, high]",
        ),
        ({"workflowId": "w", "triggerId": 3}, "triggerId", "assigned by Clarion"),
        (
            {"name": "n", "steps": [{"template": {"type": "delay"}, "amount": 1}]},
            "steps.0.amount",
            "did you mean metadata.amount?",
        ),
        (
            {"name": "n", "steps": [{"template": {"type": "sms", "content": "x"}, "subject": "s"}]},
            "steps.0.subject",
            "did you mean template.subject?",
        ),
        (
            {
                "name": "n",
                "steps": [{"template": {"type": "delay"}, "metadata": {"type": "regular", "amount": 1}}],
            },
            "steps.0.metadata.unit",
            "Field required",
        ),
        ({"name": "n", "steps": [{"template": {"type": "delay"}}]}, "steps.0.metadata", "needs metadata"),
        (
            {"name": "n", "steps": [{"_id": "64f", "template": {"type": "sms", "content": "x"}}]},
            "steps.0._id",
            "Novu's internal id",
        ),
        (
            {
                "name": "n",
                "steps": [
                    {
                        "template": {"type": "digest"},
                        "metadata": {"type": "backoff", "amount": 1, "unit": "hours"},
                    }
                ],
            },
            "steps.0.metadata.type",
            "backoff digests",
        ),
        (
            {
                "name": "n",
                "steps": [
                    {
                        "template": {"type": "digest"},
                        "metadata": {
                            "type": "timed",
                            "amount": 1,
                            "unit": "hours",
                            "timed": {"atTime": "09:00"},
                        },
                    }
                ],
            },
            "steps.0.metadata.timed",
            "timed",
        ),
        (
            {
                "name": "n",
                "steps": [
                    {
                        "template": {"type": "sms", "content": "x"},
                        "filters": [
                            {
                                "value": "AND",
                                "children": [
                                    {"on": "webhook", "field": "x", "operator": "EQUAL", "value": 1}
                                ],
                            }
                        ],
                    }
                ],
            },
            "steps.0.filters.0.children.0.on",
            "'payload', 'subscriber' or 'tenant'",
        ),
        (
            {"name": "n", "steps": [{"template": {"type": "sms", "content": "x"}, "variants": []}]},
            "steps.0.variants",
            "not supported",
        ),
        ({"name": "n", "blueprintId": "b"}, "blueprintId", "not supported"),
    ],
)
def test_bad_fields_are_named(body: dict[str, Any], field: str, message: str) -> None:
    found = errors(body)
    assert field in found, found
    assert message in found[field]


def test_a_novu_workflow_becomes_the_one_model() -> None:
    workflow = WorkflowCreate.model_validate(NOVU_ORDER_WORKFLOW).to_workflow()
    assert workflow.workflow_id == "order-update"  # Novu's identifier for the name
    assert [s.step_id for s in workflow.steps] == ["big-order", "vip-or-europe", "wait", "follow-up"]
    assert [s.type for s in workflow.steps] == ["in_app", "in_app", "delay", "in_app"]
    assert workflow.steps[2].content == {"amount": 2, "unit": "seconds"}
    api = workflow.to_api()
    assert api["steps"][0]["conditions"] == [
        {
            "all": [
                {"field": "payload.plan", "operator": "EQUAL", "value": "pro"},
                {"field": "payload.order.total", "operator": "LARGER", "value": "100"},
            ]
        }
    ]
    assert (api["notificationGroupId"], api["tags"], api["description"]) == (
        "64f0c0ffee0000000000beef",
        ["orders"],
        "Pasted from Novu",
    )
    assert api["preferenceSettings"]["email"] is True


def test_novu_ids_and_clarion_ids() -> None:
    def workflow_id(**body: Any) -> str:
        return WorkflowCreate.model_validate(body).to_workflow().workflow_id

    assert workflow_id(workflowId="mine", name="Other") == "mine"
    assert workflow_id(identifier="novu-id", name="Other") == "novu-id"
    assert workflow_id(triggers=[{"type": "event", "identifier": "from-get"}]) == "from-get"
    assert workflow_id(name="Ünïcode & Co. 2") == "n-code-co-2"
    with pytest.raises(BadRequestError, match="different ids"):
        workflow_id(workflowId="a", identifier="b")
    with pytest.raises(BadRequestError, match="workflowId: required"):
        workflow_id(steps=[])
    with pytest.raises(BadRequestError, match="active and draft disagree"):
        workflow_id(name="x", active=True, draft=True)
    assert WorkflowCreate.model_validate({"name": "x", "draft": True}).to_workflow().active is False


def test_step_ids_are_made_unique_and_mixed_shapes_are_kept_in_order() -> None:
    workflow = WorkflowCreate.model_validate(
        {
            "workflowId": "mixed",
            "steps": [
                {"stepId": "sms", "type": "sms", "content": {"body": "x"}},
                {"template": {"type": "sms", "content": "y"}},
                {"name": "Hello", "template": {"type": "in_app", "content": "z"}},
                {"name": "Hello", "template": {"type": "in_app", "content": "z"}},
            ],
        }
    ).to_workflow()
    assert [s.step_id for s in workflow.steps] == ["sms", "sms-2", "hello", "hello-2"]
    with pytest.raises(BadRequestError) as caught:
        WorkflowCreate.model_validate(
            {"workflowId": "dup", "steps": [{"stepId": "a", "type": "sms"}, {"stepId": "a", "type": "sms"}]}
        ).to_workflow()
    assert "steps" in caught.value.field_errors()

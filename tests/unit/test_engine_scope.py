"""What a step's templates and conditions see (engine.scope): pure, no AWS."""

from __future__ import annotations

from typing import Any

from clarion.engine.parts import Parts
from clarion.engine.render import render_content
from clarion.engine.scope import StepContext, template_scope
from clarion.model import TriggerRecord, Workflow
from clarion.model.trigger import SubscriberProfile


def context(payload: dict[str, Any], step: dict[str, Any] | None = None) -> StepContext:
    record = TriggerRecord(
        environment_id="development",
        bulk_id="b",
        index=0,
        transaction_id="t",
        workflow_id="welcome",
        recipients=[SubscriberProfile(subscriber_id="ada")],
        payload=payload,
        accepted_at="2026-01-01T00:00:00.000Z",
    )
    workflow = Workflow.model_validate({"workflowId": "welcome", "steps": []})
    return StepContext(record, workflow, Parts(), "now", {"firstName": "Actor"}, {"name": "Acme"}, step)


def test_templates_read_payload_fields_at_the_top_level_as_novu_v1_templates_do() -> None:
    scope = context({"firstName": "Ada", "order": {"id": 7}}).template_scope({"subscriberId": "ada"})
    rendered = render_content({"body": "Hello {{firstName}}, order {{ order.id }}"}, scope)
    assert rendered == {"body": "Hello Ada, order 7"}


def test_the_named_scopes_win_over_payload_fields_of_the_same_name() -> None:
    payload = {
        "subscriber": "p-sub",
        "tenant": "p-ten",
        "actor": "p-act",
        "payload": "p-pay",
        "step": "p-step",
    }
    scope = context(payload).template_scope({"subscriberId": "ada", "firstName": "Ada"})
    body = "{{ subscriber.firstName }}|{{ tenant.name }}|{{ actor.firstName }}|{{ payload.subscriber }}|{{ step }}"
    # `step` is a named scope even where no step hands one on: a payload field never takes its place
    assert render_content({"body": body}, scope) == {"body": "Ada|Acme|Actor|p-sub|"}


def test_an_earlier_steps_scope_wins_over_a_payload_field_named_step() -> None:
    scope = context({"step": "p-step"}, {"digest": {"count": 2}}).template_scope({"subscriberId": "ada"})
    assert render_content({"body": "{{ step.digest.count }}"}, scope) == {"body": "2"}


def test_conditions_see_only_the_named_scopes() -> None:
    scope = context({"firstName": "Ada"}).conditions_scope({"subscriberId": "ada"})
    assert set(scope) == {"payload", "subscriber", "tenant", "actor"}
    assert scope["payload"] == {"firstName": "Ada"}


def test_template_scope_leaves_the_named_scopes_as_they_are() -> None:
    named = {"payload": {"a": 1, "subscriber": 2}, "subscriber": {"id": "x"}}
    assert template_scope(named) == {"a": 1, "payload": {"a": 1, "subscriber": 2}, "subscriber": {"id": "x"}}

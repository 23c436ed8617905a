"""Step conditions, pure: Novu's operators (cast as Novu casts), the ones Novu declares but never
evaluates, Clarion's aliases, groups, Novu filters converted, preferences and timing."""

from __future__ import annotations

from typing import Any

import pytest
from clarion.dialects.novu_workflow import NovuStep
from clarion.engine.conditions import holds, skip_reason
from clarion.engine.timing import wait_seconds
from clarion.model import Condition, Step, Workflow

SCOPE: dict[str, Any] = {
    "payload": {
        "plan": "pro",
        "total": 150,
        "ratio": 0.5,
        "paid": True,
        "tags": ["vip", "beta"],
        "email": "Ada@Example.com",
        "note": None,
        "when": "2030-05-01",
    },
    "subscriber": {"subscriberId": "ada", "data": {"vip": True, "age": 36}},
    "tenant": {"identifier": "acme", "name": "Acme", "data": {"tier": "gold"}},
    "actor": {},
}


def check(field: str, operator: str, value: Any) -> bool:
    return holds(Condition(field=field, operator=operator, value=value), SCOPE)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        ("payload.plan", "EQUAL", "pro", True),
        ("payload.plan", "EQUAL", "free", False),
        ("payload.total", "EQUAL", "150", True),  # cast to the actual value's type (a number)
        ("payload.paid", "EQUAL", "true", True),  # ... a boolean
        ("payload.paid", "EQUAL", "false", False),
        ("payload.paid", "EQUAL", True, True),
        ("subscriber.data.age", "EQUAL", 36, True),
        ("payload.plan", "NOT_EQUAL", "free", True),
        ("payload.plan", "NOT_EQUAL", "pro", False),
        ("payload.total", "NOT_EQUAL", "abc", True),  # Number("abc") equals nothing
        ("payload.total", "LARGER", "100", True),
        ("payload.total", "LARGER", "150", False),
        ("payload.total", "LARGER", "abc", False),
        ("payload.total", "SMALLER", 200, True),
        ("payload.total", "LARGER_EQUAL", "150", True),
        ("payload.total", "SMALLER_EQUAL", 149.5, False),
        ("payload.ratio", "SMALLER_EQUAL", "0.5", True),
        ("payload.when", "LARGER", "2030-01-01", True),  # text compares as text (ISO dates)
        ("payload.tags", "LARGER", 1, False),  # not comparable: does not hold
        ("payload.plan", "IN", ["free", "pro"], True),  # one of a list
        ("payload.plan", "IN", ["free"], False),
        ("payload.total", "IN", ["100", "150"], True),  # items cast too
        ("payload.tags", "IN", "vip", True),  # Novu's actual.includes(value): a list ...
        ("payload.email", "IN", "Example", True),  # ... or a text
        ("payload.tags", "IN", "alpha", False),
        ("payload.plan", "NOT_IN", ["free"], True),
        ("payload.tags", "NOT_IN", "vip", False),
        ("payload.plan", "IS_DEFINED", "", True),
        ("payload.missing", "IS_DEFINED", "", False),
        ("payload.note", "IS_DEFINED", None, False),  # null is no value
        ("payload.missing", "IS_DEFINED", False, True),
        ("payload.total", "BETWEEN", [100, 150], True),  # both ends included
        ("payload.total", "BETWEEN", "150,200", True),
        ("payload.total", "BETWEEN", [151, 200], False),
        ("payload.when", "BETWEEN", ["2030-01-01", "2030-12-31"], True),
        ("payload.total", "NOT_BETWEEN", [151, 200], True),
        ("payload.total", "NOT_BETWEEN", [1, 200], False),
        ("payload.email", "LIKE", "example", True),  # substring, without case
        ("payload.email", "LIKE", "%@example.com", True),
        ("payload.email", "LIKE", "ada%", True),
        ("payload.email", "LIKE", "%@other.com", False),
        ("payload.email", "LIKE", "example.com%", False),  # with %, the whole text must match
        ("payload.plan", "NOT_LIKE", "fre", True),
        ("payload.plan", "NOT_LIKE", "PR", False),
        ("payload.tags", "ANY_IN", ["beta", "gamma"], True),
        ("payload.tags", "ANY_IN", ["gamma"], False),
        ("payload.plan", "ANY_IN", "free, pro", True),  # one value; Novu's comma-separated text
        ("payload.tags", "ALL_IN", ["vip", "beta", "gamma"], True),
        ("payload.tags", "ALL_IN", ["vip"], False),
        ("tenant.data.tier", "EQUAL", "gold", True),
        ("subscriber.data.vip", "EQUAL", "true", True),
    ],
)
def test_novu_operators(field: str, operator: str, value: Any, expected: bool) -> None:
    assert check(field, operator, value) is expected


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("EQUAL", False),
        ("LARGER", False),
        ("IN", False),
        ("BETWEEN", False),
        ("LIKE", False),
        ("ANY_IN", False),
        ("ALL_IN", False),
        ("NOT_EQUAL", True),
        ("NOT_IN", True),
        ("NOT_BETWEEN", True),
        ("NOT_LIKE", True),
    ],
)
def test_a_missing_field_holds_only_for_negative_operators(operator: str, expected: bool) -> None:
    value: Any = [1, 2] if "BETWEEN" in operator else ["x"] if operator.endswith("_IN") else "x"
    assert check("payload.nothing.here", operator, value) is expected


@pytest.mark.parametrize(
    ("alias", "operator", "value"),
    [
        ("eq", "EQUAL", "pro"),
        ("ne", "NOT_EQUAL", "pro"),
        ("gt", "LARGER", "100"),
        ("lt", "SMALLER", "100"),
        ("gte", "LARGER_EQUAL", 150),
        ("lte", "SMALLER_EQUAL", 149),
        ("in", "IN", ["pro", "free"]),
        ("nin", "NOT_IN", ["pro"]),
        ("exists", "IS_DEFINED", True),
    ],
)
def test_clarion_short_names_are_aliases(alias: str, operator: str, value: Any) -> None:
    for field in ("payload.plan", "payload.total", "payload.missing"):
        assert check(field, alias, value) is check(field, operator, value), (field, alias)


def test_groups_nest_and_negate() -> None:
    pro = {"field": "payload.plan", "operator": "EQUAL", "value": "pro"}
    free = {"field": "payload.plan", "operator": "EQUAL", "value": "free"}
    assert holds(Condition.model_validate({"all": [pro, {"any": [free, pro]}]}), SCOPE)
    assert not holds(Condition.model_validate({"all": [pro, free]}), SCOPE)
    assert holds(Condition.model_validate({"any": [free, pro]}), SCOPE)
    assert holds(Condition.model_validate({"all": [pro, free], "not": True}), SCOPE)
    assert holds(Condition.model_validate({"any": []}), SCOPE)  # an empty group holds
    assert not holds(Condition.model_validate({"all": [], "not": True}), SCOPE)


def novu_step(*filters: dict[str, Any]) -> Step:
    raw = {"name": "Note", "template": {"type": "in_app", "content": "x"}, "filters": list(filters)}
    return NovuStep.model_validate(raw).to_step("note")


def child(on: str, field: str, operator: str, value: Any) -> dict[str, Any]:
    return {"on": on, "field": field, "operator": operator, "value": value}


def runs(step: Step, scope: dict[str, Any] = SCOPE) -> bool:
    return skip_reason(step, "wf", scope["subscriber"], scope) is None


def test_novu_filters_a_step_runs_when_any_filter_passes() -> None:
    and_filter = {
        "value": "AND",
        "children": [child("payload", "plan", "EQUAL", "pro"), child("payload", "total", "LARGER", "100")],
    }
    failing_and = {
        "value": "AND",
        "children": [child("payload", "plan", "EQUAL", "pro"), child("payload", "total", "LARGER", "500")],
    }
    or_filter = {
        "value": "OR",
        "children": [
            child("tenant", "data.tier", "EQUAL", "silver"),
            child("subscriber", "data.age", "LARGER", 30),
        ],
    }
    failing_or = {
        "value": "OR",
        "children": [
            child("tenant", "data.tier", "EQUAL", "silver"),
            child("subscriber", "data.age", "SMALLER", 3),
        ],
    }
    assert runs(novu_step(and_filter))
    assert not runs(novu_step(failing_and))
    assert runs(novu_step(or_filter))
    assert not runs(novu_step(failing_or))
    assert runs(novu_step(failing_and, or_filter))  # any top-level filter
    assert not runs(novu_step(failing_and, failing_or))
    assert runs(novu_step({"value": "OR", "children": []}))  # a filter without children passes
    assert runs(novu_step())
    assert not runs(novu_step({"value": "AND", "isNegated": True, "children": and_filter["children"]}))
    reason = skip_reason(novu_step(failing_and), "wf", {}, SCOPE)
    assert reason == "condition not met: all(payload.plan EQUAL 'pro', payload.total LARGER '500')"


def test_novu_step_shapes_become_clarion_steps() -> None:
    email = NovuStep.model_validate(
        {
            "name": "Receipt mail",
            "shouldStopOnFail": True,
            "template": {
                "type": "email",
                "subject": "Paid",
                "preheader": "thanks",
                "senderName": "Shop",
                "content": [
                    {"type": "text", "content": "Paid {{ payload.total }}"},
                    {"type": "button", "content": "See", "url": "https://shop.example/o"},
                ],
            },
        }
    ).to_step("receipt-mail")
    assert email.type == "email" and email.on_failure == "halt"
    assert email.content == {
        "subject": "Paid",
        "body": '<span style="display:none">thanks</span><p>Paid {{ payload.total }}</p>'
        '<p><a href="https://shop.example/o">See</a></p>',
        "senderName": "Shop",
    }
    push = NovuStep.model_validate({"template": {"type": "push", "title": "T", "content": "B"}}).to_step("p")
    assert push.content == {"title": "T", "body": "B"}
    delay = NovuStep.model_validate(
        {
            "template": {"type": "delay", "content": ""},
            "metadata": {"type": "regular", "amount": 2, "unit": "weeks"},
        }
    ).to_step("d")
    assert delay.content == {"amount": 2, "unit": "weeks"}
    scheduled = NovuStep.model_validate(
        {"template": {"type": "delay"}, "metadata": {"type": "scheduled", "delayPath": "sendAt"}}
    ).to_step("s")
    assert scheduled.content == {"until": "{{ payload.sendAt }}"}
    digest = NovuStep.model_validate(
        {
            "template": {"type": "digest", "content": ""},
            "metadata": {"type": "regular", "amount": 5, "unit": "minutes", "digestKey": "postId"},
        }
    ).to_step("g")
    assert digest.content == {"amount": 5, "unit": "minutes", "digestKey": "postId"}


def workflow(**fields: Any) -> Workflow:
    return Workflow.model_validate({"workflowId": "wf", **fields})


def test_critical_workflows_ignore_preferences_and_preference_settings_are_defaults() -> None:
    step = Step.model_validate({"stepId": "mail", "type": "email"})
    off = {"preferences": {"channels": {"email": False}}}
    assert skip_reason(step, workflow(), off, SCOPE) == "subscriber turned off email"
    assert skip_reason(step, workflow(critical=True), off, SCOPE) is None
    defaults_off = workflow(preferenceSettings={"email": False})
    assert "preferenceSettings" in (skip_reason(step, defaults_off, {}, SCOPE) or "")
    chose_on = {"preferences": {"workflows": {"wf": {"email": True}}}}
    assert skip_reason(step, defaults_off, chose_on, SCOPE) is None


def test_wait_seconds_reads_units_up_to_months_and_until_dates() -> None:
    now = 1_900_000_000.0
    assert wait_seconds("d", {"amount": 2, "unit": "weeks"}, now) == 14 * 86_400
    assert wait_seconds("d", {"amount": "1", "unit": "months"}, now) == 30 * 86_400
    assert wait_seconds("d", {"until": "2030-03-17T17:46:50Z"}, now) == 10
    assert wait_seconds("d", {"until": "2030-03-17T17:46:40+00:00"}, now) == 0
    assert wait_seconds("d", {"until": "2000-01-01"}, now) == 0  # passed: no wait
    with pytest.raises(ValueError, match="ISO 8601"):
        wait_seconds("d", {"until": "tomorrow"}, now)

"""Step conditions and subscriber preferences: pure decisions, no AWS.

The operators are Novu's; Clarion's short names are aliases (eq EQUAL, ne NOT_EQUAL, gt LARGER,
lt SMALLER, gte LARGER_EQUAL, lte SMALLER_EQUAL, in IN, nin NOT_IN, exists IS_DEFINED). As Novu
does, the condition's value is first cast to the type of the actual value (a number compares with
`"10"` as with 10, a boolean with `"true"`, a text with the number 5 as with `"5"`).

- EQUAL, NOT_EQUAL, LARGER, SMALLER, LARGER_EQUAL, SMALLER_EQUAL: compare; values that do not
  compare (a list against a number) do not hold.
- IN: with a list, the actual value is one of its items; with one value, the actual text or list
  includes it (Novu's `actual.includes(value)`). NOT_IN: the opposite.
- IS_DEFINED: the field is there and not null (`"value": false` asks for the opposite).
- BETWEEN `[low, high]` (or `"low,high"`): low <= actual <= high, both ends included.
  NOT_BETWEEN: the opposite.
- LIKE: the pattern, without case; `%` stands for any run of characters and then the whole text
  must match (`"ord%"`, `"%@example.com"`); without `%` it is found anywhere in the text.
  NOT_LIKE: the opposite.
- ANY_IN `[a, b]`: some item of the actual value (a list, or one value) is in the list;
  ALL_IN: every item of a non-empty actual value is in it.

A field that is not there holds for no operator except the negative ones (NOT_EQUAL, NOT_IN,
NOT_BETWEEN, NOT_LIKE), which hold, and `IS_DEFINED` with `false`."""

from __future__ import annotations

import math
import re
from typing import Any

from clarion.model import Condition, Step
from clarion.model.workflow import ALIASES, Workflow, listed

_MISSING = object()
PREFERENCE_CHANNELS = frozenset({"in_app", "email", "sms", "chat", "push"})
_NEGATIVE = {"NOT_EQUAL": "EQUAL", "NOT_IN": "IN", "NOT_BETWEEN": "BETWEEN", "NOT_LIKE": "LIKE"}


def lookup(scope: dict[str, Any], path: str) -> Any:
    """`payload.order.total` in the scope, or _MISSING."""
    value: Any = scope
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def cast(actual: Any, value: Any) -> Any:
    """The condition's value as the actual value's type (Novu's parseValue, with JavaScript's
    String() and Number())."""
    if isinstance(actual, bool):
        return value if isinstance(value, bool) else str(value).strip().lower() == "true"
    if isinstance(actual, int | float):
        if isinstance(value, int | float):
            return value
        try:
            return float(value)
        except (TypeError, ValueError):
            return math.nan  # as Number("abc"): equal to nothing, compares with nothing
    if isinstance(actual, str):
        return _text(value)
    return value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    return str(value)


def _compare(actual: Any, operator: str, value: Any) -> bool:
    try:
        if operator == "LARGER":
            return bool(actual > value)
        if operator == "SMALLER":
            return bool(actual < value)
        if operator == "LARGER_EQUAL":
            return bool(actual >= value)
        return bool(actual <= value)
    except TypeError:
        return False  # not comparable (a list against a number): the condition does not hold


def _includes(actual: Any, value: Any) -> bool:
    if isinstance(value, list):
        return any(actual == cast(actual, item) for item in value)
    if isinstance(actual, str):
        return cast(actual, value) in actual
    if isinstance(actual, list):
        return any(item == cast(item, value) for item in actual)
    return False


def _like(actual: Any, pattern: str) -> bool:
    text = _text(actual).lower()
    pattern = pattern.lower()
    if "%" not in pattern:
        return pattern in text
    regex = ".*".join(re.escape(part) for part in pattern.split("%"))
    return re.fullmatch(regex, text, flags=re.DOTALL) is not None


def _positive(actual: Any, operator: str, value: Any) -> bool:
    if operator == "EQUAL":
        return bool(actual == cast(actual, value))
    if operator in ("LARGER", "SMALLER", "LARGER_EQUAL", "SMALLER_EQUAL"):
        return _compare(actual, operator, cast(actual, value))
    if operator == "IN":
        return _includes(actual, value)
    if operator == "BETWEEN":
        low, high = listed(value) or [None, None]
        return _compare(actual, "LARGER_EQUAL", cast(actual, low)) and _compare(
            actual, "SMALLER_EQUAL", cast(actual, high)
        )
    if operator == "LIKE":
        return isinstance(value, str) and _like(actual, value)
    items = actual if isinstance(actual, list) else [actual]
    allowed = listed(value) or []
    inside = [any(item == cast(item, entry) for entry in allowed) for item in items]
    if operator == "ANY_IN":
        return any(inside)
    if operator == "ALL_IN":
        return bool(inside) and all(inside)
    raise ValueError(f"operator {operator!r} is not known")


def holds(condition: Condition, scope: dict[str, Any]) -> bool:
    if condition.is_group:
        members = (holds(member, scope) for member in condition.members)
        result = all(members) if condition.all_of is not None else any(members) or not condition.members
        return result != condition.negated
    operator = ALIASES.get(condition.operator, condition.operator)
    value = lookup(scope, condition.field or "")
    if operator == "IS_DEFINED":
        return (value is not _MISSING and value is not None) == (condition.value is not False)
    positive = _NEGATIVE.get(operator)
    if value is _MISSING:
        return positive is not None
    if positive is not None:
        return not _positive(value, positive, condition.value)
    return _positive(value, operator, condition.value)


def describe(condition: Condition) -> str:
    """`payload.plan EQUAL 'pro'`; a group as `any(...)` / `not all(...)`."""
    if not condition.is_group:
        return f"{condition.field} {condition.operator} {condition.value!r}"
    kind = "all" if condition.all_of is not None else "any"
    inner = ", ".join(describe(member) for member in condition.members)
    return f"{'not ' if condition.negated else ''}{kind}({inner})"


def skip_reason(
    step: Step,
    workflow: Workflow | str,
    subscriber: dict[str, Any],
    scope: dict[str, Any],
    only_channels: list[str] | None = None,
) -> str | None:
    """Why this step is skipped for this subscriber, or None to run it. `only_channels`: the
    trigger named the channels this recipient may be reached on. A critical workflow ignores
    preferences; its preferenceSettings are the channels' defaults."""
    if not step.active:
        return "step is not active"
    if (
        only_channels is not None
        and step.type.value in PREFERENCE_CHANNELS
        and step.type.value not in only_channels
    ):
        return f"the trigger limited this recipient to {', '.join(only_channels) or 'no channels'}"
    for condition in step.conditions:
        if not holds(condition, scope):
            return f"condition not met: {describe(condition)}"
    channel = step.type.value
    if channel not in PREFERENCE_CHANNELS or (isinstance(workflow, Workflow) and workflow.critical):
        return None
    workflow_id = workflow.workflow_id if isinstance(workflow, Workflow) else workflow
    defaults = (workflow.preference_settings if isinstance(workflow, Workflow) else None) or {}
    preferences = subscriber.get("preferences") or {}
    chosen = (preferences.get("workflows") or {}).get(workflow_id, {}).get(channel)
    if chosen is False:
        return f"subscriber turned off {channel} for this workflow"
    if (preferences.get("channels") or {}).get(channel) is False:
        return f"subscriber turned off {channel}"
    if chosen is None and defaults.get(channel) is False:  # type: ignore[call-overload]
        return f"the workflow's preferenceSettings turn {channel} off by default"
    return None

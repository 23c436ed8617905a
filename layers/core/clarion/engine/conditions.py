"""Step conditions and subscriber preferences: pure decisions, no AWS."""

from __future__ import annotations

from typing import Any

from clarion.model import Condition, Step

_MISSING = object()
PREFERENCE_CHANNELS = frozenset({"in_app", "email", "sms", "chat", "push"})


def lookup(scope: dict[str, Any], path: str) -> Any:
    """`payload.order.total` in the scope, or _MISSING."""
    value: Any = scope
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def holds(condition: Condition, scope: dict[str, Any]) -> bool:
    value = lookup(scope, condition.field)
    if condition.operator == "exists":
        return (value is not _MISSING and value is not None) == (condition.value is not False)
    if value is _MISSING:
        return condition.operator == "ne"
    if condition.operator == "eq":
        return bool(value == condition.value)
    if condition.operator == "ne":
        return bool(value != condition.value)
    if condition.operator == "in":
        return isinstance(condition.value, list) and value in condition.value
    try:
        return bool(value > condition.value) if condition.operator == "gt" else bool(value < condition.value)
    except TypeError:
        return False  # not comparable (a string against a number): the condition does not hold


def skip_reason(
    step: Step,
    workflow_id: str,
    subscriber: dict[str, Any],
    scope: dict[str, Any],
    only_channels: list[str] | None = None,
) -> str | None:
    """Why this step is skipped for this subscriber, or None to run it. `only_channels`: the
    trigger named the channels this recipient may be reached on (SuprSend's $channels)."""
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
            return f"condition not met: {condition.field} {condition.operator} {condition.value!r}"
    channel = step.type.value
    if channel not in PREFERENCE_CHANNELS:
        return None
    preferences = subscriber.get("preferences") or {}
    if (preferences.get("workflows") or {}).get(workflow_id, {}).get(channel) is False:
        return f"subscriber turned off {channel} for this workflow"
    if (preferences.get("channels") or {}).get(channel) is False:
        return f"subscriber turned off {channel}"
    return None

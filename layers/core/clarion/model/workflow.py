"""A workflow: the steps a trigger runs for each recipient. Requests are strict: a field that is
not read here is refused by name (model.strict)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from clarion.model.strict import StrictModel


class StepType(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    SMS = "sms"
    CHAT = "chat"
    PUSH = "push"
    WEBHOOK = "webhook"
    DELAY = "delay"
    DIGEST = "digest"


# Novu's operators (engine.conditions defines what each does); Clarion's short names are aliases.
OperatorName = Literal[
    "EQUAL",
    "NOT_EQUAL",
    "LARGER",
    "SMALLER",
    "LARGER_EQUAL",
    "SMALLER_EQUAL",
    "IN",
    "NOT_IN",
    "IS_DEFINED",
    "BETWEEN",
    "NOT_BETWEEN",
    "LIKE",
    "NOT_LIKE",
    "ALL_IN",
    "ANY_IN",
]
Operator = Literal[OperatorName, "eq", "ne", "gt", "lt", "gte", "lte", "in", "nin", "exists"]
ALIASES: dict[str, str] = {
    "eq": "EQUAL",
    "ne": "NOT_EQUAL",
    "gt": "LARGER",
    "lt": "SMALLER",
    "gte": "LARGER_EQUAL",
    "lte": "SMALLER_EQUAL",
    "in": "IN",
    "nin": "NOT_IN",
    "exists": "IS_DEFINED",
}
# What the engine reads from a delay's or a digest's content; other steps' content is the message.
TIMING_CONTENT: dict[str, tuple[str, ...]] = {
    "delay": ("amount", "unit", "until"),
    "digest": ("amount", "unit", "digestKey"),
}
# Content fields the channels read, for pointing a misplaced one to `content.<name>`.
MESSAGE_CONTENT = frozenset(
    {"subject", "body", "html", "text", "title", "from", "senderName", "replyTo", "blocks", "data"}
    | {"url", "secret", "headers", "cta", "avatar", "actor", "content"}
)


def listed(value: Any) -> list[Any] | None:
    """A list operand: a JSON list, or Novu's comma-separated text (`"a, b"`)."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part.strip() for part in value.split(",")]
    return None


class Condition(StrictModel):
    """A condition on what the step sees, or a group of them.

    A leaf: `field`, a dotted path into payload, subscriber, tenant or actor (`payload.plan`),
    `operator` (engine.conditions says what each does) and `value`. A group: `{"all": [...]}` holds
    when every member does, `{"any": [...]}` when one does (an empty group holds); `"not": true`
    inverts it. Groups nest."""

    model_config = StrictModel.model_config | {"frozen": True}

    field: str | None = Field(
        default=None, min_length=1, max_length=256, pattern=r"^(payload|subscriber|tenant|actor)(\.[^.]+)+$"
    )
    operator: Operator = "eq"
    value: Any = None
    all_of: list[Condition] | None = Field(default=None, alias="all", max_length=50)
    any_of: list[Condition] | None = Field(default=None, alias="any", max_length=50)
    negated: bool = Field(default=False, alias="not")

    @property
    def is_group(self) -> bool:
        return self.field is None

    @property
    def members(self) -> list[Condition]:
        return list(self.all_of if self.all_of is not None else self.any_of or [])

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        groups = (self.all_of is not None) + (self.any_of is not None)
        if self.field is None and groups != 1:
            raise ValueError("a condition has a field (and operator, value), or one of all / any")
        if self.field is not None and (groups or self.negated):
            raise ValueError("a condition with a field has no all / any / not: put it in a group")
        if self.field is None:
            return self
        operator = ALIASES.get(self.operator, self.operator)
        if operator in ("BETWEEN", "NOT_BETWEEN"):
            bounds = listed(self.value)
            if bounds is None or len(bounds) != 2:
                raise ValueError(f"value: {operator} needs [low, high] (or 'low,high')")
        elif operator in ("ALL_IN", "ANY_IN") and listed(self.value) is None:
            raise ValueError(f"value: {operator} needs a list (or comma-separated text)")
        elif operator in ("LIKE", "NOT_LIKE") and not isinstance(self.value, str):
            raise ValueError(f"value: {operator} needs a text pattern")
        return self

    @model_serializer(mode="wrap")
    def _only_its_kind(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        if self.field is not None:
            return {name: dumped[name] for name in ("field", "operator", "value") if name in dumped}
        kind = "all" if self.all_of is not None else "any"
        return {kind: dumped[kind], **({"not": True} if self.negated else {})}


class Step(StrictModel):
    model_config = StrictModel.model_config | {"frozen": True}

    step_id: str = Field(alias="stepId", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    type: StepType
    active: bool = True
    content: dict[str, Any] = Field(default_factory=dict)
    conditions: list[Condition] = Field(default_factory=list, max_length=50)
    on_failure: Literal["continue", "halt"] = Field(default="continue", alias="onFailure")

    @classmethod
    def misplaced(cls, name: str, data: dict[str, Any]) -> str | None:
        timing = TIMING_CONTENT.get(str(data.get("type")))
        if name in (timing or ()) or (timing is None and name in MESSAGE_CONTENT):
            return f"content.{name}"
        if name in ("filters", "filter"):
            return "conditions"
        return None

    @field_validator("content")
    @classmethod
    def _timing_content(cls, content: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """A delay's and a digest's content is what the engine reads, checked here; any other
        step's content is its message, read by its channel."""
        model = _TIMING_MODELS.get(str(info.data.get("type")))
        if model is not None:
            model.model_validate(content)
        return content


Amount = Annotated[float, Field(ge=0)] | Annotated[str, Field(min_length=1, max_length=512)]


class DigestContent(StrictModel):
    """`amount` (a number, or a template giving one) of `unit`; `digestKey` a path (`payload.postId`,
    or a bare payload field) whose value keeps a digest per value."""

    amount: Amount
    unit: Literal["seconds", "minutes", "hours", "days", "weeks", "months"]
    digest_key: str | None = Field(default=None, alias="digestKey", max_length=256)

    @field_validator("amount", mode="before")
    @classmethod
    def _not_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a number >= 0, or a template giving one")
        return value


class DelayContent(StrictModel):
    """Either `amount` of `unit`, or `until`: a date (ISO 8601), usually a template
    (`{{ payload.sendAt }}`, Novu's scheduled delay)."""

    amount: Amount | None = None
    unit: Literal["seconds", "minutes", "hours", "days", "weeks", "months"] | None = None
    until: str | None = Field(default=None, min_length=1, max_length=512)

    @field_validator("amount", mode="before")
    @classmethod
    def _not_bool(cls, value: Any) -> Any:
        return DigestContent._not_bool(value)

    @model_validator(mode="after")
    def _one_way(self) -> DelayContent:
        if self.until is not None:
            if self.amount is not None or self.unit is not None:
                raise ValueError("a delay has either until, or amount and unit")
        elif self.amount is None or self.unit is None:
            raise ValueError("a delay needs amount and unit (or until)")
        return self


_TIMING_MODELS: dict[str, type[StrictModel]] = {"delay": DelayContent, "digest": DigestContent}


class Workflow(StrictModel):
    """Clarion's workflow. Novu's v1 fields (`notificationGroupId`, `tags`, `description`, `data`)
    are kept and answered; `critical` ignores subscriber preferences; `preferenceSettings` are the
    workflow's channel defaults (a channel set false is off unless the subscriber turns it on)."""

    model_config = StrictModel.model_config | {"frozen": True}

    workflow_id: str = Field(alias="workflowId", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str = Field(default="", max_length=256)
    active: bool = True
    steps: list[Step] = Field(default_factory=list, max_length=50)
    trigger_id: int | None = Field(default=None, alias="triggerId")
    description: str | None = Field(default=None, max_length=2048)
    tags: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=50
    )
    data: dict[str, Any] | None = None
    notification_group_id: str | None = Field(default=None, alias="notificationGroupId", max_length=128)
    critical: bool = False
    preference_settings: dict[Literal["in_app", "email", "sms", "chat", "push"], bool] | None = Field(
        default=None, alias="preferenceSettings"
    )
    # SuprSend: a tracked event of this name starts the workflow (api.suprsend_events)
    trigger_event: str | None = Field(default=None, alias="triggerEvent", min_length=1, max_length=128)

    @field_validator("steps")
    @classmethod
    def _unique_step_ids(cls, steps: list[Step]) -> list[Step]:
        seen: set[str] = set()
        for step in steps:
            if step.step_id in seen:
                raise ValueError(f"stepId '{step.step_id}' is used by two steps")
            seen.add(step.step_id)
        return steps

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True) | {"triggerId": self.trigger_id}

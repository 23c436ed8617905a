"""A workflow: the steps a trigger runs for each recipient."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class StepType(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    SMS = "sms"
    CHAT = "chat"
    PUSH = "push"
    WEBHOOK = "webhook"
    DELAY = "delay"
    DIGEST = "digest"


class Condition(BaseModel):
    """`field` is a dotted path into payload, subscriber, tenant or actor: `payload.plan`."""

    model_config = ConfigDict(frozen=True)

    field: str = Field(min_length=1, max_length=256, pattern=r"^(payload|subscriber|tenant|actor)(\.[^.]+)+$")
    operator: Literal["eq", "ne", "in", "exists", "gt", "lt"] = "eq"
    value: Any = None


class Step(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    step_id: str = Field(alias="stepId", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    type: StepType
    active: bool = True
    content: dict[str, Any] = Field(default_factory=dict)
    conditions: list[Condition] = Field(default_factory=list)
    on_failure: Literal["continue", "halt"] = Field(default="continue", alias="onFailure")


class Workflow(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    workflow_id: str = Field(alias="workflowId", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str = Field(default="", max_length=256)
    active: bool = True
    steps: list[Step] = Field(default_factory=list, max_length=50)
    trigger_id: int | None = Field(default=None, alias="triggerId")
    # SuprSend: a tracked event of this name starts the workflow (api.suprsend_events)
    trigger_event: str | None = Field(default=None, alias="triggerEvent", min_length=1, max_length=128)

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

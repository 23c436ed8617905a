"""A workflow: the steps a trigger runs for each recipient."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

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


class Step(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    step_id: str = Field(alias="stepId", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    type: StepType
    active: bool = True
    content: dict[str, Any] = Field(default_factory=dict)
    conditions: list[dict[str, Any]] = Field(default_factory=list)


class Workflow(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    workflow_id: str = Field(alias="workflowId", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str = Field(default="", max_length=256)
    active: bool = True
    steps: list[Step] = Field(default_factory=list, max_length=50)
    trigger_id: int | None = Field(default=None, alias="triggerId")

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

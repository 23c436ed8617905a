"""Workflows: create, list, read, replace, delete; in Clarion's shape or Novu's v1 (converted by
dialects.novu_workflow)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field, PlainValidator, ValidationError, field_validator

from clarion.api.errors import BadRequestError, ConflictError, NotFoundError, field_errors
from clarion.api.paths import path_id
from clarion.dialects import novu_workflow
from clarion.dialects.novu_workflow import NovuStep
from clarion.model import Step, Workflow
from clarion.model.strict import StrictModel
from clarion.store import workflows

router = APIGatewayRouter()


def _either_shape(value: Any) -> Step | NovuStep:
    """A step in Clarion's shape, or in Novu's (it has a `template`)."""
    if isinstance(value, Step | NovuStep):
        return value
    if isinstance(value, dict) and "template" in value:
        return NovuStep.model_validate(value)
    return Step.model_validate(value)


StepInput = Annotated[Step | NovuStep, PlainValidator(_either_shape, json_schema_input_type=Step | NovuStep)]


class NovuTrigger(StrictModel):
    """Novu's `triggers` entry, as its GET answers carry it."""

    type: Literal["event"] = "event"
    identifier: str = Field(min_length=1, max_length=128)


class WorkflowChanges(StrictModel):
    """PUT body: the fields sent replace the stored ones; workflowId (or Novu's identifier), if
    sent, must be the path's; triggerId is Clarion's and kept (so a GET answer can be sent back as
    it is). Steps in Clarion's shape or Novu's."""

    workflow_id: str | None = Field(default=None, alias="workflowId")
    identifier: str | None = Field(default=None, max_length=128)
    triggers: list[NovuTrigger] | None = Field(default=None, max_length=1)
    trigger_id: int | None = Field(default=None, alias="triggerId")
    name: str | None = Field(default=None, max_length=256)
    active: bool | None = None
    draft: bool | None = None
    steps: list[StepInput] | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=2048)
    tags: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=50
    )
    data: dict[str, Any] | None = None
    notification_group_id: str | None = Field(default=None, alias="notificationGroupId", max_length=128)
    critical: bool | None = None
    preference_settings: dict[Literal["in_app", "email", "sms", "chat", "push"], bool] | None = Field(
        default=None, alias="preferenceSettings"
    )
    # SuprSend: a tracked event of this name starts the workflow (api.suprsend_events)
    trigger_event: str | None = Field(default=None, alias="triggerEvent", min_length=1, max_length=128)

    refused: ClassVar[dict[str, str]] = {
        "_id": "Novu's internal id; Clarion keeps its own ids: leave it out",
        "blueprintId": "blueprints are not supported",
    }

    @classmethod
    def misplaced(cls, name: str, data: dict[str, Any]) -> str | None:
        return "steps" if name in ("stepId", "template", "filters", "conditions") else None

    def ids_given(self) -> set[str]:
        return {
            i for i in (self.workflow_id, self.identifier, *(t.identifier for t in self.triggers or [])) if i
        }

    def active_given(self) -> bool | None:
        """`active`, or Novu's `draft` (a draft is not active); both, they must agree."""
        if self.draft is not None and self.active is not None and self.draft == self.active:
            raise _bad("active", "active and draft disagree: a draft is not active")
        return self.active if self.active is not None else None if self.draft is None else not self.draft

    def fields(self) -> dict[str, Any]:
        """The fields sent, in the workflow's API names (ids excluded), steps converted."""
        given = self.model_dump(
            by_alias=True,
            exclude_unset=True,
            exclude={"workflow_id", "identifier", "triggers", "trigger_id", "draft", "steps", "active"},
        )
        active = self.active_given()
        if active is not None:
            given["active"] = active
        if self.steps is not None:
            given["steps"] = [
                s.model_dump(mode="json", by_alias=True) for s in novu_workflow.to_steps(self.steps)
            ]
        return given


class WorkflowCreate(WorkflowChanges):
    """POST body: Clarion's `{workflowId, name, steps}`, or Novu's `{name, notificationGroupId,
    steps, ...}` whose id is its `identifier` (or `triggers[0].identifier`), else its name as
    Novu makes one (`Order shipped` -> `order-shipped`)."""

    @field_validator("trigger_id")
    @classmethod
    def _assigned_here(cls, trigger_id: int | None) -> int | None:
        if trigger_id is not None:
            raise ValueError("assigned by Clarion: leave it out")
        return trigger_id

    def to_workflow(self) -> Workflow:
        ids = self.ids_given()
        if len(ids) > 1:
            raise _bad("workflowId", f"workflowId, identifier and triggers name different ids: {sorted(ids)}")
        workflow_id = ids.pop() if ids else novu_workflow.slug(self.name or "")
        if not workflow_id:
            raise _bad("workflowId", "required (or Novu's identifier, or a name to make it from)")
        try:
            return Workflow.model_validate({"workflowId": workflow_id, **self.fields()})
        except ValidationError as error:
            raise BadRequestError("Validation failed", field_errors(error.errors())) from error


def _bad(field: str, message: str) -> BadRequestError:
    return BadRequestError(f"{field}: {message}", {field: {"messages": [message], "type": "value_error"}})


@router.post("/v1/workflows")
def create_workflow(body: WorkflowCreate) -> Response[dict[str, Any]]:
    workflow = body.to_workflow()
    try:
        stored = workflows.create(router.context["environment_id"], workflow)
    except workflows.WorkflowExistsError as error:
        raise ConflictError(f"workflowId: {error}") from error
    return Response(
        status_code=201, content_type=content_types.APPLICATION_JSON, body={"data": stored.to_api()}
    )


@router.get("/v1/workflows")
def list_workflows() -> dict[str, Any]:
    return {"data": [w.to_api() for w in workflows.list_all(router.context["environment_id"])]}


@router.get("/v1/workflows/<workflow_id>")
def get_workflow(workflow_id: str) -> dict[str, Any]:
    workflow_id = path_id(workflow_id, "workflowId")
    workflow = workflows.get(router.context["environment_id"], workflow_id, fresh=True)  # as stored now
    if workflow is None:
        raise NotFoundError(f"workflowId: workflow '{workflow_id}' not found")
    return {"data": workflow.to_api()}


@router.put("/v1/workflows/<workflow_id>")
def replace_workflow(workflow_id: str, changes: WorkflowChanges) -> dict[str, Any]:
    workflow_id = path_id(workflow_id, "workflowId")
    environment_id = router.context["environment_id"]
    if changes.ids_given() - {workflow_id}:
        raise BadRequestError(
            "workflowId: the body's workflowId must match the path (a workflow cannot be renamed)",
            {"workflowId": {"messages": ["must match the path"], "type": "value_error"}},
        )
    try:
        stored = workflows.update(environment_id, workflow_id, changes.fields())
    except ValidationError as error:  # the changes and the stored fields together (step ids unique)
        raise BadRequestError("Validation failed", field_errors(error.errors())) from error
    except workflows.WorkflowChangedError as error:
        raise ConflictError(f"workflowId: {error}") from error
    if stored is None:
        raise NotFoundError(f"workflowId: workflow '{workflow_id}' not found")
    return {"data": stored.to_api()}


@router.delete("/v1/workflows/<workflow_id>")
def delete_workflow(workflow_id: str) -> dict[str, Any]:
    workflow_id = path_id(workflow_id, "workflowId")
    if not workflows.delete(router.context["environment_id"], workflow_id):
        raise NotFoundError(f"workflowId: workflow '{workflow_id}' not found")
    return {"data": True}

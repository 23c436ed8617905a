"""Workflows: create, list, read, replace, delete."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field

from clarion.api.errors import BadRequestError, ConflictError, NotFoundError
from clarion.api.paths import path_id
from clarion.model import Step, Workflow
from clarion.store import workflows

router = APIGatewayRouter()


class WorkflowChanges(BaseModel):
    """PUT body: the fields sent replace the stored ones; triggerId is kept; workflowId, if sent,
    must be the one in the path."""

    model_config = ConfigDict(populate_by_name=True)

    workflow_id: str | None = Field(default=None, alias="workflowId")
    name: str | None = Field(default=None, max_length=256)
    active: bool | None = None
    steps: list[Step] | None = Field(default=None, max_length=50)
    trigger_event: str | None = Field(default=None, alias="triggerEvent", min_length=1, max_length=128)


@router.post("/v1/workflows")
def create_workflow(workflow: Workflow) -> Response[dict[str, Any]]:
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
    workflow = workflows.get(router.context["environment_id"], workflow_id)
    if workflow is None:
        raise NotFoundError(f"workflowId: workflow '{workflow_id}' not found")
    return {"data": workflow.to_api()}


@router.put("/v1/workflows/<workflow_id>")
def replace_workflow(workflow_id: str, changes: WorkflowChanges) -> dict[str, Any]:
    workflow_id = path_id(workflow_id, "workflowId")
    environment_id = router.context["environment_id"]
    if changes.workflow_id is not None and changes.workflow_id != workflow_id:
        raise BadRequestError(
            "workflowId: the body's workflowId must match the path (a workflow cannot be renamed)",
            {"workflowId": {"messages": ["must match the path"], "type": "value_error"}},
        )
    try:
        stored = workflows.update(
            environment_id,
            workflow_id,
            changes.model_dump(
                mode="json", by_alias=True, exclude_unset=True, exclude_none=True, exclude={"workflow_id"}
            ),
        )
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

"""Workflows: create, list, read."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.api.errors import ConflictError, NotFoundError
from clarion.model import Workflow
from clarion.store import workflows

router = APIGatewayRouter()


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
    workflow = workflows.get(router.context["environment_id"], workflow_id)
    if workflow is None:
        raise NotFoundError(f"workflowId: workflow '{workflow_id}' not found")
    return {"data": workflow.to_api()}

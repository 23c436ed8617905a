"""SuprSend's cancel: `POST /v1/workflow_run/cancel/` (docs.suprsend.com/reference/cancel-workflow)
with filters that are ANDed, answering 200 `{execution_ids: [...]}`, the runs in which pending
steps (delays, digests) were cancelled; `[]` when none matched.

A run is chosen by the `cancellation_key` its trigger carried (every such run), or by its
`execution_id` (the `message_id` its trigger was answered with); `workflow_slug` and
`recipients` (distinct_ids) narrow that. SuprSend also filters by `tenant_id` and
`idempotency_key` alone, which would need every pending run of the environment indexed by them;
here they are refused (400) rather than ignored."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clarion.api.body import MANAGEMENT_MAX_BYTES, parse_json
from clarion.dialects import suprsend
from clarion.engine.cancel import cancel_by_key, cancel_pending
from clarion.model.identifiers import SubscriberId, WorkflowName
from clarion.model.refusal import VALIDATION_ERROR, field_messages

router = APIGatewayRouter()
PATH = "/v1/workflow_run/cancel"
_UNSUPPORTED = "cancelling by {} is not supported here; give cancellation_key or execution_id"


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cancellation_key: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    execution_id: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    workflow_slug: WorkflowName | None = None
    recipients: Annotated[list[SubscriberId], Field(min_length=1, max_length=100)] | None = None
    tenant_id: Any = None
    idempotency_key: Any = None

    def refusal(self) -> str | None:
        for name in ("tenant_id", "idempotency_key"):
            if getattr(self, name) is not None:
                return f"{name}: {_UNSUPPORTED.format(name)}"
        if self.cancellation_key is None and self.execution_id is None:
            return "body: give cancellation_key or execution_id (workflow_slug and recipients narrow them)"
        return None


def _answer(status_code: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status_code, content_type=content_types.APPLICATION_JSON, body=body)


@router.post(PATH)
def cancel() -> Response[dict[str, Any]]:
    try:
        body = parse_json(router.current_event.decoded_body or "", limit=MANAGEMENT_MAX_BYTES)
        request = CancelRequest.model_validate(body)
    except json.JSONDecodeError as error:
        return _answer(400, suprsend.failure(f"body: not valid JSON ({error.msg})", "bad_request"))
    except ValidationError as error:
        message = field_messages(error.errors(include_url=False, include_input=False))
        return _answer(400, suprsend.failure(message, VALIDATION_ERROR))
    refusal = request.refusal()
    if refusal is not None:
        return _answer(400, suprsend.failure(refusal, VALIDATION_ERROR))
    environment_id: str = router.context["environment_id"]
    recipients = set(request.recipients) if request.recipients else None
    if request.cancellation_key is not None:
        cancelled = cancel_by_key(
            environment_id, request.cancellation_key, request.workflow_slug, recipients, request.execution_id
        )
    else:
        assert request.execution_id is not None
        found = cancel_pending(environment_id, request.execution_id, request.workflow_slug, recipients)
        cancelled = [request.execution_id] if found else []
    return _answer(200, {"execution_ids": cancelled})

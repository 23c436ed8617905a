"""Messages and execution details: both read the transaction's step items (store.messages)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.api.errors import BadRequestError
from clarion.store import messages

router = APIGatewayRouter()

_NOT_MESSAGES = {"delay", "digest"}
IdQuery = Annotated[str | None, Query(min_length=1, max_length=256)]


@router.get("/v1/messages")
def list_messages(
    transactionId: IdQuery = None,
    subscriberId: IdQuery = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    """By transaction (every channel), or by subscriber (in-app messages, newest first)."""
    environment_id = router.context["environment_id"]
    if transactionId:
        rows = [
            m
            for m in messages.for_transaction(environment_id, transactionId)
            if m["channel"] not in _NOT_MESSAGES
        ]
        rows = [m for m in rows if (not subscriberId or m["subscriberId"] == subscriberId)]
    elif subscriberId:
        rows = messages.feed(environment_id, subscriberId, limit)
    else:
        raise BadRequestError(
            "transactionId or subscriberId is required", {"transactionId": {"messages": ["required"]}}
        )
    rows = [m for m in rows if not channel or m["channel"] == channel]
    return {"data": rows[:limit]}


@router.get("/v1/execution-details")
def execution_details(transactionId: Annotated[str, Query(min_length=1, max_length=256)]) -> dict[str, Any]:
    """One row per step per recipient: what ran, when, why it was skipped or failed."""
    rows = messages.for_transaction(router.context["environment_id"], transactionId)
    return {
        "data": [
            {
                name: row.get(name)
                for name in (
                    "transactionId",
                    "subscriberId",
                    "stepId",
                    "channel",
                    "status",
                    "detail",
                    "provider",
                    "createdAt",
                    "sentAt",
                    "resumeAt",
                )
            }
            for row in rows
        ]
    }

"""Messages and execution details: both read the transaction's step items (store.messages),
page by page: `next` (and `hasMore`) while more follow."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.api.errors import BadRequestError
from clarion.store import messages, paging

router = APIGatewayRouter()

_NOT_MESSAGES = {"delay", "digest"}
IdQuery = Annotated[str | None, Query(min_length=1, max_length=256)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=8000)]
_DETAIL_FIELDS = (
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


def _page(rows: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    return {"data": rows, "hasMore": next_cursor is not None, "next": next_cursor}


def _bad_cursor(error: paging.BadCursorError) -> BadRequestError:
    return BadRequestError(f"cursor: {error}", {"cursor": {"messages": [str(error)], "type": "bad_cursor"}})


@router.get("/v1/messages")
def list_messages(
    transactionId: IdQuery = None,
    subscriberId: IdQuery = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """By transaction (every channel, delivered or not), or by subscriber (delivered in-app
    messages, newest first)."""
    environment_id = router.context["environment_id"]
    try:
        if transactionId:
            return _page(
                *messages.transaction_page(
                    environment_id,
                    transactionId,
                    limit,
                    cursor,
                    subscriber_id=subscriberId,
                    keep=lambda m: (
                        m["channel"] not in _NOT_MESSAGES and (not channel or m["channel"] == channel)
                    ),
                )
            )
        if subscriberId:
            if channel and channel != messages.IN_APP:
                return _page([], None)  # the subscriber's listing holds in-app messages only
            return _page(*messages.feed(environment_id, subscriberId, limit, cursor))
    except paging.BadCursorError as error:
        raise _bad_cursor(error) from error
    raise BadRequestError(
        "transactionId or subscriberId is required", {"transactionId": {"messages": ["required"]}}
    )


@router.get("/v1/execution-details")
def execution_details(
    transactionId: Annotated[str, Query(min_length=1, max_length=256)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """One row per step per recipient: what ran, when, why it was skipped or failed."""
    try:
        rows, next_cursor = messages.transaction_page(
            router.context["environment_id"], transactionId, limit, cursor
        )
    except paging.BadCursorError as error:
        raise _bad_cursor(error) from error
    return _page([{name: row.get(name) for name in _DETAIL_FIELDS} for row in rows], next_cursor)

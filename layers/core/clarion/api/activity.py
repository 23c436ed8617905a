"""What Sequenzy's bulk events route records, read back in Novu's envelope: the environment's
event definitions (`GET /v1/event-definitions`, by name) and a subscriber's events
(`GET /v1/subscribers/{subscriberId}/events`, newest first), each paged: `next` (and `hasMore`)
while more follow. A subscriber that does not exist is a 404; one without events an empty page."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.api.errors import BadRequestError, NotFoundError
from clarion.api.paths import path_id
from clarion.store import event_definitions, paging, subscriber_events, subscribers

router = APIGatewayRouter()
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]


def _page(rows: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    return {"data": rows, "hasMore": next_cursor is not None, "next": next_cursor}


def _bad_cursor(error: paging.BadCursorError) -> BadRequestError:
    return BadRequestError(f"cursor: {error}", {"cursor": {"messages": [str(error)], "type": "bad_cursor"}})


@router.get("/v1/event-definitions")
def list_event_definitions(limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
    try:
        return _page(*event_definitions.page(router.context["environment_id"], limit, cursor))
    except paging.BadCursorError as error:
        raise _bad_cursor(error) from error


@router.get("/v1/subscribers/<subscriber_id>/events")
def list_subscriber_events(subscriber_id: str, limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
    environment_id = router.context["environment_id"]
    subscriber_id = path_id(subscriber_id, "subscriberId")
    try:
        rows, next_cursor = subscriber_events.page(environment_id, subscriber_id, limit, cursor)
    except paging.BadCursorError as error:
        raise _bad_cursor(error) from error
    if not rows and cursor is None and subscribers.get(environment_id, subscriber_id) is None:
        raise NotFoundError(f"subscriberId: '{subscriber_id}' not found")
    return _page(rows, next_cursor)

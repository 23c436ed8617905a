"""Status of a bulk and its records."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.api.errors import BadRequestError, NotFoundError
from clarion.results.status import bulk_view
from clarion.store import bulks

router = APIGatewayRouter()


@router.get("/v1/events/trigger/bulk/<bulk_id>")
def bulk_status(bulk_id: str) -> dict[str, Any]:
    header = bulks.get(router.context["environment_id"], bulk_id)
    if header is None:
        raise NotFoundError(f"bulkId: bulk '{bulk_id}' not found")
    return {"data": bulk_view(bulk_id, header)}


@router.get("/v1/events/trigger/bulk/<bulk_id>/records")
def bulk_records(
    bulk_id: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    environment_id = router.context["environment_id"]
    if bulks.get(environment_id, bulk_id) is None:
        raise NotFoundError(f"bulkId: bulk '{bulk_id}' not found")
    try:
        rows, next_cursor = bulks.records(environment_id, bulk_id, limit, cursor)
    except bulks.BadCursorError as error:
        raise BadRequestError(f"cursor: {error}") from error
    return {"data": rows, "next": next_cursor}

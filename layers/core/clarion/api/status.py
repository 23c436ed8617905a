"""Status of a bulk, its records, and one trigger."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.api.errors import BadRequestError, NotFoundError
from clarion.engine.cancel import cancel_pending
from clarion.ids import parse_generated_transaction_id
from clarion.model import RecordStatus
from clarion.results.status import bulk_view, transaction_view
from clarion.store import bulks, messages, transactions

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
    status: Annotated[RecordStatus | None, Query()] = None,
) -> dict[str, Any]:
    environment_id = router.context["environment_id"]
    if bulks.get(environment_id, bulk_id) is None:
        raise NotFoundError(f"bulkId: bulk '{bulk_id}' not found")
    try:
        rows, next_cursor = bulks.records(
            environment_id, bulk_id, limit, cursor, status.value if status else None
        )
    except bulks.BadCursorError as error:
        raise BadRequestError(f"cursor: {error}") from error
    return {"data": rows, "next": next_cursor}


def _claim(environment_id: str, transaction_id: str) -> dict[str, Any]:
    """Where a transaction's record lives: from its generated id, or from the caller id's claim."""
    generated = parse_generated_transaction_id(transaction_id)
    if generated:
        bulk_id, index = generated
        header = bulks.get(environment_id, bulk_id)
        if header is None or index >= header["total"]:
            raise NotFoundError(f"transactionId: trigger '{transaction_id}' not found")
        claim = {
            "transactionId": transaction_id,
            "bulkId": bulk_id,
            "index": index,
            "createdAt": header["createdAt"],
        }
    else:
        found = transactions.get(environment_id, transaction_id)
        if found is None:
            raise NotFoundError(f"transactionId: trigger '{transaction_id}' not found")
        claim = found
    return claim


@router.get("/v1/events/trigger/<transaction_id>")
def transaction_status(transaction_id: str) -> dict[str, Any]:
    environment_id = router.context["environment_id"]
    claim = _claim(environment_id, transaction_id)
    row = bulks.record(environment_id, claim["bulkId"], claim["index"])
    return {"data": transaction_view(claim, row, messages.for_transaction(environment_id, transaction_id))}


@router.delete("/v1/events/trigger/<transaction_id>")
def cancel(transaction_id: str) -> dict[str, Any]:
    """Cancel the transaction's pending delays for every recipient (Novu: `{"data": true}`)."""
    environment_id = router.context["environment_id"]
    _claim(environment_id, transaction_id)
    return {"data": cancel_pending(environment_id, transaction_id) > 0}

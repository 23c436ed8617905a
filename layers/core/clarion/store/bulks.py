"""A bulk's header (total, counters per status) and one row per record, in request order.

Counting is idempotent: the header holds the set of record indexes already counted, and one
UpdateItem per bulk and batch ADDs to the counters and to that set on condition that none of
its indexes is in it yet. A duplicate outcome makes the condition fail; the indexes already
counted (returned with the failure) are dropped and the rest counted. Rows are written first
with BatchWriteItem: rewriting a row with the same outcome changes nothing."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.model import RecordOutcome, RecordStatus, Verdict
from clarion.store import batches, items, keys, paging

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

COUNT_PREFIX = "count_"
_WORKER_STATUSES = {RecordStatus.QUEUED, RecordStatus.COMPLETED, RecordStatus.FAILED}


def _ttl_attributes(expires_at: int) -> dict[str, int]:
    return {"expiresAt": expires_at}


def record_row(environment_id: str, outcome: RecordOutcome | Verdict, expires_at: int) -> dict[str, Any]:
    return items.item(
        keys.bulk_record(environment_id, outcome.bulk_id, outcome.index),
        {
            "index": outcome.index,
            "transactionId": outcome.transaction_id,
            "workflowId": outcome.workflow_id,
            "status": outcome.status.value,
            "error": outcome.error,
        },
        status=outcome.status.value,
        **_ttl_attributes(expires_at),
    )


def create(
    environment_id: str,
    bulk_id: str,
    total: int,
    created_at: str,
    expires_at: int,
    refused: list[Verdict],
    client: DynamoDBClient | None = None,
) -> None:
    """The bulk header, refused records already counted, and their rows.

    The header is an UpdateItem, not a Put: the records are already on the queue, and an
    outcome counted before this write must not be overwritten. The API's own statuses are SET,
    not ADDed (the worker's are never among them): a retried request (same Idempotency-Key,
    same bulk) writes the same header again instead of counting its refusals twice.
    """
    client = client or aws.dynamodb()
    table = settings().table_name
    counts = {status.value: 0 for status in RecordStatus if status not in _WORKER_STATUSES}
    for outcome in refused:
        counts[outcome.status.value] += 1
    names = {f"#c{i}": f"{COUNT_PREFIX}{status}" for i, status in enumerate(counts)} | {"#total": "total"}
    values: dict[str, Any] = {f":c{i}": items.n(count) for i, count in enumerate(counts.values())}
    values |= {":total": items.n(total), ":created": items.s(created_at), ":expires": items.n(expires_at)}
    sets = ", ".join(f"#c{i} = :c{i}" for i in range(len(counts)))
    client.update_item(
        TableName=table,
        Key=items.key(keys.bulk(environment_id, bulk_id)),
        UpdateExpression=f"SET #total = :total, createdAt = if_not_exists(createdAt, :created), "
        f"expiresAt = :expires, {sets}",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )
    writes: list[Any] = [{"PutRequest": {"Item": record_row(environment_id, o, expires_at)}} for o in refused]
    batches.write(client, table, writes)


def record_outcomes(
    environment_id: str,
    bulk_id: str,
    outcomes: list[RecordOutcome],
    now: str,
    expires_at: int,
    client: DynamoDBClient | None = None,
    rows_written: bool = False,
) -> int:
    """Write rows (unless the caller wrote them, batched across bulks) and count outcomes of one
    bulk exactly once; returns how many were new."""
    client = client or aws.dynamodb()
    table = settings().table_name
    pending = {outcome.index: outcome for outcome in outcomes}
    if not rows_written:
        rows: list[Any] = [
            {"PutRequest": {"Item": record_row(environment_id, o, expires_at)}} for o in pending.values()
        ]
        batches.write(client, table, rows)
    while pending:
        try:
            client.update_item(**_count(table, environment_id, bulk_id, list(pending.values()), now))
        except client.exceptions.ConditionalCheckFailedException as error:
            old: Any = error.response.get("Item") or {}
            counted = {int(i) for i in old.get(COUNTED, {}).get("NS", [])}
            if not counted & set(pending):
                raise  # not a duplicate: something else is wrong
            pending = {i: o for i, o in pending.items() if i not in counted}
            continue
        break
    return len(pending)


COUNTED = "counted"


def _count(table: str, environment_id: str, bulk_id: str, chunk: list[RecordOutcome], now: str) -> Any:
    counts: dict[str, int] = {}
    for outcome in chunk:
        counts[outcome.status.value] = counts.get(outcome.status.value, 0) + 1
    names = {f"#c{i}": f"{COUNT_PREFIX}{status}" for i, status in enumerate(counts)} | {"#counted": COUNTED}
    values: dict[str, Any] = {f":c{i}": items.n(count) for i, count in enumerate(counts.values())}
    values |= {f":i{o.index}": items.n(o.index) for o in chunk}
    values |= {":now": items.s(now), ":indexes": {"NS": [str(o.index) for o in chunk]}}
    adds = ", ".join(f"#c{i} :c{i}" for i in range(len(counts)))
    return {
        "TableName": table,
        "Key": items.key(keys.bulk(environment_id, bulk_id)),
        "UpdateExpression": f"ADD {adds}, #counted :indexes SET startedAt = if_not_exists(startedAt, :now), updatedAt = :now",
        "ConditionExpression": " AND ".join(f"NOT contains(#counted, :i{o.index})" for o in chunk),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def get(environment_id: str, bulk_id: str, client: DynamoDBClient | None = None) -> dict[str, Any] | None:
    """The header as plain values: total, counts, timestamps."""
    client = client or aws.dynamodb()
    raw = client.get_item(
        TableName=settings().table_name,
        Key=items.key(keys.bulk(environment_id, bulk_id)),
        ConsistentRead=True,
    ).get("Item")
    if raw is None or "total" not in raw:
        return None
    return {
        "total": items.number(raw, "total"),
        "counts": {
            name[len(COUNT_PREFIX) :]: int(value["N"])
            for name, value in raw.items()
            if name.startswith(COUNT_PREFIX) and value["N"] != "0"
        },
        "createdAt": items.string(raw, "createdAt"),
        "startedAt": items.string(raw, "startedAt"),
        "updatedAt": items.string(raw, "updatedAt"),
    }


def record(
    environment_id: str, bulk_id: str, index: int, client: DynamoDBClient | None = None
) -> dict[str, Any] | None:
    """One record's row (with its recipients' step outcomes), or None while it is pending."""
    client = client or aws.dynamodb()
    raw = client.get_item(
        TableName=settings().table_name, Key=items.key(keys.bulk_record(environment_id, bulk_id, index))
    ).get("Item")
    return items.doc(raw) if raw else None


def records(
    environment_id: str,
    bulk_id: str,
    limit: int,
    cursor: str | None = None,
    status: str | None = None,
    client: DynamoDBClient | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Record rows in request order, optionally only those in one status, and the next page's
    opaque cursor (None at the end). A status filter may skip many rows: reading goes on until
    the page is full or the bulk ends, so a short page never hides rows after it."""
    client = client or aws.dynamodb()
    key = keys.bulk_record(environment_id, bulk_id, 0)
    query: Any = {
        "TableName": settings().table_name,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :rec)",
        "ExpressionAttributeValues": {":pk": items.s(key["pk"]), ":rec": items.s("REC#")},
        "ConsistentRead": True,
    }
    if status:
        query["FilterExpression"] = "#status = :status"
        query["ExpressionAttributeNames"] = {"#status": "status"}
        query["ExpressionAttributeValues"][":status"] = items.s(status)
    start = dict(keys.bulk_record(environment_id, bulk_id, decode_cursor(cursor))) if cursor else None
    found, more = paging.query_page(client, query, limit, start)
    rows = [_public_row(items.doc(raw)) for raw in found]
    return rows, encode_cursor(rows[-1]["index"]) if more and rows else None


def _public_row(row: dict[str, Any]) -> dict[str, Any]:
    """A record as the records listing shows it (step outcomes live on the transaction view)."""
    return {name: row.get(name) for name in ("index", "transactionId", "status", "error")}


class BadCursorError(ValueError):
    pass


def encode_cursor(index: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": index}).encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The index a cursor resumes after; anything else is a BadCursorError, never a 5xx."""
    try:
        index = json.loads(base64.urlsafe_b64decode(cursor.encode()))["after"]
    except (ValueError, TypeError, KeyError) as error:
        raise BadCursorError("cursor is not one this API returned") from error
    if not isinstance(index, int) or not 0 <= index < 100_000:
        raise BadCursorError("cursor is not one this API returned")
    return index

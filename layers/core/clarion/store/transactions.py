"""transactionId, claimed once per environment. The claim is a conditional write inside one
TransactWriteItems per 100 records, never a read-then-write; it also maps the transaction to
its bulk and record index, for the status endpoint and cancel.

A claim given a lifetime (SuprSend's `$idempotency_key`: 24 h) holds `claimedUntil`; after it,
the id may be claimed again by a new trigger, while the claim item itself lives as long as the
bulk's status (TTL `expiresAt`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.model import TriggerRecord
from clarion.store import batches, items, keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_MAX_TRANSACTION_ITEMS = 100


def claim(
    records: list[TriggerRecord],
    expires_at: int,
    client: DynamoDBClient | None = None,
    *,
    now: int = 0,
    claimed_until: int | None = None,
) -> tuple[list[TriggerRecord], list[TriggerRecord]]:
    """(claimed, already used). A transactionId repeated inside the request counts as used. With
    `claimed_until`, the claims lapse then: a claim that lapsed before `now` is taken over."""
    client = client or aws.dynamodb()
    seen: set[str] = set()
    fresh: list[TriggerRecord] = []
    used: list[TriggerRecord] = []
    for record in records:
        (used if record.transaction_id in seen else fresh).append(record)
        seen.add(record.transaction_id)
    claimed: list[TriggerRecord] = []
    for start in range(0, len(fresh), _MAX_TRANSACTION_ITEMS):
        chunk = fresh[start : start + _MAX_TRANSACTION_ITEMS]
        while chunk:
            try:
                client.transact_write_items(
                    TransactItems=[_claim(r, expires_at, now, claimed_until) for r in chunk]
                )
            except client.exceptions.TransactionCanceledException as error:
                reasons = error.response.get("CancellationReasons", [])
                taken = {i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"}
                if not taken:
                    raise
                # Claimed before by this very record (a retried request, same bulk): still ours.
                ours = {i for i in taken if _claimed_by(reasons[i].get("Item"), chunk[i])}
                claimed += [r for i, r in enumerate(chunk) if i in ours]
                used += [r for i, r in enumerate(chunk) if i in taken - ours]
                chunk = [r for i, r in enumerate(chunk) if i not in taken]
                continue
            claimed += chunk
            break
    return claimed, used


def release(records: list[TriggerRecord], client: DynamoDBClient | None = None) -> None:
    """Give back claims of records that were never enqueued, so a retry may use the id."""
    client = client or aws.dynamodb()
    table = settings().table_name
    deletes: list[Any] = [
        {"DeleteRequest": {"Key": items.key(keys.transaction(r.environment_id, r.transaction_id))}}
        for r in records
    ]
    batches.write(client, table, deletes)


def get(
    environment_id: str, transaction_id: str, client: DynamoDBClient | None = None
) -> dict[str, Any] | None:
    """The claim: {transactionId, bulkId, index, workflowId, createdAt}, or None."""
    client = client or aws.dynamodb()
    raw = client.get_item(
        TableName=settings().table_name, Key=items.key(keys.transaction(environment_id, transaction_id))
    ).get("Item")
    return items.doc(raw) if raw else None


def _claim(
    record: TriggerRecord, expires_at: int, now: int, claimed_until: int | None
) -> TransactWriteItemTypeDef:
    doc = {
        "transactionId": record.transaction_id,
        "bulkId": record.bulk_id,
        "index": record.index,
        "workflowId": record.workflow_id,
        "createdAt": record.accepted_at,
    }
    return {
        "Put": {
            "TableName": settings().table_name,
            "Item": items.item(
                keys.transaction(record.environment_id, record.transaction_id),
                doc,
                expiresAt=expires_at,
                **({} if claimed_until is None else {"claimedUntil": claimed_until}),
            ),
            "ConditionExpression": "attribute_not_exists(pk) OR claimedUntil < :now",
            "ExpressionAttributeValues": {":now": items.n(now)},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def _claimed_by(item: Any, record: TriggerRecord) -> bool:
    if not item or "doc" not in item:
        return False
    claim = items.doc(item)
    return bool(claim.get("bulkId") == record.bulk_id and claim.get("index") == record.index)

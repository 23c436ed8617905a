"""Which transactions carried a cancellation key (SuprSend's `cancellation_key`): one pointer item
per accepted trigger that named one, `ENV#<env>#CANCEL#<key>` / `TX#<transactionId>`, written in
one BatchWriteItem per 25 when the triggers are accepted and kept as long as their bulk status
(TTL). A cancel reads the key's partition (store.keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.clock import expires_in_days
from clarion.config import settings
from clarion.model import TriggerRecord
from clarion.store import batches, items, keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def remember(records: list[TriggerRecord], client: DynamoDBClient | None = None) -> None:
    """Point each record's cancellation key at its transaction (records without one are skipped)."""
    keyed = [r for r in records if r.cancellation_key]
    if not keyed:
        return
    expires_at = expires_in_days(settings().status_ttl_days)
    writes: list[Any] = [
        {
            "PutRequest": {
                "Item": items.item(
                    keys.cancellation(r.environment_id, str(r.cancellation_key), r.transaction_id),
                    {
                        "transactionId": r.transaction_id,
                        "workflowId": r.workflow_id,
                        "createdAt": r.accepted_at,
                    },
                    expiresAt=expires_at,
                )
            }
        }
        for r in keyed
    ]
    batches.write(client or aws.dynamodb(), settings().table_name, writes)


def transactions(
    environment_id: str, cancellation_key: str, client: DynamoDBClient | None = None
) -> list[dict[str, Any]]:
    """`{transactionId, workflowId, createdAt}` of every trigger that carried the key, oldest
    transactionId first (the partition, paged through)."""
    client = client or aws.dynamodb()
    found: list[dict[str, Any]] = []
    for page in client.get_paginator("query").paginate(
        TableName=settings().table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={
            ":pk": items.s(keys.cancellation(environment_id, cancellation_key, "")["pk"])
        },
    ):
        found += [items.doc(raw) for raw in page["Items"]]
    return found

"""Messages. The message item is also the exactly-once claim for its (transaction, recipient,
step): it is written with attribute_not_exists before anything is sent, so a redelivered
record finds it and sends nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.store import items, keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def claim(
    environment_id: str,
    transaction_id: str,
    subscriber_id: str,
    step_id: str,
    message: dict[str, Any],
    client: DynamoDBClient | None = None,
) -> bool:
    """Write the message if it does not exist yet. False: it was claimed before (a redelivery)."""
    client = client or aws.dynamodb()
    try:
        client.put_item(
            TableName=settings().table_name,
            Item=items.item(
                keys.message(environment_id, transaction_id, subscriber_id, step_id),
                message,
                gsi1pk=keys.feed(environment_id, subscriber_id),
                gsi1sk=f"{message['createdAt']}#{transaction_id}#{step_id}",
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def feed(
    environment_id: str, subscriber_id: str, limit: int = 50, client: DynamoDBClient | None = None
) -> list[dict[str, Any]]:
    """The subscriber's messages, newest first."""
    client = client or aws.dynamodb()
    answer = client.query(
        TableName=settings().table_name,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": items.s(keys.feed(environment_id, subscriber_id))},
        ScanIndexForward=False,
        Limit=limit,
    )
    return [items.doc(raw) for raw in answer["Items"]]

"""Step items: one per (transaction, recipient, step), in the transaction's partition. The item is
the exactly-once claim: it is written with attribute_not_exists before any side effect, so a
redelivered record finds it and sends nothing. It is also the message (in-app content, provider
ids), the execution detail (status, reason) and, for a delay, the pending continuation that
resume and cancel race for with conditional updates.

Statuses: sent | failed | skipped | sending (claimed, provider not yet answered) |
pending (a delay or digest waiting) | resumed | cancelled | digested (joined another
run's digest window)."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.store import items, keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

IN_APP = "in_app"


def claim(
    environment_id: str,
    transaction_id: str,
    subscriber_id: str,
    step_id: str,
    message: dict[str, Any],
    client: DynamoDBClient | None = None,
) -> dict[str, Any] | None:
    """Write the step item if it does not exist. None when claimed now; else the existing item."""
    client = client or aws.dynamodb()
    attributes: dict[str, Any] = {"status": message["status"]}
    if message.get("channel") == IN_APP:  # the feed index holds in-app messages only
        attributes |= {
            "gsi1pk": keys.feed(environment_id, subscriber_id),
            "gsi1sk": f"{message['createdAt']}#{transaction_id}#{step_id}",
        }
    try:
        client.put_item(
            TableName=settings().table_name,
            Item=items.item(
                keys.message(environment_id, transaction_id, subscriber_id, step_id), message, **attributes
            ),
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except client.exceptions.ConditionalCheckFailedException as error:
        old: Any = error.response.get("Item")
        return items.doc(old) if old else {"status": "unknown"}
    return None


def settle(
    environment_id: str,
    transaction_id: str,
    subscriber_id: str,
    step_id: str,
    message: dict[str, Any],
    expected_status: str,
    client: DynamoDBClient | None = None,
) -> bool:
    """Move a step item from expected_status to message['status']; False if it was not in it."""
    client = client or aws.dynamodb()
    try:
        client.update_item(
            TableName=settings().table_name,
            Key=items.key(keys.message(environment_id, transaction_id, subscriber_id, step_id)),
            UpdateExpression="SET #doc = :doc, #status = :status",
            ConditionExpression="#status = :expected",
            ExpressionAttributeNames={"#doc": "doc", "#status": "status"},
            ExpressionAttributeValues={
                ":doc": items.json_value(message),
                ":status": items.s(message["status"]),
                ":expected": items.s(expected_status),
            },
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def for_transaction(
    environment_id: str, transaction_id: str, client: DynamoDBClient | None = None
) -> list[dict[str, Any]]:
    """Every step item of a transaction (one partition, paged through)."""
    client = client or aws.dynamodb()
    paginator = client.get_paginator("query")
    found: list[dict[str, Any]] = []
    for page in paginator.paginate(
        TableName=settings().table_name,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :msg)",
        ExpressionAttributeValues={
            ":pk": items.s(keys.message(environment_id, transaction_id, "", "")["pk"]),
            ":msg": items.s("MSG#"),
        },
    ):
        found += [items.doc(raw) for raw in page["Items"]]
    return found


def feed(
    environment_id: str, subscriber_id: str, limit: int = 50, client: DynamoDBClient | None = None
) -> list[dict[str, Any]]:
    """The subscriber's in-app messages, newest first."""
    client = client or aws.dynamodb()
    answer = client.query(
        TableName=settings().table_name,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": items.s(keys.feed(environment_id, subscriber_id))},
        ScanIndexForward=False,
        Limit=limit,
    )
    return [_in_app(raw) for raw in answer["Items"]]


def message_id(transaction_id: str, step_id: str) -> str:
    """An in-app message's id in the feed: its transaction and step, opaque to callers."""
    return base64.urlsafe_b64encode(json.dumps([transaction_id, step_id]).encode()).decode().rstrip("=")


def parse_message_id(value: str) -> tuple[str, str] | None:
    try:
        transaction_id, step_id = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, TypeError):
        return None
    return (transaction_id, step_id) if isinstance(transaction_id, str) and isinstance(step_id, str) else None


def mark(
    environment_id: str,
    subscriber_id: str,
    message: str,
    read: bool | None,
    seen: bool | None,
    client: DynamoDBClient | None = None,
) -> bool:
    """Set read/seen on one of the subscriber's in-app messages; False if there is no such message."""
    found = parse_message_id(message)
    if found is None or (read is None and seen is None):
        return False
    client = client or aws.dynamodb()
    flags = {name: value for name, value in (("isRead", read), ("isSeen", seen)) if value is not None}
    try:
        client.update_item(
            TableName=settings().table_name,
            Key=items.key(keys.message(environment_id, found[0], subscriber_id, found[1])),
            UpdateExpression="SET " + ", ".join(f"{name} = :{name}" for name in flags),
            ConditionExpression="attribute_exists(pk) AND gsi1pk = :feed",
            ExpressionAttributeValues={f":{name}": {"BOOL": value} for name, value in flags.items()}
            | {":feed": items.s(keys.feed(environment_id, subscriber_id))},
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def _in_app(raw: dict[str, Any]) -> dict[str, Any]:
    """A feed item: the stored message with its id and its current read/seen flags."""
    message: dict[str, Any] = items.doc(raw)
    message["id"] = message_id(message["transactionId"], message["stepId"])
    message["read"] = raw.get("isRead", {}).get("BOOL", message.get("read", False))
    message["seen"] = raw.get("isSeen", {}).get("BOOL", message.get("seen", False))
    return message

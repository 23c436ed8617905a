"""Which subscriber an email address belongs to, for Sequenzy's lookup by email: one small item
per (environment, normalized email), never a scan.

| access pattern                    | pk                                 | sk    |
|-----------------------------------|------------------------------------|-------|
| email -> subscriberId             | ENV#<env>#SUBEMAIL#<lowercased email> | EMAIL |

An address is claimed with a conditional PutItem (free, or already this subscriber's), so two
subscribers never share one and two requests racing to create one agree on it. Written by the
Sequenzy route for the subscribers it stores (subscribers created by other routes are found by
their id, or by email once a Sequenzy request has named them with both)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.store import items, keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def entry_key(environment_id: str, email: str) -> keys.Key:
    return {"pk": f"ENV#{environment_id}#SUBEMAIL#{email.strip().lower()}", "sk": "EMAIL"}


def owner_of(entry: dict[str, Any] | None) -> str | None:
    """The subscriberId a raw entry names, or None (the entry is read with the request's other
    items: store.sequenzy_reads)."""
    return items.string(entry, "subscriberId") if entry else None


def claim(
    environment_id: str, email: str, subscriber_id: str, client: DynamoDBClient | None = None
) -> str | None:
    """Give the address to the subscriber unless another has it; returns that other's id, or None."""
    client = client or aws.dynamodb()
    try:
        client.put_item(
            TableName=settings().table_name,
            Item=items.item(entry_key(environment_id, email), subscriberId=subscriber_id),
            ConditionExpression="attribute_not_exists(pk) OR subscriberId = :me",
            ExpressionAttributeValues={":me": items.s(subscriber_id)},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except client.exceptions.ConditionalCheckFailedException as error:
        old: Any = error.response.get("Item") or {}
        return items.string(old, "subscriberId") or "another subscriber"
    return None


def release(
    environment_id: str, email: str, subscriber_id: str, client: DynamoDBClient | None = None
) -> None:
    """Drop the address's entry if it is still this subscriber's (its address changed)."""
    client = client or aws.dynamodb()
    try:
        client.delete_item(
            TableName=settings().table_name,
            Key=items.key(entry_key(environment_id, email)),
            ConditionExpression="subscriberId = :me",
            ExpressionAttributeValues={":me": items.s(subscriber_id)},
        )
    except client.exceptions.ConditionalCheckFailedException:
        return

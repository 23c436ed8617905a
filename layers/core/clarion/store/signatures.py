"""SuprSend HMAC signatures, each accepted once: a conditional write keyed by environment and
signature, kept (TTL) until the signed Date can no longer be accepted. A repeat inside that
window is a replay."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clarion import aws
from clarion.config import settings
from clarion.store import items, keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def claim(environment_id: str, signature: str, expires_at: int, client: DynamoDBClient | None = None) -> bool:
    """True the first time this environment sees the signature, False on every repeat."""
    client = client or aws.dynamodb()
    try:
        client.put_item(
            TableName=settings().table_name,
            Item=items.item(keys.signature(environment_id, signature), expiresAt=expires_at),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True

"""Double opt-in's storage: the environment's `optInMode` (an attribute of its item), and the
workflow triggers held for a pending subscriber until it confirms.

| access pattern                                  | pk                     | sk                |
|-------------------------------------------------|------------------------|-------------------|
| triggers held for a pending subscriber          | ENV#<env>#OPTIN#<sub>  | HOLD#<transactionId> |

A held trigger is `{transactionId, workflowId, payload, eventId, heldAt}`; its transactionId is
derived from the event (dialects.sequenzy.transaction_id_for), so releasing it twice (the link
followed twice, or a retry after a crash) is claimed once by intake and runs once. The engine
never sees a held trigger: nothing is enqueued until the release."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.model.opt_in import OptInMode
from clarion.store import batches, items, keys
from clarion.store.environments import EnvironmentNotFoundError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _held_partition(environment_id: str, subscriber_id: str) -> str:
    return f"ENV#{environment_id}#OPTIN#{subscriber_id}"


def _held_key(environment_id: str, subscriber_id: str, transaction_id: str) -> keys.Key:
    return {"pk": _held_partition(environment_id, subscriber_id), "sk": f"HOLD#{transaction_id}"}


def mode(environment_id: str, client: DynamoDBClient | None = None) -> OptInMode:
    """The environment's optInMode (default when unset). Read afresh on every request (one
    GetItem of one attribute): a container that cached it would hold new subscribers of an
    environment just switched to double opt-in as active."""
    client = client or aws.dynamodb()
    found = client.get_item(
        TableName=settings().table_name,
        Key=items.key(keys.environment(environment_id)),
        ProjectionExpression="optInMode",
    ).get("Item")
    value = items.string(found, "optInMode") if found else None
    return OptInMode(value) if value in set(OptInMode) else OptInMode.DEFAULT


def set_mode(environment_id: str, new_mode: OptInMode, client: DynamoDBClient | None = None) -> None:
    """Set the optInMode of an existing environment (EnvironmentNotFoundError otherwise)."""
    client = client or aws.dynamodb()
    try:
        client.update_item(
            TableName=settings().table_name,
            Key=items.key(keys.environment(environment_id)),
            UpdateExpression="SET optInMode = :mode",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":mode": items.s(new_mode.value)},
        )
    except client.exceptions.ConditionalCheckFailedException as error:
        raise EnvironmentNotFoundError(environment_id) from error


def hold(
    environment_id: str, subscriber_id: str, held: list[dict[str, Any]], client: DynamoDBClient | None = None
) -> None:
    """Keep these triggers until the subscriber confirms (one BatchWriteItem per 25)."""
    writes = [
        {"PutRequest": {"Item": items.item(_held_key(environment_id, subscriber_id, h["transactionId"]), h)}}
        for h in held
    ]
    batches.write(client or aws.dynamodb(), settings().table_name, writes)


def held(
    environment_id: str, subscriber_id: str, client: DynamoDBClient | None = None
) -> list[dict[str, Any]]:
    """Every trigger held for the subscriber (a strongly consistent Query, page after page)."""
    client = client or aws.dynamodb()
    request: dict[str, Any] = {
        "TableName": settings().table_name,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": items.s(_held_partition(environment_id, subscriber_id))},
        "ConsistentRead": True,
    }
    found: list[dict[str, Any]] = []
    while True:
        answer = client.query(**request)
        found += [items.doc(raw) for raw in answer["Items"]]
        if not answer.get("LastEvaluatedKey"):
            return found
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def forget(
    environment_id: str, subscriber_id: str, transaction_ids: list[str], client: DynamoDBClient | None = None
) -> None:
    """Drop released triggers (one BatchWriteItem per 25)."""
    writes = [
        {"DeleteRequest": {"Key": items.key(_held_key(environment_id, subscriber_id, t))}}
        for t in transaction_ids
    ]
    batches.write(client or aws.dynamodb(), settings().table_name, writes)

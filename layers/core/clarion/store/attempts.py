"""Per-message attempt markers, written only when the worker runs a redelivered batch in
isolation (engine.batch): `started` before a record runs, `done` once its parts and outcome are
on their queues. Keyed by environment and SQS message id (stable across redeliveries, unlike a
record's body, which a part that waits more sends again unchanged), kept two days (TTL): far
longer than any message stays on the TriggerQueue."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from clarion import aws, clock
from clarion.config import settings
from clarion.store import batches, items, keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEEP_DAYS = 2


class Attempt(StrEnum):
    STARTED = "started"  # began running and has not finished (it may be what killed the worker)
    DONE = "done"  # its parts and outcome were sent: acknowledge it without running it


def read(messages: dict[str, str], client: DynamoDBClient | None = None) -> dict[str, Attempt]:
    """{message id: its marker} for those of `messages` ({message id: environment id}) that have
    one: one strongly consistent BatchGetItem per 100."""
    if not messages:
        return {}
    client = client or aws.dynamodb()
    wanted = [items.key(keys.attempt(env, message_id)) for message_id, env in messages.items()]
    found: dict[str, Attempt] = {}
    for raw in batches.get(
        client,
        settings().table_name,
        wanted,
        ProjectionExpression="#m, #a",
        ExpressionAttributeNames={"#m": "messageId", "#a": "attempt"},
        ConsistentRead=True,  # the last attempt may have written it a moment ago
    ):
        found[raw["messageId"]["S"]] = Attempt(raw["attempt"]["S"])
    return found


def mark(
    environment_id: str, message_id: str, attempt: Attempt, client: DynamoDBClient | None = None
) -> None:
    client = client or aws.dynamodb()
    client.put_item(
        TableName=settings().table_name,
        Item=items.item(
            keys.attempt(environment_id, message_id),
            messageId=message_id,
            attempt=attempt.value,
            expiresAt=clock.expires_in_days(KEEP_DAYS),
        ),
    )

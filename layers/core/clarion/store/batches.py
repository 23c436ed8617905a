"""BatchWriteItem and BatchGetItem in chunks (25 writes, 100 keys), with what DynamoDB leaves
unprocessed sent again after an exponential backoff with jitter, as AWS advises, a bounded
number of times. Every store module's batch reads and writes go through here."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_ATTEMPTS = 6
_BACKOFF_SECONDS = 0.05  # then 0.1, 0.2, 0.4, 0.8 at most (full jitter): ~1.5 s in all


class UnprocessedError(RuntimeError):
    """DynamoDB still left part of a batch unprocessed after every attempt."""


def write(client: DynamoDBClient, table: str, requests: list[Any]) -> None:
    """PutRequest / DeleteRequest entries, all applied or UnprocessedError."""
    for start in range(0, len(requests), 25):
        pending: Any = {table: requests[start : start + 25]}
        for attempt in range(_ATTEMPTS):
            if attempt:
                _pause(attempt)
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or None
            if not pending:
                break
        else:
            raise UnprocessedError(f"{len(pending[table])} writes to {table} left unprocessed")


def get(
    client: DynamoDBClient, table: str, keys: list[dict[str, Any]], **options: Any
) -> Iterator[dict[str, Any]]:
    """The stored items among these keys (in no particular order), or UnprocessedError.
    `options`: ProjectionExpression, ExpressionAttributeNames, ConsistentRead."""
    for start in range(0, len(keys), 100):
        pending: Any = {table: {"Keys": keys[start : start + 100], **options}}
        for attempt in range(_ATTEMPTS):
            if attempt:
                _pause(attempt)
            answer = client.batch_get_item(RequestItems=pending)
            yield from answer["Responses"].get(table, [])
            pending = answer.get("UnprocessedKeys") or None
            if not pending:
                break
        else:
            raise UnprocessedError(f"{len(pending[table]['Keys'])} reads from {table} left unprocessed")


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0, _BACKOFF_SECONDS * 2 ** (attempt - 1)))  # jitter, not a secret

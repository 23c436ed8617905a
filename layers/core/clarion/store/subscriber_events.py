"""A subscriber's recorded events (Sequenzy's activity), newest first, at
`GET /v1/subscribers/{subscriberId}/events`.

| access pattern                               | pk                         | sk          | gsi1pk / gsi1sk                          |
|----------------------------------------------|----------------------------|-------------|------------------------------------------|
| event by id (an eventId recorded once)        | ENV#<env>#SUBEVENTS#<sub>  | E#<eventId> | ENV#<env>#ACTIVITY#<sub> / <occurredAt>#<eventId> |
| a subscriber's events, newest first, paged    |                            |             | (gsi1, ScanIndexForward false)           |

An event's id is the caller's eventId (or one Clarion made), so a repeat is the same item: the
ids of a request are read in one BatchGetItem and only the unseen ones are written, in one
BatchWriteItem per 25. Two requests racing on one eventId write the same item (once)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.store import batches, items, keys, paging

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CURSOR_KIND = "subscriber-events"


def _key(environment_id: str, subscriber_id: str, event_id: str) -> keys.Key:
    return {"pk": f"ENV#{environment_id}#SUBEVENTS#{subscriber_id}", "sk": f"E#{event_id}"}


def _activity(environment_id: str, subscriber_id: str) -> str:
    return f"ENV#{environment_id}#ACTIVITY#{subscriber_id}"


def recorded(
    environment_id: str, subscriber_id: str, event_ids: set[str], client: DynamoDBClient | None = None
) -> set[str]:
    """Those of these event ids already recorded for the subscriber (one BatchGetItem per 100)."""
    if not event_ids:
        return set()
    wanted = [items.key(_key(environment_id, subscriber_id, i)) for i in sorted(event_ids)]
    found = batches.get(
        client or aws.dynamodb(),
        settings().table_name,
        wanted,
        ProjectionExpression="sk",
        ConsistentRead=True,
    )
    return {raw["sk"]["S"].removeprefix("E#") for raw in found}


def record(
    environment_id: str,
    subscriber_id: str,
    events: list[dict[str, Any]],
    client: DynamoDBClient | None = None,
) -> None:
    """Write events `{id, name, properties, occurredAt, recordedAt}` (one BatchWriteItem per 25)."""
    writes = [
        {
            "PutRequest": {
                "Item": items.item(
                    _key(environment_id, subscriber_id, event["id"]),
                    event,
                    gsi1pk=_activity(environment_id, subscriber_id),
                    gsi1sk=f"{event['occurredAt']}#{event['id']}",
                )
            }
        }
        for event in events
    ]
    batches.write(client or aws.dynamodb(), settings().table_name, writes)


def page(
    environment_id: str,
    subscriber_id: str,
    limit: int,
    cursor: str | None = None,
    client: DynamoDBClient | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the subscriber's events, newest first (by occurredAt), and the next page's
    cursor (None at the end). A cursor of another listing is a paging.BadCursorError."""
    client = client or aws.dynamodb()
    start: dict[str, Any] | None = None
    if cursor:
        try:
            occurred_at, event_id = json.loads(paging.decode_cursor(_CURSOR_KIND, cursor))
        except (ValueError, TypeError) as error:
            raise paging.BadCursorError from error
        if not (isinstance(occurred_at, str) and isinstance(event_id, str)):
            raise paging.BadCursorError
        start = dict(_key(environment_id, subscriber_id, event_id)) | {
            "gsi1pk": _activity(environment_id, subscriber_id),
            "gsi1sk": f"{occurred_at}#{event_id}",
        }
    found, more = paging.query_page(
        client,
        {
            "TableName": settings().table_name,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": items.s(_activity(environment_id, subscriber_id))},
            "ScanIndexForward": False,
        },
        limit,
        start,
    )
    docs = [items.doc(raw) for raw in found]
    if not (more and docs):
        return docs, None
    last = docs[-1]
    return docs, paging.encode_cursor(_CURSOR_KIND, json.dumps([last["occurredAt"], last["id"]]))

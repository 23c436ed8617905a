"""The Inbox's reads and writes on a subscriber's in-app messages: the step items store.messages
writes, found through the same feed index (gsi1: ENV#<env>#FEED#<sub>, newest first).

A message is in the Inbox while it is delivered (`status = sent`) and in the feed index; each
change is conditional on both, and on the item's key naming the token's subscriber, so no
call can reach another subscriber's message. The Inbox state lives in attributes of the item
beside its `doc` (which the engine owns): isRead/readAt, isSeen/seenAt (isRead and isSeen are
the ones store.messages.mark sets too), isArchived/archivedAt, snoozedUntil, primaryDone,
secondaryDone. Deleting a message takes it out of the feed index (REMOVE gsi1pk, gsi1sk): the
subscriber never sees it again, and the transaction's messages keep their record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.model.inbox import Row
from clarion.store import items, keys, messages

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DELIVERED = "sent"
_PAGE = 100


def _row(raw: dict[str, Any]) -> Row:
    message: dict[str, Any] = items.doc(raw)

    def flag(name: str, default: bool = False) -> bool:
        value = raw.get(name, {}).get("BOOL")
        return default if value is None else bool(value)

    return Row(
        id=messages.message_id(message["transactionId"], message["stepId"]),
        message=message,
        is_read=flag("isRead", bool(message.get("read", False))),
        is_seen=flag("isSeen", bool(message.get("seen", False))),
        is_archived=flag("isArchived"),
        read_at=items.string(raw, "readAt"),
        seen_at=items.string(raw, "seenAt"),
        archived_at=items.string(raw, "archivedAt"),
        snoozed_until=items.string(raw, "snoozedUntil"),
        completed={"primary": flag("primaryDone"), "secondary": flag("secondaryDone")},
    )


def _keys(environment_id: str, subscriber_id: str, notification_id: str) -> list[dict[str, Any]]:
    """Where the message may be: its shard, then where one written before the sharding is."""
    found = messages.parse_message_id(notification_id)
    if found is None:
        return []
    return [items.key(key) for key in keys.message_keys(environment_id, found[0], subscriber_id, found[1])]


def _stored(
    client: DynamoDBClient, environment_id: str, subscriber_id: str, notification_id: str
) -> dict[str, Any] | None:
    """The message if it is in the subscriber's Inbox (a strongly consistent read), else None."""
    for key in _keys(environment_id, subscriber_id, notification_id):
        raw = client.get_item(TableName=settings().table_name, Key=key, ConsistentRead=True).get("Item")
        if raw is not None:
            return raw if _in_inbox(raw, environment_id, subscriber_id) else None
    return None


def _in_inbox(raw: dict[str, Any] | None, environment_id: str, subscriber_id: str) -> bool:
    return bool(
        raw
        and items.string(raw, "gsi1pk") == keys.feed(environment_id, subscriber_id)
        and items.string(raw, "status") == DELIVERED
    )


def rows(
    environment_id: str,
    subscriber_id: str,
    after: str | None = None,
    client: DynamoDBClient | None = None,
) -> Iterator[Row]:
    """The subscriber's Inbox, newest first, from the message after `after` (an id the Inbox
    was given) on; read page by page as the caller goes. An `after` that is not one of the
    subscriber's messages yields nothing (LookupError)."""
    client = client or aws.dynamodb()
    query: dict[str, Any] = {
        "TableName": settings().table_name,
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :feed",
        "FilterExpression": "#status = :delivered",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":feed": items.s(keys.feed(environment_id, subscriber_id)),
            ":delivered": items.s(DELIVERED),
        },
        "ScanIndexForward": False,
        "Limit": _PAGE,
    }
    if after is not None:
        raw = _stored(client, environment_id, subscriber_id, after)
        if raw is None:
            raise LookupError(after)
        query["ExclusiveStartKey"] = {name: raw[name] for name in ("pk", "sk", "gsi1pk", "gsi1sk")}
    while True:
        answer = client.query(**query)
        for raw in answer["Items"]:
            yield _row(raw)
        if "LastEvaluatedKey" not in answer:
            return
        query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def get(
    environment_id: str, subscriber_id: str, notification_id: str, client: DynamoDBClient | None = None
) -> Row | None:
    raw = _stored(client or aws.dynamodb(), environment_id, subscriber_id, notification_id)
    return _row(raw) if raw is not None else None


def change(
    environment_id: str,
    subscriber_id: str,
    notification_id: str,
    set_values: dict[str, Any],
    remove: tuple[str, ...] = (),
    keep_if_set: tuple[str, ...] = (),
    client: DynamoDBClient | None = None,
) -> Row | None:
    """Set (and remove) Inbox attributes of one of the subscriber's messages and return it as
    now stored; None if it is not in their Inbox. Values are bools or strings; names in
    `keep_if_set` keep a value already there (the first time a message was seen)."""
    client = client or aws.dynamodb()
    assignments = [
        f"{name} = if_not_exists({name}, :{name})" if name in keep_if_set else f"{name} = :{name}"
        for name in set_values
    ]
    expression = ("SET " + ", ".join(assignments)) if assignments else ""
    if remove:
        expression += " REMOVE " + ", ".join(remove)
    values = {f":{name}": _value(value) for name, value in set_values.items()}
    answer = messages.update_first(
        _keys(environment_id, subscriber_id, notification_id),
        client,
        UpdateExpression=expression.strip(),
        ConditionExpression="gsi1pk = :feed AND #status = :delivered",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=values
        | {
            ":feed": items.s(keys.feed(environment_id, subscriber_id)),
            ":delivered": items.s(DELIVERED),
        },
        ReturnValues="ALL_NEW",
    )
    return None if answer is None else _row(answer["Attributes"])


def delete(
    environment_id: str, subscriber_id: str, notification_id: str, client: DynamoDBClient | None = None
) -> bool:
    """Take the message out of the subscriber's Inbox; False if it was not in it."""
    return (
        change(environment_id, subscriber_id, notification_id, {}, ("gsi1pk", "gsi1sk"), client=client)
        is not None
    )


def _value(value: Any) -> Any:
    return {"BOOL": value} if isinstance(value, bool) else items.s(str(value))

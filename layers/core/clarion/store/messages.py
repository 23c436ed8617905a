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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.model.step_status import StepStatus
from clarion.store import items, keys, paging

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import UpdateItemOutputTypeDef

IN_APP = "in_app"


def claim(
    environment_id: str, transaction_id: str, subscriber_id: str, step_id: str, message: dict[str, Any]
) -> dict[str, Any] | None:
    """Write the step item if it does not exist. None when claimed now; else the existing item."""
    client = aws.dynamodb()
    attributes: dict[str, Any] = {"status": message["status"]}
    if _in_feed(message):  # the feed index holds delivered in-app messages only
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
) -> bool:
    """Move a step item from expected_status to message['status']; False if it was not in it."""
    client = aws.dynamodb()
    update, values = (
        "SET #doc = :doc, #status = :status",
        {
            ":doc": items.json_value(message),
            ":status": items.s(message["status"]),
            ":expected": items.s(expected_status),
        },
    )
    if _in_feed(message):  # delivered now: it joins the feed
        update += ", gsi1pk = :feed, gsi1sk = :feed_order"
        values |= {
            ":feed": items.s(keys.feed(environment_id, subscriber_id)),
            ":feed_order": items.s(f"{message['createdAt']}#{transaction_id}#{step_id}"),
        }
    answer = update_first(
        [items.key(key) for key in keys.message_keys(environment_id, transaction_id, subscriber_id, step_id)],
        client,
        UpdateExpression=update,
        ConditionExpression="#status = :expected",
        ExpressionAttributeNames={"#doc": "doc", "#status": "status"},
        ExpressionAttributeValues=values,
    )
    return answer is not None


def update_first(
    item_keys: list[dict[str, Any]], client: DynamoDBClient, **request: Any
) -> UpdateItemOutputTypeDef | None:
    """The answer of the conditional UpdateItem `request` on the first of `item_keys` whose item
    meets its condition (a claim's shard first, then where claims were written before the
    sharding); None when none does."""
    for key in item_keys:
        try:
            return client.update_item(TableName=settings().table_name, Key=key, **request)
        except client.exceptions.ConditionalCheckFailedException:
            continue
    return None


def get(environment_id: str, transaction_id: str, subscriber_id: str, step_id: str) -> dict[str, Any] | None:
    """One step item: from its shard, else from where claims were written before the sharding."""
    client = aws.dynamodb()
    for key in keys.message_keys(environment_id, transaction_id, subscriber_id, step_id):
        raw = client.get_item(TableName=settings().table_name, Key=items.key(key)).get("Item")
        if raw:
            found: dict[str, Any] = items.doc(raw)
            return found
    return None


def for_transaction(environment_id: str, transaction_id: str) -> list[dict[str, Any]]:
    """Every step item of a transaction, in (subscriber, step) order: every shard of its claims
    (keys.message_partitions), read at once and each paged through."""
    client = aws.dynamodb()
    paginator = client.get_paginator("query")

    def partition(query: dict[str, Any]) -> list[dict[str, Any]]:
        return [raw for page in paginator.paginate(**query) for raw in page["Items"]]

    queries = _transaction_queries(environment_id, transaction_id, None, None)
    with ThreadPoolExecutor(max_workers=_READ_THREADS) as pool:
        found = [raw for part in pool.map(partition, queries) for raw in part]
    return [items.doc(raw) for raw in sorted(found, key=_sort_key)]


def transaction_page(
    environment_id: str,
    transaction_id: str,
    limit: int,
    cursor: str | None = None,
    subscriber_id: str | None = None,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a transaction's step items (one subscriber's, if given) that `keep` accepts,
    in (subscriber, step) order, and the next page's cursor (None at the end)."""
    after: str | None = None
    if cursor:
        after_subscriber, after_step = _decode(_TRANSACTION_CURSOR, cursor, 2)
        if subscriber_id and after_subscriber != subscriber_id:  # another listing's cursor
            raise paging.BadCursorError
        after = keys.message(environment_id, transaction_id, after_subscriber, after_step)["sk"]

    def wanted(raw: dict[str, Any]) -> bool:
        row = items.doc(raw)
        return (
            (after is None or _sort_key(raw) > after)
            and (not subscriber_id or row["subscriberId"] == subscriber_id)
            and (keep is None or keep(row))
        )

    found, more = paging.merged_page(
        aws.dynamodb(),
        _transaction_queries(environment_id, transaction_id, subscriber_id, after),
        _sort_key,
        limit,
        wanted,
    )
    rows = [items.doc(raw) for raw in found]
    last = [rows[-1]["subscriberId"], rows[-1]["stepId"]] if rows else []
    return rows, paging.encode_cursor(
        _TRANSACTION_CURSOR, json.dumps(last, ensure_ascii=False)
    ) if more and rows else None


_READ_THREADS = 16


def _sort_key(raw: dict[str, Any]) -> str:
    return items.string(raw, "sk") or ""


def _transaction_queries(
    environment_id: str, transaction_id: str, subscriber_id: str | None, after: str | None
) -> list[dict[str, Any]]:
    """One Query per partition of the transaction's claims (one subscriber's shard, if given),
    for the step items from `after` on (inclusive: the caller drops `after` itself). Sort keys
    of step items are MSG#<subscriber>#<step>; the range stops before the next prefix, so the
    transaction's own TX item in its partition is never read."""
    prefix = f"MSG#{subscriber_id}#" if subscriber_id else "MSG#"  # narrows the read; `wanted` decides
    low = max(prefix, after) if after else prefix
    high = prefix[:-1] + "$"  # '$' follows '#': every sort key starting with the prefix is below it
    return [
        {
            "TableName": settings().table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":pk": items.s(pk), ":low": items.s(low), ":high": items.s(high)},
        }
        for pk in keys.message_partitions(environment_id, transaction_id, subscriber_id)
    ]


def feed(
    environment_id: str, subscriber_id: str, limit: int = 50, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the subscriber's delivered in-app messages, newest first, and the next page's
    cursor (None at the end). Rows indexed before the index held delivered messages only are
    read past, never shown."""
    client = aws.dynamodb()
    start: dict[str, Any] | None = None
    if cursor:
        created_at, transaction_id, step_id = _decode(_FEED_CURSOR, cursor, 3)
        start = dict(keys.message(environment_id, transaction_id, subscriber_id, step_id)) | {
            "gsi1pk": keys.feed(environment_id, subscriber_id),
            "gsi1sk": f"{created_at}#{transaction_id}#{step_id}",
        }
    found, more = paging.query_page(
        client,
        {
            "TableName": settings().table_name,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": items.s(keys.feed(environment_id, subscriber_id))},
            "ScanIndexForward": False,
        },
        limit,
        start,
        lambda raw: items.string(raw, "status") == _DELIVERED,
    )
    rows = [_in_app(raw) for raw in found]
    if not (more and rows):
        return rows, None
    last = rows[-1]
    return rows, paging.encode_cursor(
        _FEED_CURSOR,
        json.dumps([last["createdAt"], last["transactionId"], last["stepId"]], ensure_ascii=False),
    )


_DELIVERED = StepStatus.SENT
_FEED_CURSOR = "feed"
_TRANSACTION_CURSOR = "messages"


def _in_feed(message: dict[str, Any]) -> bool:
    """Only a delivered in-app message is in the feed; skipped and failed ones are execution
    details (and messages of their transaction), not items a subscriber reads."""
    return message.get("channel") == IN_APP and message.get("status") == _DELIVERED


def _decode(kind: str, cursor: str, parts: int) -> list[str]:
    """The string parts a cursor of this kind carries; anything else is a BadCursorError."""
    try:
        decoded = json.loads(paging.decode_cursor(kind, cursor))
    except ValueError as error:
        raise paging.BadCursorError from error
    if not (isinstance(decoded, list) and len(decoded) == parts and all(isinstance(p, str) for p in decoded)):
        raise paging.BadCursorError
    return decoded


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
    environment_id: str, subscriber_id: str, message: str, read: bool | None, seen: bool | None
) -> dict[str, Any] | None:
    """Set read/seen on one of the subscriber's in-app messages and return it as the feed shows
    it; None if there is no such message in the subscriber's feed."""
    found = parse_message_id(message)
    if found is None or (read is None and seen is None):
        return None
    client = aws.dynamodb()
    flags = {name: value for name, value in (("isRead", read), ("isSeen", seen)) if value is not None}
    answer = update_first(
        [items.key(key) for key in keys.message_keys(environment_id, found[0], subscriber_id, found[1])],
        client,
        UpdateExpression="SET " + ", ".join(f"{name} = :{name}" for name in flags),
        ConditionExpression="attribute_exists(pk) AND gsi1pk = :feed AND #status = :delivered",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={f":{name}": {"BOOL": value} for name, value in flags.items()}
        | {
            ":feed": items.s(keys.feed(environment_id, subscriber_id)),
            ":delivered": items.s(_DELIVERED),
        },
        ReturnValues="ALL_NEW",
    )
    return None if answer is None else _in_app(answer["Attributes"])


def _in_app(raw: dict[str, Any]) -> dict[str, Any]:
    """A feed item: the stored message with its id and its current read/seen flags."""
    message: dict[str, Any] = items.doc(raw)
    message["id"] = message_id(message["transactionId"], message["stepId"])
    message["read"] = raw.get("isRead", {}).get("BOOL", message.get("read", False))
    message["seen"] = raw.get("isSeen", {}).get("BOOL", message.get("seen", False))
    return message

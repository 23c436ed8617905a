"""Topics and their members. One item per membership in the topic's partition (pk TOPIC#<key>,
sk MEMBER#<subscriberId>), so a topic of 100,000 members is read page by page and members are
added or removed with BatchWriteItem; each membership also sits in the subscriber's gsi1
partition (SUBTOPICS#<subscriberId>), so deleting a subscriber finds and drops its memberships."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.store import batches, items, keys, paging

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_TOPIC_CURSOR = "topics"
_MEMBER_CURSOR = "members"
_MEMBER = "MEMBER#"

BadCursorError = paging.BadCursorError


class TopicExistsError(Exception):
    def __init__(self, topic_key: str) -> None:
        super().__init__(f"topic {topic_key!r} already exists")
        self.topic_key = topic_key


def create(
    environment_id: str, topic_key: str, name: str, now: str, client: DynamoDBClient | None = None
) -> dict[str, Any]:
    """A new topic; an existing key is refused (a conditional write)."""
    client = client or aws.dynamodb()
    topic = {"key": topic_key, "name": name, "createdAt": now, "updatedAt": now}
    try:
        client.put_item(
            TableName=settings().table_name,
            Item=items.item(
                keys.topic(environment_id, topic_key),
                topic,
                gsi1pk=keys.topic_list(environment_id),
                gsi1sk=topic_key,
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except client.exceptions.ConditionalCheckFailedException as error:
        raise TopicExistsError(topic_key) from error
    return topic


def get(environment_id: str, topic_key: str, client: DynamoDBClient | None = None) -> dict[str, Any] | None:
    client = client or aws.dynamodb()
    raw = client.get_item(
        TableName=settings().table_name, Key=items.key(keys.topic(environment_id, topic_key))
    ).get("Item")
    return items.doc(raw) if raw else None


def page(
    environment_id: str, limit: int, cursor: str | None = None, client: DynamoDBClient | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the environment's topics by key, and the next page's cursor (None at the end)."""
    return paging.listing_page(
        client or aws.dynamodb(),
        _TOPIC_CURSOR,
        keys.topic_list(environment_id),
        lambda after: keys.topic(environment_id, after),
        limit,
        cursor,
        items.doc,
        "key",
    )


def add_members(
    environment_id: str, topic_key: str, subscriber_ids: Iterable[str], client: DynamoDBClient | None = None
) -> None:
    """Add members (idempotent: adding a member twice changes nothing), 25 per BatchWriteItem."""
    batches.write(
        client or aws.dynamodb(),
        settings().table_name,
        [
            {
                "PutRequest": {
                    "Item": items.item(
                        keys.topic_member(environment_id, topic_key, subscriber_id),
                        gsi1pk=keys.subscriber_topics(environment_id, subscriber_id),
                        gsi1sk=topic_key,
                    )
                }
            }
            for subscriber_id in dict.fromkeys(subscriber_ids)
        ],
    )


def remove_members(
    environment_id: str, topic_key: str, subscriber_ids: Iterable[str], client: DynamoDBClient | None = None
) -> None:
    """Remove members (removing a non-member is harmless), 25 per BatchWriteItem."""
    batches.write(
        client or aws.dynamodb(),
        settings().table_name,
        [
            {"DeleteRequest": {"Key": items.key(keys.topic_member(environment_id, topic_key, subscriber_id))}}
            for subscriber_id in dict.fromkeys(subscriber_ids)
        ],
    )


def members_page(
    environment_id: str,
    topic_key: str,
    limit: int,
    cursor: str | None = None,
    client: DynamoDBClient | None = None,
) -> tuple[list[str], str | None]:
    """One page of a topic's member subscriber ids (in id order) and the cursor of the next page,
    None at the end. The cursor is opaque and resumes only inside this environment's topic."""
    client = client or aws.dynamodb()
    start: dict[str, Any] | None = None
    if cursor:
        start = dict(
            keys.topic_member(environment_id, topic_key, paging.decode_cursor(_MEMBER_CURSOR, cursor))
        )
    found, more = paging.query_page(
        client,
        {
            "TableName": settings().table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :member)",
            "ExpressionAttributeValues": {
                ":pk": items.s(keys.topic(environment_id, topic_key)["pk"]),
                ":member": items.s(_MEMBER),
            },
            "ProjectionExpression": "sk",
        },
        limit,
        start,
    )
    members = [raw["sk"]["S"].removeprefix(_MEMBER) for raw in found]
    return members, paging.encode_cursor(_MEMBER_CURSOR, members[-1]) if more and members else None


def forget_subscriber(environment_id: str, subscriber_id: str, client: DynamoDBClient | None = None) -> None:
    """Drop a (deleted) subscriber from every topic it belongs to."""
    client = client or aws.dynamodb()
    paginator = client.get_paginator("query")
    memberships: list[Any] = []
    for answer in paginator.paginate(
        TableName=settings().table_name,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": items.s(keys.subscriber_topics(environment_id, subscriber_id))},
        ProjectionExpression="pk, sk",
    ):
        memberships += [
            {"DeleteRequest": {"Key": {"pk": raw["pk"], "sk": raw["sk"]}}} for raw in answer["Items"]
        ]
    batches.write(client, settings().table_name, memberships)

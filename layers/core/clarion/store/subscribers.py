"""Subscribers: created when a trigger first names them (as Novu and SuprSend do), and
upserted with whatever profile fields a trigger carries inline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.model import SubscriberProfile
from clarion.store import items, keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def resolve(
    environment_id: str,
    profiles: list[SubscriberProfile],
    now: str,
    client: DynamoDBClient | None = None,
) -> dict[str, dict[str, Any]]:
    """Stored subscribers for these profiles, creating unknown ones and merging inline fields.

    One BatchGetItem per 100 ids; a BatchWriteItem for the new or changed ones.
    """
    client = client or aws.dynamodb()
    table = settings().table_name
    wanted = {profile.subscriber_id: profile for profile in profiles}
    stored: dict[str, dict[str, Any]] = {}
    ids = list(wanted)
    for start in range(0, len(ids), 100):
        request: Any = {
            table: {"Keys": [items.key(keys.subscriber(environment_id, i)) for i in ids[start : start + 100]]}
        }
        while request:
            answer = client.batch_get_item(RequestItems=request)
            for raw in answer["Responses"].get(table, []):
                subscriber = items.doc(raw)
                stored[subscriber["subscriberId"]] = subscriber
            request = answer.get("UnprocessedKeys") or None
    writes = []
    for subscriber_id, profile in wanted.items():
        current = stored.get(subscriber_id) or {"subscriberId": subscriber_id, "createdAt": now}
        merged = current | _api_fields(profile)
        if merged != stored.get(subscriber_id):
            stored[subscriber_id] = merged
            writes.append(
                {"PutRequest": {"Item": items.item(keys.subscriber(environment_id, subscriber_id), merged)}}
            )
    for start in range(0, len(writes), 25):
        request = {table: writes[start : start + 25]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or None
    return stored


_API_NAMES = {"first_name": "firstName", "last_name": "lastName"}


def _api_fields(profile: SubscriberProfile) -> dict[str, Any]:
    return {_API_NAMES.get(name, name): value for name, value in profile.profile_fields().items()}

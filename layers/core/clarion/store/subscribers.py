"""Subscribers: created when a trigger first names them (as Novu and SuprSend do), upserted with
whatever profile fields a trigger carries inline, and managed over the API.

Every subscriber item carries gsi1pk = ENV#<env>#SUBS#<shard>, gsi1sk = <subscriberId>, so an
environment's subscribers can be read page by page without a scan (the listing, in id order,
here; a broadcast's walk over the partitions in store.subscriber_shards), and first contacts at
the event rate spread over the shards (keys.SHARDS) instead of one partition.
Single-subscriber API writes are optimistic: the new doc is written on condition that the
stored doc is still the one read, so concurrent patches never lose each other's changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.model import SubscriberProfile
from clarion.model.profile import ProfileEdit, ProfileEditError, apply_edit
from clarion.model.subscriber import SubscriberChanges, SubscriberCreate, merge_channels
from clarion.store import batches, items, keys, paging, profile_match, topics

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LISTING_CURSOR_KIND = "subscribers"
"""The kind of the listing's cursors (the last subscriberId of a page)."""
_ATTEMPTS = 5

BadCursorError = paging.BadCursorError


class ConcurrentUpdateError(Exception):
    def __init__(self, subscriber_id: str) -> None:
        super().__init__(f"subscriber {subscriber_id!r} is being changed concurrently; try again")


def resolve(
    environment_id: str,
    profiles: list[SubscriberProfile],
    now: str,
    client: DynamoDBClient | None = None,
) -> dict[str, dict[str, Any]]:
    """Stored subscribers for these profiles, creating unknown ones and merging inline fields.

    One BatchGetItem per 100 ids; a BatchWriteItem for the new or changed ones (and for stored
    ones that predate the listing index).
    """
    client = client or aws.dynamodb()
    wanted = {profile.subscriber_id: profile for profile in profiles}
    raw_items = _batch_get(client, environment_id, wanted)
    stored = {subscriber_id: items.doc(raw) for subscriber_id, raw in raw_items.items()}
    writes = []
    for subscriber_id, profile in wanted.items():
        current = stored.get(subscriber_id) or {"subscriberId": subscriber_id, "createdAt": now}
        merged = current | _api_fields(profile)
        unindexed = subscriber_id in raw_items and "gsi1pk" not in raw_items[subscriber_id]
        if merged != stored.get(subscriber_id) or unindexed:
            if merged != stored.get(subscriber_id):
                merged["updatedAt"] = now
            stored[subscriber_id] = merged
            writes.append({"PutRequest": {"Item": _item(environment_id, merged)}})
    written = [items.doc(w["PutRequest"]["Item"]) for w in writes]
    batches.write(client, settings().table_name, writes + profile_match.index_writes(environment_id, written))
    return stored


_API_NAMES = {"first_name": "firstName", "last_name": "lastName"}


def _api_fields(profile: SubscriberProfile) -> dict[str, Any]:
    return {_API_NAMES.get(name, name): value for name, value in profile.profile_fields().items()}


def get(
    environment_id: str, subscriber_id: str, client: DynamoDBClient | None = None
) -> dict[str, Any] | None:
    """The stored subscriber (a strongly consistent read), or None."""
    raw = _read(client or aws.dynamodb(), environment_id, subscriber_id)
    return items.doc(raw) if raw else None


def get_many(
    environment_id: str, subscriber_ids: Iterable[str], client: DynamoDBClient | None = None
) -> dict[str, dict[str, Any]]:
    """The stored subscribers among these ids (missing ones are absent), one BatchGetItem per 100."""
    raw_items = _batch_get(client or aws.dynamodb(), environment_id, subscriber_ids)
    return {subscriber_id: items.doc(raw) for subscriber_id, raw in raw_items.items()}


def upsert(
    environment_id: str,
    subscriber: SubscriberCreate,
    now: str,
    client: DynamoDBClient | None = None,
) -> tuple[dict[str, Any], bool]:
    """Create the subscriber, or merge the sent fields into the stored one. Returns (stored, created)."""
    created = False

    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        nonlocal created
        created = current is None
        return apply_changes(current, subscriber.subscriber_id, subscriber, now)

    stored = _mutate(client or aws.dynamodb(), environment_id, subscriber.subscriber_id, change)
    assert stored is not None
    return stored, created


def update(
    environment_id: str,
    subscriber_id: str,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    now: str,
    client: DynamoDBClient | None = None,
) -> dict[str, Any] | None:
    """Apply `change` to the stored subscriber (retried if another writer got in between);
    None if there is no such subscriber. `change` must not mutate its argument."""

    def guarded(current: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if current is None else change(current) | {"updatedAt": now}

    return _mutate(client or aws.dynamodb(), environment_id, subscriber_id, guarded)


def upsert_with(
    environment_id: str,
    subscriber_id: str,
    change: Callable[[dict[str, Any] | None], dict[str, Any]],
    client: DynamoDBClient | None = None,
    *,
    prefetched: tuple[dict[str, Any] | None] | None = None,
) -> tuple[dict[str, Any], bool]:
    """Create or change the subscriber with `change(stored or None)` (retried if another writer
    got in between; no write when it returns the stored doc as it was). Returns (stored, created).
    `prefetched`: the raw item (or None: not stored) a strongly consistent read of the caller
    just found, used instead of a first read of its own."""
    created = False

    def tracked(current: dict[str, Any] | None) -> dict[str, Any]:
        nonlocal created
        created = current is None
        return change(current)

    stored = _mutate(client or aws.dynamodb(), environment_id, subscriber_id, tracked, prefetched)
    assert stored is not None
    return stored, created


def upsert_many(
    environment_id: str,
    subscribers: list[SubscriberCreate],
    now: str,
    client: DynamoDBClient | None = None,
) -> list[bool]:
    """Create or merge many subscribers (in order; a repeated id merges onto the earlier one):
    one BatchGetItem per 100 ids, one BatchWriteItem per 25. Returns `created` per subscriber."""
    client = client or aws.dynamodb()
    stored = {
        subscriber_id: items.doc(raw)
        for subscriber_id, raw in _batch_get(
            client, environment_id, {s.subscriber_id for s in subscribers}
        ).items()
    }
    created: list[bool] = []
    for subscriber in subscribers:
        current = stored.get(subscriber.subscriber_id)
        created.append(current is None)
        stored[subscriber.subscriber_id] = apply_changes(current, subscriber.subscriber_id, subscriber, now)
    written = {s.subscriber_id for s in subscribers}
    batches.write(
        client,
        settings().table_name,
        [{"PutRequest": {"Item": _item(environment_id, stored[i])}} for i in sorted(written)]
        + profile_match.index_writes(environment_id, [stored[i] for i in sorted(written)]),
    )
    return created


def edit_many(
    environment_id: str, edits: list[ProfileEdit], now: str, client: DynamoDBClient | None = None
) -> list[str | None]:
    """Apply profile edits in order (a user that does not exist is created; a repeated id
    edits the result of the earlier one): one BatchGetItem per 100 ids, one BatchWriteItem per
    25. Returns, per edit, None or why it could not apply (that edit alone is left out)."""
    client = client or aws.dynamodb()
    stored = get_many(environment_id, {e.subscriber_id for e in edits}, client)
    refusals: list[str | None] = []
    changed: set[str] = set()
    for edit in edits:
        current = stored.get(edit.subscriber_id) or {"subscriberId": edit.subscriber_id, "createdAt": now}
        try:
            stored[edit.subscriber_id] = apply_edit(current, edit) | {"updatedAt": now}
        except ProfileEditError as error:
            refusals.append(str(error))
            continue
        changed.add(edit.subscriber_id)
        refusals.append(None)
    batches.write(
        client,
        settings().table_name,
        [{"PutRequest": {"Item": _item(environment_id, stored[i])}} for i in sorted(changed)]
        + profile_match.index_writes(environment_id, [stored[i] for i in sorted(changed)]),
    )
    return refusals


def delete(environment_id: str, subscriber_id: str, client: DynamoDBClient | None = None) -> bool:
    """Delete the subscriber and its topic memberships; False if there was none."""
    client = client or aws.dynamodb()
    old = client.delete_item(
        TableName=settings().table_name,
        Key=items.key(keys.subscriber(environment_id, subscriber_id)),
        ReturnValues="ALL_OLD",
    ).get("Attributes")
    topics.forget_subscriber(environment_id, subscriber_id, client)
    return bool(old)


def page(
    environment_id: str, limit: int, cursor: str | None = None, client: DynamoDBClient | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the environment's subscribers, by subscriberId, and the cursor of the next
    page (None at the end). A cursor from another environment or listing is a BadCursorError.

    The listing is sharded (keys.subscriber_list): one Query per shard, and one of the unsharded
    partition that subscribers indexed before the sharding stay in until they are next written,
    merged by subscriberId; the cursor is the last id, each Query starts after it."""
    after = paging.decode_cursor(LISTING_CURSOR_KIND, cursor) if cursor else None
    found, more = paging.merged_page(
        client or aws.dynamodb(),
        [_listing_query(list_key, after) for list_key in keys.subscriber_lists(environment_id)],
        lambda raw: items.string(raw, "gsi1sk") or "",
        limit,
    )
    docs = [items.doc(raw) for raw in found]
    next_cursor = (
        paging.encode_cursor(LISTING_CURSOR_KIND, docs[-1]["subscriberId"]) if more and docs else None
    )
    return docs, next_cursor


def _listing_query(list_key: str, after: str | None) -> dict[str, Any]:
    condition, values = "gsi1pk = :pk", {":pk": items.s(list_key)}
    if after is not None:
        condition, values = condition + " AND gsi1sk > :after", values | {":after": items.s(after)}
    return {
        "TableName": settings().table_name,
        "IndexName": "gsi1",
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
    }


def apply_changes(
    current: dict[str, Any] | None, subscriber_id: str, changes: SubscriberChanges, now: str
) -> dict[str, Any]:
    """The stored subscriber with the sent profile fields set and channel entries merged."""
    base = current or {"subscriberId": subscriber_id, "createdAt": now}
    merged = base | changes.profile_changes() | {"updatedAt": now}
    if changes.channels is not None:
        merged["channels"] = merge_channels(base.get("channels") or [], changes.channels)
    return merged


def _index(environment_id: str, subscriber_id: str) -> dict[str, str]:
    return {"gsi1pk": keys.subscriber_list(environment_id, subscriber_id), "gsi1sk": subscriber_id}


def _item(environment_id: str, subscriber: dict[str, Any]) -> dict[str, Any]:
    subscriber_id = subscriber["subscriberId"]
    return items.item(
        keys.subscriber(environment_id, subscriber_id), subscriber, **_index(environment_id, subscriber_id)
    )


def _read(client: DynamoDBClient, environment_id: str, subscriber_id: str) -> dict[str, Any] | None:
    return client.get_item(
        TableName=settings().table_name,
        Key=items.key(keys.subscriber(environment_id, subscriber_id)),
        ConsistentRead=True,
    ).get("Item")


def _mutate(
    client: DynamoDBClient,
    environment_id: str,
    subscriber_id: str,
    change: Callable[[dict[str, Any] | None], dict[str, Any] | None],
    prefetched: tuple[dict[str, Any] | None] | None = None,
) -> dict[str, Any] | None:
    """Read, change, write on condition that nobody wrote in between; retried a few times."""
    table = settings().table_name
    for attempt in range(_ATTEMPTS):
        raw = prefetched[0] if prefetched and not attempt else _read(client, environment_id, subscriber_id)
        current = items.doc(raw) if raw else None
        new = change(current)
        if new is None or (new == current and "gsi1pk" in (raw or {})):
            return new
        condition: dict[str, Any] = (
            {
                "ConditionExpression": "#doc = :old",
                "ExpressionAttributeNames": {"#doc": "doc"},
                "ExpressionAttributeValues": {":old": raw["doc"]},
            }
            if raw
            else {"ConditionExpression": "attribute_not_exists(pk)"}
        )
        try:
            client.put_item(TableName=table, Item=_item(environment_id, new), **condition)
        except client.exceptions.ConditionalCheckFailedException:
            continue
        profile_match.index(environment_id, [new], client)
        return new
    raise ConcurrentUpdateError(subscriber_id)


def _batch_get(
    client: DynamoDBClient, environment_id: str, subscriber_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Raw stored items by subscriberId, one BatchGetItem per 100 ids."""
    wanted = [items.key(keys.subscriber(environment_id, i)) for i in dict.fromkeys(subscriber_ids)]
    return {items.doc(raw)["subscriberId"]: raw for raw in batches.get(client, settings().table_name, wanted)}

"""Finding subscribers by a field (Altcraft's profile matching), through an index, never a scan.

| access pattern                              | pk                                         | sk    |
|---------------------------------------------|--------------------------------------------|-------|
| subscriber by email / phone / a declared    | ENV#<env>#MATCH#<field>#<normalised value> | MATCH |
|   `data` field (matchFields) -> subscriberId | (H#<sha256> for values over 256 bytes)     |       |

`email` and `phone` are always indexed; a `data` field only once the environment declares it
(`matchFields`, store.environment_settings), and declaring one back-fills it (`backfill`).
Every subscriber write (store.subscribers) writes the entries of the written subscribers
(`index_writes`, which reads the declared fields afresh: one GetItem per write batch, so that a
field declared a moment ago in another container is indexed), so an entry names the subscriber
that last held the value.

A read is two BatchGetItems per 100 values: the entries, then the subscribers they name. A
subscriber whose field no longer holds the value (it was changed, or the subscriber deleted) is
no match: entries are never trusted on their own, so a stale one costs a read, never a wrong
delivery."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.model.trigger import MatchedProfile
from clarion.store import batches, items, keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

FIELD_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # a declarable `data` field (no '#')
MAX_MATCH_FIELDS = 20
_VALUE_KEY_MAX = 256
_NOT_PHONE = re.compile(r"[^0-9+]")


class MatchBy(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    SUBSCRIBER_ID = "subscriber_id"
    DATA = "data"  # a declared subscriber `data` field


class UndeclaredFieldError(Exception):
    def __init__(self, field: str) -> None:
        super().__init__(
            f"'{field}' is not a declared match field of this environment: "
            f'declare it first with PATCH /v1/environment {{"matchFields": ["{field}"]}}'
        )
        self.field = field


def normalised(by: MatchBy, value: Any) -> str | None:
    """The value as the index keeps it (emails lower-cased, phones as digits and '+'), or None
    for a value that cannot be matched (empty, a list, an object, a boolean)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    if by is MatchBy.EMAIL:
        text = text.lower()
    elif by is MatchBy.PHONE:
        text = _NOT_PHONE.sub("", text)
    return text or None


def _key(environment_id: str, by: MatchBy, field: str | None, value: str) -> dict[str, str]:
    name = f"data:{field}" if by is MatchBy.DATA else by.value
    part = f"V#{value}"
    if len(value.encode()) > _VALUE_KEY_MAX:  # partition keys hold 2 KB: long values are hashed
        part = f"H#{hashlib.sha256(value.encode()).hexdigest()}"
    return {"pk": f"ENV#{environment_id}#MATCH#{name}#{part}", "sk": "MATCH"}


def _held(subscriber: dict[str, Any], by: MatchBy, field: str | None) -> Any:
    if by is MatchBy.DATA:
        return (subscriber.get("data") or {}).get(field or "")
    return subscriber.get(by.value)


def _entries(
    subscriber: dict[str, Any], data_fields: Iterable[str], identities: bool
) -> list[tuple[MatchBy, str | None, str]]:
    wanted: list[tuple[MatchBy, str | None]] = (
        [(MatchBy.EMAIL, None), (MatchBy.PHONE, None)] if identities else []
    )
    wanted += [(MatchBy.DATA, field) for field in data_fields]
    found = []
    for by, field in wanted:
        value = normalised(by, _held(subscriber, by, field))
        if value is not None:
            found.append((by, field, value))
    return found


def index_writes(
    environment_id: str,
    subscribers: Iterable[dict[str, Any]],
    data_fields: Iterable[str] | None = None,
    *,
    identities: bool = True,
) -> list[dict[str, Any]]:
    """The PutRequests that point each written subscriber's values at it (for a BatchWriteItem
    beside the subscribers' own; one per key, the last subscriber given winning)."""
    subscribers = list(subscribers)
    if not subscribers:
        return []
    if data_fields is None:  # read afresh: a field declared in another container must be indexed now
        from clarion.store import environment_settings

        item = environment_settings.environment_item(environment_id) or {}
        data_fields = environment_settings.match_fields(environment_id, item)
    fields = tuple(data_fields)
    writes: dict[str, dict[str, Any]] = {}
    for subscriber in subscribers:
        for by, field, value in _entries(subscriber, fields, identities):
            key = _key(environment_id, by, field, value)
            item = items.item(key, subscriberId=str(subscriber["subscriberId"]))
            writes[key["pk"]] = {"PutRequest": {"Item": item}}
    return list(writes.values())


def index(
    environment_id: str, subscribers: list[dict[str, Any]], client: DynamoDBClient | None = None
) -> None:
    """Write the index entries of subscribers written one by one (a conditional put)."""
    writes = index_writes(environment_id, subscribers)
    if writes:
        batches.write(client or aws.dynamodb(), settings().table_name, writes)


def require_declared(environment_id: str, fields: set[str]) -> None:
    """UndeclaredFieldError for the first of these `data` fields the environment has not declared."""
    from clarion.store import environment_settings

    declared = set(environment_settings.match_fields(environment_id))
    if fields - declared:  # the cached settings may predate the declaration: read them afresh
        item = environment_settings.environment_item(environment_id) or {}
        declared = set(environment_settings.match_fields(environment_id, item))
    for field in sorted(fields - declared):
        raise UndeclaredFieldError(field)


def find(
    environment_id: str,
    by: MatchBy,
    values: Iterable[Any],
    field: str | None = None,
    client: DynamoDBClient | None = None,
) -> dict[str, dict[str, Any]]:
    """The stored subscriber each given value matches, by its normalised value (values that
    match nobody are absent). A `data` field must be declared (UndeclaredFieldError)."""
    if by is MatchBy.DATA:
        require_declared(environment_id, {str(field)})
    client = client or aws.dynamodb()
    table = settings().table_name
    wanted = {v for v in (normalised(by, value) for value in values) if v is not None}
    if not wanted:
        return {}
    if by is MatchBy.SUBSCRIBER_ID:
        pointed = {value: value for value in wanted}
    else:
        by_pk = {_key(environment_id, by, field, value)["pk"]: value for value in wanted}
        entries = batches.get(
            client, table, [items.key(_key(environment_id, by, field, value)) for value in wanted]
        )
        pointed = {by_pk[e["pk"]["S"]]: e["subscriberId"]["S"] for e in entries}
    subscribers = {
        items.doc(raw)["subscriberId"]: items.doc(raw)
        for raw in batches.get(
            client, table, [items.key(keys.subscriber(environment_id, s)) for s in set(pointed.values())]
        )
    }
    found: dict[str, dict[str, Any]] = {}
    for value, subscriber_id in pointed.items():
        subscriber = subscribers.get(subscriber_id)
        if subscriber is None:
            continue
        held = subscriber_id if by is MatchBy.SUBSCRIBER_ID else _held(subscriber, by, field)
        if normalised(by, held) == value:  # a stale entry is no match
            found[value] = subscriber
    return found


def declare(environment_id: str, fields: list[str], client: DynamoDBClient | None = None) -> int:
    """Make `fields` the environment's match fields (EnvironmentNotFoundError if there is none);
    those it did not have are back-filled. Returns how many index entries that wrote."""
    from clarion.store import environment_settings

    client = client or aws.dynamodb()
    known = environment_settings.match_fields(
        environment_id, environment_settings.environment_item(environment_id, client) or {}
    )
    environment_settings.set_match_fields(environment_id, fields, client)
    return backfill(environment_id, [f for f in dict.fromkeys(fields) if f not in known], client)


def find_targets(
    environment_id: str, targets: Iterable[MatchedProfile], client: DynamoDBClient | None = None
) -> dict[MatchedProfile, dict[str, Any]]:
    """The stored subscriber each matched recipient names (those matching nobody are absent):
    one `find` per field, so two BatchGetItems per 100 values of a field."""
    groups: dict[tuple[str, str | None], list[MatchedProfile]] = {}
    for target in targets:
        groups.setdefault((target.field, target.data_field), []).append(target)
    found: dict[MatchedProfile, dict[str, Any]] = {}
    for (field, data_field), members in groups.items():
        by = MatchBy(field)
        matches = find(environment_id, by, [m.value for m in members], data_field, client)
        for member in members:
            subscriber = matches.get(normalised(by, member.value) or "")
            if subscriber is not None:
                found[member] = subscriber
    return found


def backfill(environment_id: str, data_fields: Iterable[str], client: DynamoDBClient | None = None) -> int:
    """Index every stored subscriber's values of newly declared `data` fields, page by page of
    the environment's subscriber listing; returns how many entries were written."""
    fields = tuple(data_fields)
    if not fields:
        return 0
    client = client or aws.dynamodb()
    table = settings().table_name
    written = 0
    pages = (  # every shard of the listing, and its unsharded partition
        page
        for list_key in keys.subscriber_lists(environment_id)
        for page in client.get_paginator("query").paginate(
            TableName=table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": items.s(list_key)},
        )
    )
    for page in pages:
        docs = [items.doc(raw) for raw in page["Items"]]
        writes = index_writes(environment_id, docs, fields, identities=False)
        batches.write(client, table, writes)
        written += len(writes)
    return written

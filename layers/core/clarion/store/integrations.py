"""Integrations of an environment, all in one partition (ENV#<env>#INTEGRATIONS): one item per
integration (INT#<identifier>) and one slot per channel (ACTIVE#<channel>) holding a copy of the
channel's active integration. Making an integration active is one write to its channel's slot,
so there is never more than one active provider per channel, without a read-then-write; the
worker reads every active provider with one Query, credentials included."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, NamedTuple

from clarion import aws
from clarion.clock import epoch_seconds
from clarion.clock import now as clock_now
from clarion.config import settings
from clarion.store import items, keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_ACTIVE = "ACTIVE#"
_INTEGRATION = "INT#"


class IntegrationExistsError(Exception):
    def __init__(self, identifier: str) -> None:
        super().__init__(f"integration {identifier!r} already exists")
        self.identifier = identifier


def create(
    environment_id: str, integration: dict[str, Any], client: DynamoDBClient | None = None
) -> dict[str, Any]:
    """Store a new integration `{identifier, providerId, channel, name, credentials, active, createdAt,
    updatedAt}`; an active one becomes its channel's active provider (replacing the previous one)."""
    client = client or aws.dynamodb()
    table = settings().table_name
    identifier = integration["identifier"]
    stored = {name: value for name, value in integration.items() if name != "active"}
    writes: list[TransactWriteItemTypeDef] = [
        {
            "Put": {
                "TableName": table,
                "Item": items.item(keys.integration(environment_id, identifier), stored),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    ]
    if integration.get("active"):
        writes.append(
            {
                "Put": {
                    "TableName": table,
                    "Item": items.item(
                        keys.active_integration(environment_id, integration["channel"]),
                        stored,
                        identifier=identifier,
                    ),
                }
            }
        )
    try:
        client.transact_write_items(TransactItems=writes)
    except client.exceptions.TransactionCanceledException as error:
        raise IntegrationExistsError(identifier) from error
    _active_cache.pop(environment_id, None)  # this container's; others see it by `for_record`
    return stored | {"active": bool(integration.get("active"))}


def list_all(environment_id: str, client: DynamoDBClient | None = None) -> list[dict[str, Any]]:
    """Every integration of the environment, each with `active` (whether it holds its channel's slot)."""
    client = client or aws.dynamodb()
    raw_items = _partition(client, environment_id, None)
    active = {items.string(raw, "identifier") for raw in raw_items if raw["sk"]["S"].startswith(_ACTIVE)}
    return [
        items.doc(raw) | {"active": items.doc(raw)["identifier"] in active}
        for raw in raw_items
        if raw["sk"]["S"].startswith(_INTEGRATION)
    ]


def active_for(
    environment_id: str, channel: str, client: DynamoDBClient | None = None
) -> dict[str, Any] | None:
    """The channel's active integration, credentials included, or None."""
    client = client or aws.dynamodb()
    raw = client.get_item(
        TableName=settings().table_name, Key=items.key(keys.active_integration(environment_id, channel))
    ).get("Item")
    return items.doc(raw) | {"active": True} if raw else None


class _Cached(NamedTuple):
    expires: float  # time.monotonic()
    fetched_at: float  # epoch seconds the Query started: what it found existed by then
    active: dict[str, dict[str, Any]]


_active_cache: dict[str, _Cached] = {}
# Records are stamped by the API's clock and the cache by the worker's: a margin for their skew.
_CLOCK_SKEW_SECONDS = 1.0


def all_active(
    environment_id: str, client: DynamoDBClient | None = None, *, refresh: bool = False
) -> dict[str, dict[str, Any]]:
    """Every channel's active integration, by channel, credentials included: one (consistent)
    Query, cached per container as workflows are; `refresh` skips the cache."""
    now = time.monotonic()
    cached = _active_cache.get(environment_id)
    if cached and cached.expires > now and not refresh:
        return cached.active
    fetched_at = clock_now()
    found = _partition(client or aws.dynamodb(), environment_id, _ACTIVE)
    active = {raw["sk"]["S"].removeprefix(_ACTIVE): items.doc(raw) | {"active": True} for raw in found}
    _active_cache[environment_id] = _Cached(now + settings().workflow_cache_seconds, fetched_at, active)
    return active


def for_record(
    environment_id: str, channel: str, accepted_at: str, client: DynamoDBClient | None = None
) -> dict[str, Any] | None:
    """The channel's active integration as a record accepted at `accepted_at` must see it.

    From the cache when it has the channel (no AWS call), or when it was filled after the record
    was accepted (the channel had none then). Otherwise the integration may have been made
    between, by another container's API: the cache is filled again at once, so an integration
    made just before a trigger is used by it. A channel without an integration costs at most one
    Query per batch of records accepted after the last one; a replaced active integration still
    reaches a warm worker within the cache time."""
    active = all_active(environment_id, client)
    if channel in active:
        return active[channel]
    if _active_cache[environment_id].fetched_at - _CLOCK_SKEW_SECONDS > epoch_seconds(accepted_at):
        return None
    return all_active(environment_id, client, refresh=True).get(channel)


def forget_cached_integrations() -> None:
    _active_cache.clear()


def _partition(client: DynamoDBClient, environment_id: str, prefix: str | None) -> list[dict[str, Any]]:
    pk = keys.integration(environment_id, "")["pk"]
    query: dict[str, Any] = {
        "TableName": settings().table_name,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": items.s(pk)},
        "ConsistentRead": True,  # an integration written just before is found
    }
    if prefix:
        query["KeyConditionExpression"] += " AND begins_with(sk, :prefix)"
        query["ExpressionAttributeValues"][":prefix"] = items.s(prefix)
    found: list[dict[str, Any]] = []
    for answer in client.get_paginator("query").paginate(**query):
        found += answer["Items"]
    return found

"""An environment's settings beyond its keys and limits (store.environments), on its item:

- `applicationIdentifier`: the environment's public id for Novu's `<Inbox />`, made once, on
  first use (an environment created before the Inbox gets one then). A lookup item
  APPID#<id> names its environment; both are written in one transaction, so an id is never
  shared and an environment never gets two.
- the Inbox's settings: `inboxHashRequired` (a session must carry a subscriberHash; unset
  means required), `inboxOrigins` (the browser origins allowed to call the Inbox routes;
  unset means any).

Reads on the Inbox's hot path are cached per container for auth_cache_seconds, as keys are."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.store import items, keys
from clarion.store.environments import EnvironmentNotFoundError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ANY_ORIGIN = "*"
_ATTEMPTS = 3


@dataclass(frozen=True)
class InboxSettings:
    subscriber_hash_required: bool = True
    allowed_origins: tuple[str, ...] = (ANY_ORIGIN,)

    def allows_origin(self, origin: str) -> bool:
        return ANY_ORIGIN in self.allowed_origins or origin.rstrip("/").lower() in self.allowed_origins


_by_application: dict[str, tuple[float, str | None]] = {}
_inbox: dict[str, tuple[float, InboxSettings]] = {}


def environment_item(environment_id: str, client: DynamoDBClient | None = None) -> dict[str, Any] | None:
    """The environment's item (a strongly consistent read), or None."""
    client = client or aws.dynamodb()
    key = items.key(keys.environment(environment_id))
    return client.get_item(TableName=settings().table_name, Key=key, ConsistentRead=True).get("Item")


def application_identifier(environment_id: str, client: DynamoDBClient | None = None) -> str:
    """The environment's applicationIdentifier, made now if it has none yet."""
    client = client or aws.dynamodb()
    for _ in range(_ATTEMPTS):
        item = environment_item(environment_id, client)
        if item is None:
            raise EnvironmentNotFoundError(environment_id)
        existing = items.string(item, "applicationIdentifier")
        if existing:
            return existing
        candidate = "app_" + secrets.token_urlsafe(18)
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": settings().table_name,
                            "Item": items.item(keys.application(candidate), environmentId=environment_id),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": settings().table_name,
                            "Key": items.key(keys.environment(environment_id)),
                            "UpdateExpression": "SET applicationIdentifier = :id",
                            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(applicationIdentifier)",
                            "ExpressionAttributeValues": {":id": items.s(candidate)},
                        }
                    },
                ]
            )
        except client.exceptions.TransactionCanceledException:
            continue  # another caller made it first (or the id was taken): read again
        return candidate
    raise RuntimeError(f"could not make an applicationIdentifier for {environment_id!r}")


def environment_for_application(application_id: str, client: DynamoDBClient | None = None) -> str | None:
    """The environment an applicationIdentifier names, or None (cached per container)."""
    now = time.monotonic()
    cached = _by_application.get(application_id)
    if cached and cached[0] > now:
        return cached[1]
    client = client or aws.dynamodb()
    found = client.get_item(
        TableName=settings().table_name, Key=items.key(keys.application(application_id))
    ).get("Item")
    environment_id = items.string(found, "environmentId") if found else None
    _by_application[application_id] = (now + settings().auth_cache_seconds, environment_id)
    return environment_id


def inbox_settings(environment_id: str, item: dict[str, Any] | None = None) -> InboxSettings:
    """The environment's Inbox settings, from its item if given, else cached per container."""
    now = time.monotonic()
    if item is None:
        cached = _inbox.get(environment_id)
        if cached and cached[0] > now:
            return cached[1]
        item = environment_item(environment_id) or {}
    required = item.get("inboxHashRequired", {}).get("BOOL")
    origins = item.get("inboxOrigins", {}).get("L")
    found = InboxSettings(
        subscriber_hash_required=True if required is None else bool(required),
        allowed_origins=(ANY_ORIGIN,) if origins is None else tuple(o["S"] for o in origins),
    )
    _inbox[environment_id] = (now + settings().auth_cache_seconds, found)
    return found


def set_inbox_settings(
    environment_id: str,
    subscriber_hash_required: bool | None = None,
    allowed_origins: list[str] | None = None,
    *,
    only_if_unset: bool = False,
    client: DynamoDBClient | None = None,
) -> None:
    """Set the given Inbox settings of an existing environment (EnvironmentNotFoundError
    otherwise); `only_if_unset` keeps values already set (the local stack's seed)."""
    values: dict[str, Any] = {}
    if subscriber_hash_required is not None:
        values["inboxHashRequired"] = {"BOOL": subscriber_hash_required}
    if allowed_origins is not None:
        values["inboxOrigins"] = {"L": [items.s(origin) for origin in allowed_origins]}
    if not values:
        return
    client = client or aws.dynamodb()
    assignments = [
        f"{name} = if_not_exists({name}, :{name})" if only_if_unset else f"{name} = :{name}"
        for name in values
    ]
    try:
        client.update_item(
            TableName=settings().table_name,
            Key=items.key(keys.environment(environment_id)),
            UpdateExpression="SET " + ", ".join(assignments),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={f":{name}": value for name, value in values.items()},
        )
    except client.exceptions.ConditionalCheckFailedException as error:
        raise EnvironmentNotFoundError(environment_id) from error
    _inbox.pop(environment_id, None)


_match_fields: dict[str, tuple[float, tuple[str, ...]]] = {}


def match_fields(environment_id: str, item: dict[str, Any] | None = None) -> tuple[str, ...]:
    """The subscriber `data` fields the environment matches profiles on (store.profile_match),
    from its item if given, else cached per container."""
    now = time.monotonic()
    if item is None:
        cached = _match_fields.get(environment_id)
        if cached and cached[0] > now:
            return cached[1]
        item = environment_item(environment_id) or {}
    found = tuple(f["S"] for f in item.get("matchFields", {}).get("L", []))
    _match_fields[environment_id] = (now + settings().auth_cache_seconds, found)
    return found


def set_match_fields(environment_id: str, fields: list[str], client: DynamoDBClient | None = None) -> None:
    """Replace the environment's match fields (EnvironmentNotFoundError if there is none)."""
    client = client or aws.dynamodb()
    try:
        client.update_item(
            TableName=settings().table_name,
            Key=items.key(keys.environment(environment_id)),
            UpdateExpression="SET matchFields = :fields",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":fields": {"L": [items.s(f) for f in dict.fromkeys(fields)]}},
        )
    except client.exceptions.ConditionalCheckFailedException as error:
        raise EnvironmentNotFoundError(environment_id) from error
    _match_fields.pop(environment_id, None)


def forget_cached_settings() -> None:
    _by_application.clear()
    _inbox.clear()
    _match_fields.clear()

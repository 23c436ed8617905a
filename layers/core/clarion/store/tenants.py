"""Tenants by identifier. Unlike most items, a tenant keeps `name` and `data` (JSON) as separate
attributes rather than one `doc`: the worker's upsert from trigger data is then one UpdateItem
that sets only what it was given, never a read followed by a write."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.clock import now_iso
from clarion.config import settings
from clarion.store import batches, items, keys, paging

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CURSOR_KIND = "tenants"

BadCursorError = paging.BadCursorError


class TenantExistsError(Exception):
    def __init__(self, identifier: str) -> None:
        super().__init__(f"tenant {identifier!r} already exists")
        self.identifier = identifier


def create(
    environment_id: str,
    identifier: str,
    name: str,
    data: dict[str, Any],
    now: str | None = None,
    client: DynamoDBClient | None = None,
) -> dict[str, Any]:
    """A new tenant; an existing identifier is refused (a conditional write)."""
    client = client or aws.dynamodb()
    now = now or now_iso()
    tenant = {"identifier": identifier, "name": name, "data": data, "createdAt": now, "updatedAt": now}
    try:
        client.put_item(
            TableName=settings().table_name,
            Item=_item(environment_id, tenant),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except client.exceptions.ConditionalCheckFailedException as error:
        raise TenantExistsError(identifier) from error
    return tenant


def get(environment_id: str, identifier: str, client: DynamoDBClient | None = None) -> dict[str, Any] | None:
    """`{identifier, name, data, createdAt, updatedAt}`, or None."""
    client = client or aws.dynamodb()
    raw = client.get_item(
        TableName=settings().table_name,
        Key=items.key(keys.tenant(environment_id, identifier)),
        ConsistentRead=True,
    ).get("Item")
    return _tenant(raw) if raw else None


def get_many(
    environment_id: str, identifiers: Iterable[str], client: DynamoDBClient | None = None
) -> dict[str, dict[str, Any]]:
    """The existing tenants among these identifiers, by identifier (missing ones are absent).
    One BatchGetItem (per 100 identifiers)."""
    client = client or aws.dynamodb()
    table = settings().table_name
    wanted = list(dict.fromkeys(identifiers))
    found: dict[str, dict[str, Any]] = {}
    for raw in batches.get(client, table, [items.key(keys.tenant(environment_id, i)) for i in wanted]):
        tenant = _tenant(raw)
        found[tenant["identifier"]] = tenant
    return found


def upsert(
    environment_id: str,
    identifier: str,
    name: str | None = None,
    data: dict[str, Any] | None = None,
    now: str | None = None,
    client: DynamoDBClient | None = None,
) -> dict[str, Any]:
    """Create the tenant or update it: `name` / `data` replace the stored ones when given (None
    keeps them). One UpdateItem, no read; returns the tenant as stored."""
    tenant = _update(client or aws.dynamodb(), environment_id, identifier, name, data, now or now_iso(), None)
    assert tenant is not None  # unconditional: it always writes
    return tenant


def update(
    environment_id: str,
    identifier: str,
    name: str | None = None,
    data: dict[str, Any] | None = None,
    now: str | None = None,
    client: DynamoDBClient | None = None,
) -> dict[str, Any] | None:
    """Change an existing tenant's name and/or data; None if there is no such tenant."""
    client = client or aws.dynamodb()
    return _update(client, environment_id, identifier, name, data, now or now_iso(), "attribute_exists(pk)")


def rename(
    environment_id: str,
    identifier: str,
    new_identifier: str,
    name: str | None = None,
    data: dict[str, Any] | None = None,
    now: str | None = None,
    client: DynamoDBClient | None = None,
) -> dict[str, Any] | None:
    """Move a tenant to a new identifier (Novu's PATCH allows it), in one transaction: the new
    one must not exist (TenantExistsError), the old one must still be as read (None if gone)."""
    client = client or aws.dynamodb()
    table = settings().table_name
    old_key = items.key(keys.tenant(environment_id, identifier))
    raw = client.get_item(TableName=table, Key=old_key, ConsistentRead=True).get("Item")
    if raw is None:
        return None
    current = _tenant(raw)
    tenant = current | {
        "identifier": new_identifier,
        "name": current["name"] if name is None else name,
        "data": current["data"] if data is None else data,
        "updatedAt": now or now_iso(),
    }
    try:
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": _item(environment_id, tenant),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Delete": {
                        "TableName": table,
                        "Key": old_key,
                        "ConditionExpression": "updatedAt = :read",
                        "ExpressionAttributeValues": {":read": raw["updatedAt"]},
                    }
                },
            ]
        )
    except client.exceptions.TransactionCanceledException as error:
        reasons = error.response.get("CancellationReasons", [])
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            raise TenantExistsError(new_identifier) from error
        return None
    return tenant


def delete(environment_id: str, identifier: str, client: DynamoDBClient | None = None) -> bool:
    """Delete the tenant; False if there was none."""
    client = client or aws.dynamodb()
    old = client.delete_item(
        TableName=settings().table_name,
        Key=items.key(keys.tenant(environment_id, identifier)),
        ReturnValues="ALL_OLD",
    ).get("Attributes")
    return bool(old)


def page(
    environment_id: str, limit: int, cursor: str | None = None, client: DynamoDBClient | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the environment's tenants by identifier, and the next page's cursor (None at the end)."""
    return paging.listing_page(
        client or aws.dynamodb(),
        _CURSOR_KIND,
        keys.tenant_list(environment_id),
        lambda after: keys.tenant(environment_id, after),
        limit,
        cursor,
        _tenant,
        "identifier",
    )


def _update(
    client: DynamoDBClient,
    environment_id: str,
    identifier: str,
    name: str | None,
    data: dict[str, Any] | None,
    now: str,
    condition: str | None,
) -> dict[str, Any] | None:
    index = _index(environment_id, identifier)
    sets = [
        "identifier = :identifier",
        "gsi1pk = :gsi1pk",
        "gsi1sk = :gsi1sk",
        "updatedAt = :now",
        "createdAt = if_not_exists(createdAt, :now)",
        "#name = " + (":name" if name is not None else "if_not_exists(#name, :empty)"),
        "#data = " + (":data" if data is not None else "if_not_exists(#data, :nodata)"),
    ]
    values: dict[str, Any] = {
        ":identifier": items.s(identifier),
        ":gsi1pk": items.s(index["gsi1pk"]),
        ":gsi1sk": items.s(index["gsi1sk"]),
        ":now": items.s(now),
        ":empty": items.s(""),
        ":nodata": items.s("{}"),
    }
    if name is not None:
        values[":name"] = items.s(name)
        del values[":empty"]
    if data is not None:
        values[":data"] = items.s(_json(data))
        del values[":nodata"]
    request: dict[str, Any] = {
        "TableName": settings().table_name,
        "Key": items.key(keys.tenant(environment_id, identifier)),
        "UpdateExpression": "SET " + ", ".join(sets),
        "ExpressionAttributeNames": {"#name": "name", "#data": "data"},
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_NEW",
    }
    if condition:
        request["ConditionExpression"] = condition
    try:
        answer = client.update_item(**request)
    except client.exceptions.ConditionalCheckFailedException:
        return None
    return _tenant(answer["Attributes"])


def _index(environment_id: str, identifier: str) -> dict[str, str]:
    return {"gsi1pk": keys.tenant_list(environment_id), "gsi1sk": identifier}


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _item(environment_id: str, tenant: dict[str, Any]) -> dict[str, Any]:
    return items.item(
        keys.tenant(environment_id, tenant["identifier"]),
        identifier=tenant["identifier"],
        name=tenant["name"],
        data=_json(tenant["data"]),
        createdAt=tenant["createdAt"],
        updatedAt=tenant["updatedAt"],
        **_index(environment_id, tenant["identifier"]),
    )


def _tenant(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "identifier": items.string(raw, "identifier"),
        "name": items.string(raw, "name") or "",
        "data": json.loads(items.string(raw, "data") or "{}"),
        "createdAt": items.string(raw, "createdAt"),
        "updatedAt": items.string(raw, "updatedAt"),
    }

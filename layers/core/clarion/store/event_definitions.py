"""Event definitions: the event names an environment has seen (Sequenzy creates one the first
time a name arrives), listed at `GET /v1/event-definitions`.

| access pattern                       | pk                   | sk          |
|--------------------------------------|----------------------|-------------|
| definition by name; list, by name    | ENV#<env>#EVENTDEFS  | DEF#<name>  |

A request's names are read in one BatchGetItem; each name not found is created with a
conditional PutItem (attribute_not_exists), so of two requests racing on a new name exactly one
is told it created the definition."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.store import batches, items, keys, paging

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CURSOR_KIND = "event-definitions"
_SK_PREFIX = "DEF#"


def _list_key(environment_id: str) -> str:
    return f"ENV#{environment_id}#EVENTDEFS"


def definition_key(environment_id: str, name: str) -> keys.Key:
    return {"pk": _list_key(environment_id), "sk": f"{_SK_PREFIX}{name}"}


def ensure(
    environment_id: str,
    names: set[str],
    now: str,
    client: DynamoDBClient | None = None,
    *,
    known: set[str] | None = None,
) -> set[str]:
    """Define every name not defined yet; returns the names this call defined. `known`: those
    of the names the caller has just read defined (store.sequenzy_reads), instead of a read here."""
    if not names:
        return set()
    client = client or aws.dynamodb()
    table = settings().table_name
    if known is None:
        wanted = [items.key(definition_key(environment_id, name)) for name in sorted(names)]
        known = {items.doc(raw)["name"] for raw in batches.get(client, table, wanted)}
    created: set[str] = set()
    for name in sorted(names - known):
        try:
            client.put_item(
                TableName=table,
                Item=items.item(definition_key(environment_id, name), {"name": name, "createdAt": now}),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            continue  # another request defined it first
        created.add(name)
    return created


def page(
    environment_id: str, limit: int, cursor: str | None = None, client: DynamoDBClient | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the environment's definitions, by name, and the next page's cursor (None at
    the end). A cursor of another listing is a paging.BadCursorError."""
    client = client or aws.dynamodb()
    start = definition_key(environment_id, paging.decode_cursor(_CURSOR_KIND, cursor)) if cursor else None
    found, more = paging.query_page(
        client,
        {
            "TableName": settings().table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": items.s(_list_key(environment_id))},
        },
        limit,
        dict(start) if start else None,
    )
    docs = [items.doc(raw) for raw in found]
    return docs, paging.encode_cursor(_CURSOR_KIND, docs[-1]["name"]) if more and docs else None

"""Event definitions: the event names an environment has seen (Sequenzy creates one the first
time a name arrives), listed at `GET /v1/event-definitions`.

| access pattern                       | pk                   | sk          |
|--------------------------------------|----------------------|-------------|
| definition by name; list, by name    | ENV#<env>#EVENTDEFS  | DEF#<name>  |

A request's names are read with its other items (store.sequenzy_reads); each name not found is
created by a Put on condition that its key is free, inside the transaction that records the
request's events (store.subscriber_events), so of two requests racing on a new name exactly one
is told it created the definition."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.store import items, keys, paging

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CURSOR_KIND = "event-definitions"
_SK_PREFIX = "DEF#"


def _list_key(environment_id: str) -> str:
    return f"ENV#{environment_id}#EVENTDEFS"


def definition_key(environment_id: str, name: str) -> keys.Key:
    return {"pk": _list_key(environment_id), "sk": f"{_SK_PREFIX}{name}"}


def new_definition(environment_id: str, name: str, now: str) -> dict[str, Any]:
    """The item that defines a name, to be put on condition that its key is free."""
    return items.item(definition_key(environment_id, name), {"name": name, "createdAt": now})


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

"""A subscriber's recorded events (Sequenzy's activity), newest first, at
`GET /v1/subscribers/{subscriberId}/events`: stored per request, not per event.

| access pattern                                | pk                        | sk          | gsi1pk / gsi1sk                                   |
|-----------------------------------------------|---------------------------|-------------|---------------------------------------------------|
| an eventId recorded once (its claim)          | ENV#<env>#SUBEVENTS#<sub> | E#<eventId> |                                                   |
| a request's events (one part, ≤ PART_BYTES)   | ENV#<env>#SUBEVENTS#<sub> | E#<its first event's id> | ENV#<env>#ACTIVITY#<sub> / <newest occurredAt>#<digest of first id> |

A request's events are written in one TransactWriteItems (per 100 events): one part item holding
them (`doc: {events}`, and `oldest`, its oldest occurredAt), keyed by its first event's id so
that it is also that event's claim, and one claim (its key and `recordedAt`) for each other caller-given eventId
(an id Clarion made is unique already). Every item is written on condition that its key is
free, so an eventId already recorded (by an earlier request or a concurrent one) cancels the
transaction, which is written again without it: each eventId is recorded once, exactly. Each
item holds `recordedAt` (epoch seconds), which the cancellation returns (ALL_OLD): the caller
learns how long ago a repeated eventId was recorded. A part
stays under PART_BYTES (the route's body limit, 1 MB, makes a request a few parts at most).

Parts overlap in time (a client may send old occurredAt), so a page merges them: parts are read
newest first by their newest event, and an event is placed once no unread part can hold a newer
one (every unread part's events are at most as new as its newest)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

from clarion import aws, clock
from clarion.config import settings
from clarion.store import items, keys, paging

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_CURSOR_KIND = "subscriber-events"
PART_BYTES = 300 * 1024  # of JSON: a part item stays under DynamoDB's 400 KB
_MAX_TRANSACTION_ITEMS = 100
_CONFLICT_ATTEMPTS = 5


def _key(environment_id: str, subscriber_id: str, event_id: str) -> keys.Key:
    return {"pk": f"ENV#{environment_id}#SUBEVENTS#{subscriber_id}", "sk": f"E#{event_id}"}


def _activity(environment_id: str, subscriber_id: str) -> str:
    return f"ENV#{environment_id}#ACTIVITY#{subscriber_id}"


def _digest(event_id: str) -> str:
    """A short stand-in for an id in an index key (an eventId may take most of the 1 KB a key holds)."""
    return hashlib.sha256(event_id.encode()).hexdigest()[:24]


def _order(event: dict[str, Any]) -> tuple[str, str]:
    return event["occurredAt"], event["id"]


def record(
    environment_id: str,
    subscriber_id: str,
    events: list[dict[str, Any]],
    claimed: set[str],
    client: DynamoDBClient | None = None,
    *,
    also: dict[str, dict[str, Any]] | None = None,
) -> tuple[dict[str, int | None], set[str]]:
    """Record events `{id, name, properties, occurredAt, recordedAt}` (ids distinct; `claimed`:
    those ids that are the caller's eventIds, each recorded once ever), and put the items of
    `also` (by a name of the caller's) in the same transactions, each on condition that its key
    is free. Returns (the ids recorded before, so not recorded now, each with when it was
    recorded, epoch seconds, None if its item predates `recordedAt`; the names in `also` whose
    key was taken, so not put now)."""
    client = client or aws.dynamodb()
    table = settings().table_name
    recorded_at = clock.now_seconds()
    duplicates: dict[str, int | None] = {}
    existing: set[str] = set()
    pending, extra = list(events), dict(also or {})
    conflicts = 0
    while pending or extra:
        retry: list[dict[str, Any]] = []
        kept: dict[str, dict[str, Any]] = {}
        for chunk, extras in _transactions(pending, extra):
            writes, owners = _writes(table, environment_id, subscriber_id, chunk, claimed, recorded_at)
            writes += [_put_if_new(table, item) for item in extras.values()]
            owners += [("also", name) for name in extras]
            try:
                client.transact_write_items(TransactItems=writes)
            except client.exceptions.TransactionCanceledException as error:
                reasons = error.response.get("CancellationReasons", [])
                failed = {i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"}
                taken = {owners[i] for i in failed}
                if not taken:
                    conflicts += 1  # another transaction on these items: written again, a few times
                    if conflicts >= _CONFLICT_ATTEMPTS:
                        raise
                    time.sleep(0.05 * conflicts)
                duplicates |= {
                    owners[i][1]: items.number(dict(reasons[i].get("Item") or {}), "recordedAt") or None
                    for i in failed
                    if owners[i][0] == "event"
                }
                existing |= {name for kind, name in taken if kind == "also"}
                retry += [e for e in chunk if ("event", e["id"]) not in taken]
                kept |= {name: item for name, item in extras.items() if ("also", name) not in taken}
        pending, extra = retry, kept
    return duplicates, existing


def _transactions(
    events: list[dict[str, Any]], extra: dict[str, dict[str, Any]]
) -> list[tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]]:
    """The events and the other items in transactions of at most 100 items (an event costs at
    most one)."""
    names = list(extra)
    groups: list[tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]] = []
    while events or names:
        taken, names = names[:_MAX_TRANSACTION_ITEMS], names[_MAX_TRANSACTION_ITEMS:]
        room = _MAX_TRANSACTION_ITEMS - len(taken)
        groups.append((events[:room], {name: extra[name] for name in taken}))
        events = events[room:]
    return groups


def _put_if_new(table: str, item: dict[str, Any]) -> TransactWriteItemTypeDef:
    return {
        "Put": {
            "TableName": table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def _parts(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The events in parts of at most PART_BYTES of JSON, in request order."""
    parts: list[list[dict[str, Any]]] = []
    size = 0
    for event in events:
        event_bytes = len(json.dumps(event, separators=(",", ":"), default=str))
        if not parts or size + event_bytes > PART_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(event)
        size += event_bytes
    return parts


def _writes(
    table: str,
    environment_id: str,
    subscriber_id: str,
    events: list[dict[str, Any]],
    claimed: set[str],
    recorded_at: int,
) -> tuple[list[TransactWriteItemTypeDef], list[tuple[str, str]]]:
    """One transaction's items, and per item the event whose claim it is (`("event", id)`)."""
    puts: list[tuple[dict[str, Any], str]] = []
    for part in _parts(events):
        first = part[0]["id"]
        puts.append(
            (
                items.item(
                    _key(environment_id, subscriber_id, first),
                    {"events": part},
                    gsi1pk=_activity(environment_id, subscriber_id),
                    gsi1sk=f"{max(e['occurredAt'] for e in part)}#{_digest(first)}",
                    oldest=min(e["occurredAt"] for e in part),
                    recordedAt=recorded_at,
                ),
                first,
            )
        )
        puts += [
            (items.item(_key(environment_id, subscriber_id, e["id"]), recordedAt=recorded_at), e["id"])
            for e in part[1:]
            if e["id"] in claimed
        ]
    return [_put_if_new(table, item) for item, _ in puts], [("event", owner) for _, owner in puts]


def page(
    environment_id: str,
    subscriber_id: str,
    limit: int,
    cursor: str | None = None,
    client: DynamoDBClient | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the subscriber's events, newest first (by occurredAt, then id), and the next
    page's cursor (None at the end). A cursor of another listing is a paging.BadCursorError."""
    client = client or aws.dynamodb()
    after = _after(cursor) if cursor else None
    query: dict[str, Any] = {
        "TableName": settings().table_name,
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": {":pk": items.s(_activity(environment_id, subscriber_id))},
        "ScanIndexForward": False,
    }
    if after is not None:  # a part whose oldest event is newer than the cursor has none to give
        query["FilterExpression"] = "oldest <= :after"
        query["ExpressionAttributeValues"] = query["ExpressionAttributeValues"] | {
            ":after": items.s(after[0])
        }
    candidates: list[dict[str, Any]] = []
    exhausted = True
    for raw in _parts_newest_first(client, query):
        newest = raw["gsi1sk"]["S"].split("#", 1)[0]
        if sum(1 for e in candidates if e["occurredAt"] > newest) > limit:
            exhausted = False  # enough placed events: no unread part can come before them
            break
        candidates += [e for e in items.doc(raw)["events"] if after is None or _order(e) < after]
    candidates.sort(key=_order, reverse=True)
    rows: list[dict[str, Any]] = []
    size = 0
    for event in candidates[:limit]:
        size += len(json.dumps(event, separators=(",", ":"), default=str))
        if size > paging.MAX_PAGE_BYTES and rows:
            break
        rows.append(event)
    more = len(rows) < len(candidates) or not exhausted
    if not (more and rows):
        return rows, None
    last = rows[-1]
    return rows, paging.encode_cursor(_CURSOR_KIND, json.dumps([last["occurredAt"], last["id"]]))


def _after(cursor: str) -> tuple[str, str]:
    try:
        occurred_at, event_id = json.loads(paging.decode_cursor(_CURSOR_KIND, cursor))
    except (ValueError, TypeError) as error:
        raise paging.BadCursorError from error
    if not (isinstance(occurred_at, str) and isinstance(event_id, str)):
        raise paging.BadCursorError
    return occurred_at, event_id


def _parts_newest_first(client: DynamoDBClient, query: dict[str, Any]) -> Any:
    """The subscriber's parts (raw items), by their newest event, newest first, page after page."""
    request = dict(query)
    while True:
        answer = client.query(**request)
        yield from answer["Items"]
        if not answer.get("LastEvaluatedKey"):
            return
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

"""Opaque cursors for listings keyed by a user's id (subscribers, tenants, topics, members).

A cursor carries only the kind of listing and the last id returned; the keys it resumes from
are rebuilt from the caller's environment, so a cursor can never point into another one."""

from __future__ import annotations

import base64
import heapq
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from clarion.store import items

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_MAX_ID_LENGTH = 1024


class BadCursorError(ValueError):
    def __init__(self) -> None:
        super().__init__("cursor is not one this API returned")


def encode_cursor(kind: str, after: str, **position: int | str) -> str:
    """A cursor of this kind resuming after `after`; `position` is what else a listing read from
    more than one place needs to know where it stands (a partition walk's partition)."""
    # UTF-8, not \u escapes: the longest non-ASCII id still fits the routes' cursor bound
    return base64.urlsafe_b64encode(
        json.dumps({"k": kind, "after": after, **position}, ensure_ascii=False).encode()
    ).decode()


def decode_cursor(kind: str, cursor: str) -> str:
    """The id a cursor of this kind resumes after; anything else is a BadCursorError."""
    return checked_id(decode_fields(cursor, kind).get("after"))


def decode_fields(cursor: str, *kinds: str) -> dict[str, Any]:
    """Every field of a cursor of one of these kinds (`k` says which; the listing checks the
    others); anything else is a BadCursorError."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as error:
        raise BadCursorError from error
    if not isinstance(decoded, dict) or decoded.get("k") not in kinds:
        raise BadCursorError
    return decoded


def checked_id(value: object, *, empty: bool = False) -> str:
    """A cursor's id field as a listing resumes from it (`empty`: or '', none yet); anything
    else is a BadCursorError."""
    if not isinstance(value, str) or not (0 if empty else 1) <= len(value) <= _MAX_ID_LENGTH:
        raise BadCursorError
    return value


# A page's items stop short of this many bytes (and say that more follow): the answer must fit
# in a Lambda response (6 MB), whatever the items hold.
MAX_PAGE_BYTES = 4_000_000


def query_page(
    client: DynamoDBClient,
    query: dict[str, Any],
    limit: int,
    start_key: dict[str, Any] | None,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Up to `limit` items of a Query from `start_key` on (those `keep` accepts), and whether
    more follow.

    One item more than asked is read, so that `more` is exact (no empty last page); DynamoDB
    stops a call at 1 MB, so this reads on until the page is full or the end. A page also stops
    before MAX_PAGE_BYTES (with `more`), so large items are paged, never cut off."""
    found: list[dict[str, Any]] = []
    size = 0
    exclusive = items.key(start_key) if start_key else None
    while len(found) <= limit:
        request = dict(query, Limit=limit + 1 - len(found))
        if exclusive:
            request["ExclusiveStartKey"] = exclusive
        answer = client.query(**request)
        for raw in answer["Items"]:
            if keep is not None and not keep(raw):
                continue
            size += _size(raw)
            if size > MAX_PAGE_BYTES and found:
                return found[:limit], True
            found.append(raw)
        exclusive = answer.get("LastEvaluatedKey")
        if not exclusive:
            break
    return found[:limit], len(found) > limit


def _size(raw: dict[str, Any]) -> int:
    """About what an item adds to an answer: its string attributes (the doc holds the object)."""
    return sum(len(value.get("S", "")) for value in raw.values())


def listing_page(
    client: DynamoDBClient,
    kind: str,
    list_key: str,
    item_key: Callable[[str], Any],
    limit: int,
    cursor: str | None,
    to_doc: Callable[[dict[str, Any]], dict[str, Any]],
    id_field: str,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of an environment's objects listed on gsi1 under `list_key` (gsi1sk = their id),
    and the next page's cursor (None at the end). `item_key(id)` is an object's table key."""
    from clarion.config import settings

    start: dict[str, Any] | None = None
    if cursor:
        after = decode_cursor(kind, cursor)
        start = {**item_key(after), "gsi1pk": list_key, "gsi1sk": after}
    found, more = query_page(
        client,
        {
            "TableName": settings().table_name,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": items.s(list_key)},
        },
        limit,
        start,
    )
    docs = [to_doc(raw) for raw in found]
    return docs, encode_cursor(kind, docs[-1][id_field]) if more and docs else None


# Concurrent Queries a merged page sends at once (each is a small, short read).
_MERGE_THREADS = 16


def merged_page(
    client: DynamoDBClient,
    queries: list[dict[str, Any]],
    order: Callable[[dict[str, Any]], str],
    limit: int,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Up to `limit` items (those `keep` accepts) of several Queries, one per partition, merged
    by `order` (each Query's own sort key order, so the merge is what one partition would
    answer), and whether more follow. Each Query names where it starts in its key condition.

    The partitions are read at once, each a share of the page; one that runs out of its share
    while the merge still needs it is read on, twice as much each time (up to the page: an
    unsharded partition with most of the items takes a few reads, not one per share). As in
    query_page, one item more is read, and a page stops before MAX_PAGE_BYTES."""
    share = min(limit + 1, max(2, 2 * -(-(limit + 1) // len(queries))))
    heads = [_PartitionReader(client, query, share, limit + 1, keep) for query in queries]
    with ThreadPoolExecutor(max_workers=min(_MERGE_THREADS, len(heads))) as pool:
        list(pool.map(_PartitionReader.fill, heads))
    found: list[dict[str, Any]] = []
    size = 0
    for raw in heapq.merge(*heads, key=order):
        size += _size(raw)
        if size > MAX_PAGE_BYTES and found:
            return found, True
        found.append(raw)
        if len(found) > limit:
            break
    return found[:limit], len(found) > limit


class _PartitionReader:
    """One partition's items in its Query's order, read as they are taken: `share` first, then
    twice as many each time, never more than `most`."""

    def __init__(
        self,
        client: DynamoDBClient,
        query: dict[str, Any],
        share: int,
        most: int,
        keep: Callable[[dict[str, Any]], bool] | None,
    ) -> None:
        self.client, self.query, self.share, self.most, self.keep = client, query, share, most, keep
        self.buffer: list[dict[str, Any]] = []
        self.start: dict[str, Any] | None = None
        self.done = False

    def fill(self) -> None:
        """Read on until something is buffered or the partition ends."""
        while not self.buffer and not self.done:
            request = dict(self.query, Limit=self.share)
            if self.start:
                request["ExclusiveStartKey"] = self.start
            answer = self.client.query(**request)
            self.buffer = [raw for raw in answer["Items"] if self.keep is None or self.keep(raw)]
            self.start = answer.get("LastEvaluatedKey")
            self.done = not self.start
            self.share = min(2 * self.share, self.most)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            self.fill()
            if not self.buffer:
                return
            yield from self.buffer
            self.buffer = []

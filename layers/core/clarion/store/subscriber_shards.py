"""A broadcast's read of the subscriber listing: every subscriber of the environment, page by
page, in no particular order, one partition after another.

The API's listing (store.subscribers.page) answers in subscriberId order, which costs a Query of
every partition (keys.subscriber_lists: SHARDS shards and the unsharded one) for every page. A
broadcast needs everyone once, not an order: `page` walks the partitions in a fixed order
(keys.subscriber_walk: the unsharded partition first, then shards 0..SHARDS-1), reading each from
where the last page stopped. A page of a large environment costs a Query or two; the whole walk
about one Query per partition more than it has pages. Where partitions are found empty or short
(a small environment, the shards of one whose subscribers are all unsharded), the next few are
read at once, as many as the ones read so far suggest will fill the page (at most _AT_ONCE).

A separate module, not a section of store.subscribers: its contract (no order, a partition walk,
its own cursor) is the broadcast's, and the listing's never depends on it.

What a subscriber written while a broadcast walks sees (a write only ever moves an item from the
unsharded partition into its shard, never back; a new subscriber goes to its shard):
- one that exists throughout is reached: in the unsharded partition, if still there when the walk
  reads past its id, else in its shard, which the walk reads after the unsharded one;
- one moved into its shard after the walk read it in the unsharded partition is reached again in
  its shard. Its second fan-out is what a redelivered fan-out part is, and sends nothing: every
  step is claimed once per (transaction, subscriber, step) before its side effect
  (engine.claims, store.messages.claim), and the second run finds the first's claim (a delay's
  second resume finds it resumed, a digest's second join is the same transaction's);
- one created (or deleted) during the walk is reached if its shard is read after the write, as
  with any paged read.

The cursor is opaque (paging.encode_cursor): the partition the walk is in (its place in
keys.subscriber_walk) and the last id read there ('' for none yet). A cursor of the listing
(subscribers.LISTING_CURSOR_KIND: the last subscriberId of a page merged over every partition),
which broadcast continuations queued before this walk carry, resumes as that listing would have:
every partition from after that id, which the walk's cursors then carry as their `floor`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from clarion import aws
from clarion.config import settings
from clarion.store import items, keys, paging, subscribers

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CURSOR_KIND = "subscriber-walk"
_AT_ONCE = 16
"""Most partitions a page reads at the same time (each a small, short Query)."""

BadCursorError = paging.BadCursorError


@dataclass(frozen=True)
class _Position:
    """Where a walk stands: in `partition` (an index of keys.subscriber_walk) after the id
    `after` (None: from its start), every later partition from after `floor` (None: from its
    start; an old listing cursor's id)."""

    partition: int
    after: str | None = None
    floor: str | None = None

    def start(self, partition: int) -> str | None:
        """The id this partition is read after (None: from its start)."""
        return self.after if partition == self.partition and self.after is not None else self.floor

    def cursor(self, partitions: int) -> str | None:
        """This position as a cursor; None when it is past the last partition (the walk's end)."""
        if self.partition >= partitions:
            return None
        floor = {"floor": self.floor} if self.floor is not None else {}
        return paging.encode_cursor(_CURSOR_KIND, self.after or "", p=self.partition, **floor)


def page(
    environment_id: str, limit: int, cursor: str | None = None, client: DynamoDBClient | None = None
) -> tuple[list[str], str | None]:
    """Up to `limit` subscriber ids of the environment, in no particular order, and the cursor of
    the next page (None at the end). Every page but the last is full; the last may be empty (the
    walk learns that the partitions after a full page hold nobody by reading them). A cursor from
    another listing is a BadCursorError."""
    if limit < 1:
        raise ValueError("a page holds at least one subscriber")
    client = client or aws.dynamodb()
    partitions = keys.subscriber_walk(environment_id)
    position = _decode(cursor, len(partitions)) if cursor else _Position(0)
    resumed_in = position.partition if position.after is not None else None
    found: list[str] = []
    read = held = 0  # shards this page has read whole, and the ids they held
    at_once = 1
    with ThreadPoolExecutor(max_workers=_AT_ONCE) as pool:
        while position.partition < len(partitions):
            need = limit - len(found)
            if need == 0:
                return found, position.cursor(len(partitions))
            batch = range(position.partition, min(position.partition + at_once, len(partitions)))
            reads = [partial(_read, client, partitions[n], position.start(n), need) for n in batch]
            answers = [reads[0]()] if len(reads) == 1 else pool.map(lambda call: call(), reads)
            for n, (ids, more) in zip(batch, answers, strict=True):
                taken = ids[: limit - len(found)]
                found += taken
                if more or len(taken) < len(ids):  # this partition holds more: the next page's
                    resume = taken[-1] if taken else position.start(n)
                    return found, _Position(n, resume, position.floor).cursor(len(partitions))
                if n > 0 and n != resumed_in:  # the unsharded partition, or the rest of one, tells
                    read, held = read + 1, held + len(ids)  # nothing of how full the shards are
                position = _Position(n + 1, None, position.floor)
            at_once = _next_at_once(at_once, limit - len(found), read, held)
    return found, None


def _next_at_once(at_once: int, need: int, read: int, held: int) -> int:
    """How many partitions to read at once next: as many as the shards read whole so far suggest
    hold no more than `need` ids (rounded down: a partition read past the one that fills the page
    is a Query wasted, one too few costs a Query after), or, while none held any, twice as many
    as last time."""
    if held == 0:
        return min(2 * at_once, _AT_ONCE)
    return max(1, min(need * read // held, _AT_ONCE))


def _read(client: DynamoDBClient, list_key: str, after: str | None, need: int) -> tuple[list[str], bool]:
    """Up to `need` ids of one partition after `after`, and whether it holds more: Limit need+1,
    following LastEvaluatedKey when DynamoDB stops early (paging.query_page)."""
    condition, values = "gsi1pk = :pk", {":pk": items.s(list_key)}
    if after is not None:
        condition, values = condition + " AND gsi1sk > :after", values | {":after": items.s(after)}
    found, more = paging.query_page(
        client,
        {
            "TableName": settings().table_name,
            "IndexName": "gsi1",
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ProjectionExpression": "gsi1sk",
        },
        need,
        None,
    )
    return [items.string(raw, "gsi1sk") or "" for raw in found], more


def _decode(cursor: str, partitions: int) -> _Position:
    """The position a cursor of the walk (or an old one of the listing) stands for."""
    fields = paging.decode_fields(cursor, _CURSOR_KIND, subscribers.LISTING_CURSOR_KIND)
    if fields["k"] == subscribers.LISTING_CURSOR_KIND:  # queued before the walk: everyone after it
        after = paging.checked_id(fields.get("after"))
        return _Position(0, after, after)
    partition = fields.get("p")
    if type(partition) is not int or not 0 <= partition < partitions:
        raise BadCursorError
    after = paging.checked_id(fields.get("after"), empty=True)
    floor = paging.checked_id(fields["floor"]) if "floor" in fields else None
    return _Position(partition, after or None, floor)

"""Digest buckets: what one subscriber's runs of one digest step collect in one window, for one
value of the digest key, until the window's owner sends them as one digest.

Windows are tumbling and aligned to the epoch: an event at time t belongs to the window that
starts at t - t % length. Every worker computes the same bucket for the same moment without
reading anything, so joining needs no read, and two workers opening the same window at the
same moment meet on the same head item: DynamoDB orders their updates, the first one
sets `opener` (if_not_exists) and both learn it from ReturnValues. (The price: the first event
of a window waits between 0 and `length` seconds, not exactly `length`.)

A window is stored as a head and small pages, one item each (keys.digest_bucket, page 0 the head):

    head      opener    the transaction whose join created the window: it owns the window (its
                        run sends the digest when the window ends)
              slots     how many joins were handed a place (an atomic ADD)
              closedAt  set by close(): no join succeeds on a closed head or page
              windowEnd, digestKey, expiresAt (TTL)
    page p    txs       the transactionIds of slots (p - 1) * PAGE_EVENTS ... p * PAGE_EVENTS - 1
                        in arrival order; closedAt, expiresAt

A join is two small UpdateItems whatever the window holds: the head's ADD hands the event its
slot (and names the owner, from ReturnValues), then the event appends itself to its slot's page.
A write costs the larger image of its item, so pages are kept under 1 KB (PAGE_EVENTS of
Clarion's generated transactionIds, about 50 bytes each): each join is 1 + 1 write units, flat
as the window grows (a single page rewritten whole on every event cost its whole size, ~5 units
at 100 events, and walking past full pages cost each of them again).

The events' payloads are not copied here: each joined transaction's step item (store.messages),
written before it joins, holds its payload, and the owner reads them back in one BatchGetItem
per 100 events.

close() closes the head first (no join takes a slot after it), then every page up to the last
slot handed out, reading their transactions; a join holding a slot on a page closed before it
appended is refused and goes to the next window. A slot whose worker stopped before appending is
a hole nobody reads. A redelivered event takes another slot: the transactions are read back
first occurrence first, so it counts once; on a closed window it looks for itself in the pages
(one consistent BatchGetItem) and, if it had joined, is in that window, not the next."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from clarion import aws
from clarion.clock import now_iso
from clarion.config import settings
from clarion.store import batches, items, keys

PAGE_EVENTS = 16  # transactionIds a page holds: under 1 KB with Clarion's generated ids
_HEAD = 0
_TTL_DAYS_AFTER_END = 7


@dataclass(frozen=True)
class Bucket:
    """One window of one digest: (environment, workflow, subscriber, step, key value, window)."""

    environment_id: str
    workflow_id: str
    subscriber_id: str
    step_id: str
    key: str
    start: int
    length: int

    @classmethod
    def at(
        cls,
        environment_id: str,
        workflow_id: str,
        subscriber_id: str,
        step_id: str,
        key: str,
        length: int,
        now: int,
    ) -> Bucket:
        """The window that `now` (epoch seconds) falls into."""
        length = max(length, 1)
        return cls(environment_id, workflow_id, subscriber_id, step_id, key, now - now % length, length)

    @property
    def end(self) -> int:
        return self.start + self.length

    def following(self, now: int) -> Bucket:
        """Where an event goes when this window is already closed: the window of `now`, or the
        next one if `now` is still inside this one (its digest was cancelled, or closed early)."""
        moment = max(now, self.end)
        return replace(self, start=moment - moment % self.length)

    def to_doc(self) -> dict[str, Any]:
        return {"key": self.key, "windowStart": self.start, "windowEnd": self.end}

    @classmethod
    def from_doc(
        cls, environment_id: str, workflow_id: str, subscriber_id: str, step_id: str, doc: dict[str, Any]
    ) -> Bucket:
        start, end = int(doc["windowStart"]), int(doc["windowEnd"])
        return cls(environment_id, workflow_id, subscriber_id, step_id, str(doc["key"]), start, end - start)

    def _key(self, page: int) -> dict[str, Any]:
        return items.key(
            keys.digest_bucket(
                self.environment_id,
                self.workflow_id,
                self.subscriber_id,
                self.step_id,
                self.key,
                self.start,
                page,
            )
        )


@dataclass(frozen=True)
class Joined:
    """The transaction owning the window (page 0's opener), and whether this join was a repeat."""

    owner: str
    repeated: bool


def join(bucket: Bucket, transaction_id: str) -> Joined | None:
    """Add the transaction to the window; None if the window is closed and it had not joined
    before (the caller goes on to Bucket.following). Two UpdateItems: a slot, then its page."""
    client = aws.dynamodb()
    expires = items.n(bucket.end + _TTL_DAYS_AFTER_END * 86_400)
    try:
        head = client.update_item(
            TableName=settings().table_name,
            Key=bucket._key(_HEAD),
            UpdateExpression=(
                "SET opener = if_not_exists(opener, :tx), windowEnd = :end, digestKey = :key, "
                "expiresAt = :expires ADD slots :one"
            ),
            ConditionExpression="attribute_not_exists(closedAt)",
            ExpressionAttributeValues={
                ":tx": items.s(transaction_id),
                ":one": items.n(1),
                ":end": items.n(bucket.end),
                ":key": items.s(bucket.key),
                ":expires": expires,
            },
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )["Attributes"]
    except client.exceptions.ConditionalCheckFailedException as error:
        closed: Any = error.response.get("Item") or {}
        return _joined_before(bucket, transaction_id, closed)
    try:
        client.update_item(
            TableName=settings().table_name,
            Key=bucket._key(_page_of(_slots(head) - 1)),
            UpdateExpression="SET txs = list_append(if_not_exists(txs, :empty), :joined), expiresAt = :expires",
            ConditionExpression="attribute_not_exists(closedAt)",
            ExpressionAttributeValues={
                ":empty": {"L": []},
                ":joined": {"L": [items.s(transaction_id)]},
                ":expires": expires,
            },
        )
    except client.exceptions.ConditionalCheckFailedException:  # closed between the two writes
        return _joined_before(bucket, transaction_id, head)
    return Joined(_opener(head), repeated=False)


def close(bucket: Bucket, cancelled: bool = False) -> list[str]:
    """Close the window, head first, then every page a slot was handed on; the joined
    transactionIds in arrival order, each once. Idempotent: closing again answers the same list
    (a closed head hands out no slot, a closed page takes no append)."""
    client = aws.dynamodb()
    update = "SET closedAt = if_not_exists(closedAt, :now), expiresAt = :expires"
    if cancelled:
        update += ", cancelledAt = if_not_exists(cancelledAt, :now)"
    values = {":now": items.s(now_iso()), ":expires": items.n(bucket.end + _TTL_DAYS_AFTER_END * 86_400)}

    def closed(page: int) -> dict[str, Any]:
        return client.update_item(
            TableName=settings().table_name,
            Key=bucket._key(page),
            UpdateExpression=update,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )["Attributes"]

    head = closed(_HEAD)
    joined = [tx for page in _pages(_slots(head)) for tx in _transactions(closed(page))]
    return list(dict.fromkeys(joined))


def _joined_before(bucket: Bucket, transaction_id: str, head: dict[str, Any]) -> Joined | None:
    """On a closed window: whether this transaction joined it on an earlier delivery (one
    strongly consistent BatchGetItem of its pages)."""
    wanted = [bucket._key(page) for page in _pages(_slots(head))]
    for raw in batches.get(aws.dynamodb(), settings().table_name, wanted, ConsistentRead=True):
        if transaction_id in _transactions(raw):
            return Joined(_opener(head), repeated=True)
    return None


def _page_of(slot: int) -> int:
    return 1 + slot // PAGE_EVENTS


def _pages(slots: int) -> list[int]:
    """The pages holding the first `slots` slots."""
    return list(range(1, _page_of(slots - 1) + 1)) if slots > 0 else []


def _slots(raw: dict[str, Any]) -> int:
    return int(raw.get("slots", {}).get("N", "0"))


def payloads(bucket: Bucket, transaction_ids: list[str]) -> list[dict[str, Any]]:
    """The joined events' payloads, in the given order, from their digest step items (one
    strongly consistent BatchGetItem per 100; those not in their shard are looked for once more
    where claims written before the sharding are). A transaction whose item is gone is left out."""
    client = aws.dynamodb()
    table = settings().table_name
    found: dict[str, Any] = {}
    for place in range(2):  # keys.message_keys: the shard, then the unsharded partition
        wanted = [
            items.key(
                keys.message_keys(bucket.environment_id, tx, bucket.subscriber_id, bucket.step_id)[place]
            )
            for tx in dict.fromkeys(transaction_ids)
            if tx not in found
        ]
        # ConsistentRead: an event may have joined a moment before the window ended.
        for raw in batches.get(
            client,
            table,
            wanted,
            ProjectionExpression="#doc",
            ExpressionAttributeNames={"#doc": "doc"},
            ConsistentRead=True,
        ):
            doc = items.doc(raw)
            found[doc["transactionId"]] = doc.get("payload") or {}
    return [found[tx] for tx in transaction_ids if tx in found]


def step_item(bucket: Bucket, transaction_id: str) -> dict[str, Any] | None:
    """One transaction's digest step item (a strongly consistent GetItem): the owner reads its
    own before sending, without querying a transaction that may hold a whole broadcast."""
    client = aws.dynamodb()
    for key in keys.message_keys(bucket.environment_id, transaction_id, bucket.subscriber_id, bucket.step_id):
        raw = client.get_item(TableName=settings().table_name, Key=items.key(key), ConsistentRead=True)
        if "Item" in raw:
            found: dict[str, Any] = items.doc(raw["Item"])
            return found
    return None


def _transactions(raw: dict[str, Any]) -> list[str]:
    return [entry["S"] for entry in raw.get("txs", {}).get("L", [])]


def _opener(raw: dict[str, Any]) -> str:
    return items.string(raw, "opener") or ""

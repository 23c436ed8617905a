"""Digest buckets: what one subscriber's runs of one digest step collect in one window, for one
value of the digest key, until the window's owner sends them as one digest.

Windows are tumbling and aligned to the epoch: an event at time t belongs to the window that
starts at t - t % length. Every worker computes the same bucket for the same moment without
reading anything, so joining is ONE conditional UpdateItem, and two workers opening the same
window at the same moment meet on the same item: DynamoDB orders their updates, the first one
sets `opener` (if_not_exists) and both learn it from ReturnValues. (The price: the first event
of a window waits between 0 and `length` seconds, not exactly `length`.)

A window is stored in pages, one item each (keys.digest_bucket):

    txs       the joined transactionIds in arrival order; the condition `NOT contains(txs, :tx)`
              makes the append idempotent (a record redelivered by SQS is not added twice)
    opener    the transaction whose join created the page; page 0's opener owns the window:
              its run is the one that sends the digest when the window ends
    closedAt  set by close(): no join succeeds on a closed page
    windowEnd, digestKey, expiresAt (TTL)

The events' payloads are not copied here: each joined transaction's step item (store.messages),
written before it joins, holds its payload, and the owner reads them back in one BatchGetItem
per 100 events. The bucket stays small (about 50 bytes per event with Clarion's generated
transactionIds), and an UpdateItem costs the item's size: a join is 1 write unit for the first
~15 events of a window, one more per ~20 events after that, about 5 on a full page.

A page holds at most PAGE_EVENTS transactions; a full page sends later events to the next one.
Events walk the pages from 0, so a redelivered event finds its transaction in the page it
joined whichever state that page is in now; each full page passed costs its size again (a
refused conditional write is charged), so windows of many hundreds of events per subscriber
grow expensive. close() closes the pages in order and stops at the first page that is not full
when closed (creating it closed if nobody had): no join can land behind it, because joins only
move past full pages."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from clarion import aws
from clarion.clock import now_iso
from clarion.config import settings
from clarion.store import batches, items, keys

PAGE_EVENTS = 100
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
    """Add the transaction to the window; None if the window is closed (the caller goes on to
    Bucket.following). One UpdateItem, one more per full page passed."""
    client = aws.dynamodb()
    owner: str | None = None
    page = 0
    while True:
        try:
            new = client.update_item(
                TableName=settings().table_name,
                Key=bucket._key(page),
                UpdateExpression=(
                    "SET txs = list_append(if_not_exists(txs, :empty), :joined), "
                    "opener = if_not_exists(opener, :tx), windowEnd = :end, digestKey = :key, "
                    "expiresAt = :expires"
                ),
                ConditionExpression=(
                    "attribute_not_exists(closedAt) AND "
                    "(attribute_not_exists(txs) OR (NOT contains(txs, :tx) AND size(txs) < :cap))"
                ),
                ExpressionAttributeValues={
                    ":empty": {"L": []},
                    ":joined": {"L": [items.s(transaction_id)]},
                    ":tx": items.s(transaction_id),
                    ":cap": items.n(PAGE_EVENTS),
                    ":end": items.n(bucket.end),
                    ":key": items.s(bucket.key),
                    ":expires": items.n(bucket.end + _TTL_DAYS_AFTER_END * 86_400),
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )["Attributes"]
            return Joined(owner or _opener(new), repeated=False)
        except client.exceptions.ConditionalCheckFailedException as error:
            old: Any = error.response.get("Item") or {}
        joined = _transactions(old)
        owner = owner or _opener(old)
        if transaction_id in joined:
            return Joined(owner, repeated=True)
        if len(joined) < PAGE_EVENTS:
            return None  # closed before it filled up: the window is over
        page += 1


def close(bucket: Bucket, cancelled: bool = False) -> list[str]:
    """Close every page of the window; the joined transactionIds in arrival order. Idempotent:
    closing again answers the same list (a closed page never changes)."""
    client = aws.dynamodb()
    update = "SET closedAt = if_not_exists(closedAt, :now), expiresAt = :expires"
    if cancelled:
        update += ", cancelledAt = if_not_exists(cancelledAt, :now)"
    joined: list[str] = []
    page = 0
    while True:
        closed = client.update_item(
            TableName=settings().table_name,
            Key=bucket._key(page),
            UpdateExpression=update,
            ExpressionAttributeValues={
                ":now": items.s(now_iso()),
                ":expires": items.n(bucket.end + _TTL_DAYS_AFTER_END * 86_400),
            },
            ReturnValues="ALL_NEW",
        )["Attributes"]
        on_page = _transactions(closed)
        joined += on_page
        if len(on_page) < PAGE_EVENTS:
            return joined
        page += 1


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

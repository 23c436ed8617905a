"""One rate-limit bucket per environment, as GCRA (the token bucket's exact equivalent, kept as a
single "theoretical arrival time" in microseconds). Taking N tokens is one conditional UpdateItem in the
common case, two when the bucket's state is not the one this container saw last.

Sharding. Every request writes the bucket, so at a high rate its item would pass DynamoDB's
1,000 write units per second per key. An environment whose rate needs it gets `shards_for(rate,
burst)` buckets, each with 1/S of the rate and of the burst, on keys of their own: in time units
a shard's tolerance is the whole bucket's and a token costs S intervals. A request tries the
shards from a random one on, skipping those this container last saw too full for it (a bucket's
tat never goes back, so that sight is a bound: skipping is never wrong), and is refused only when
none can take it. One shard is exactly the unsharded bucket.

Tolerance against one bucket of the same rate and burst (S shards):
- never admits more: over any window the shards together admit at most what the bucket would;
- refuses a request only when no shard holds its cost, so when fewer than S x cost tokens are left
  in all (the bucket: fewer than cost); uniform random choice keeps the shards evenly filled;
- `RateLimit-Remaining` sums the shards as this container last saw them (exact with one shard, or
  when this container made the shards' last writes); `Retry-After` is when the first shard can take
  the request: later by at most cost / (rate / S) seconds, under 0.2 s for a bulk of 100 at the
  500 tokens/s a shard is given."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.store import items, keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SHARD_TOKENS_PER_SECOND = 500  # at most this many accepted writes a second on one shard's key
MIN_SHARD_BURST = 100  # a shard always holds the largest bulk (100 records)


def shards_for(per_second: int, burst: int) -> int:
    """How many shards an environment's bucket needs: one up to 500 records/s."""
    return max(1, min(math.ceil(per_second / SHARD_TOKENS_PER_SECOND), burst // MIN_SHARD_BURST))


@dataclass(frozen=True)
class Taken:
    allowed: bool
    tat_us: int  # the bucket's theoretical arrival time after (or, if refused, before) this request
    wait_us: int = 0  # refused: how long until the request could pass
    remaining_us: int | None = None  # the room left in all shards, in the whole bucket's time units


_busy_hint: dict[str, bool] = {}
_seen_tat: dict[str, int] = {}  # per shard: the tat this container last saw (a lower bound)
_ATTEMPTS = 4  # each refused update returns the bucket's state, so this converges fast


def forget() -> None:
    """Drop what this container saw of every bucket (a test's fresh account)."""
    _busy_hint.clear()
    _seen_tat.clear()


def _hint_key(environment_id: str, shard: int) -> str:
    return environment_id if shard == 0 else f"{environment_id}#{shard}"


def take(
    environment_id: str,
    now_us: int,
    cost_us: int,
    tolerance_us: int,
    client: DynamoDBClient | None = None,
    shards: int = 1,
) -> Taken:
    """Advance the bucket by cost_us if it stays within tolerance_us of now (sharded: one of its
    shards by cost_us x shards, within the same tolerance)."""
    client = client or aws.dynamodb()
    shard_cost = cost_us * shards
    latest = now_us + tolerance_us - shard_cost
    first = random.randrange(shards) if shards > 1 else 0
    refusals: list[Taken] = []
    for step in range(shards):
        shard = (first + step) % shards
        seen = _seen_tat.get(_hint_key(environment_id, shard))
        if seen is not None and seen > latest:
            refusals.append(Taken(False, seen))
            continue
        taken = _take_shard(client, environment_id, shard, now_us, shard_cost, tolerance_us)
        if taken.allowed:
            return _summed(environment_id, shards, taken, now_us, tolerance_us)
        refusals.append(taken)
    soonest = min(refusals, key=lambda t: t.tat_us)
    wait = max(soonest.tat_us + shard_cost - tolerance_us - now_us, 0)
    return _summed(environment_id, shards, Taken(False, soonest.tat_us, wait), now_us, tolerance_us)


def _summed(environment_id: str, shards: int, taken: Taken, now_us: int, tolerance_us: int) -> Taken:
    """The room left, summed over every shard as last seen, in the whole bucket's time units."""
    if shards == 1:
        return taken
    room = 0
    for shard in range(shards):
        tat = _seen_tat.get(_hint_key(environment_id, shard), now_us)
        room += tolerance_us - min(max(tat - now_us, 0), tolerance_us)
    return Taken(taken.allowed, taken.tat_us, taken.wait_us, room // shards)


def _take_shard(
    client: DynamoDBClient, environment_id: str, shard: int, now_us: int, cost_us: int, tolerance_us: int
) -> Taken:
    hint = _hint_key(environment_id, shard)
    key = items.key(keys.rate_bucket(environment_id, shard))
    values = {":now": items.n(now_us), ":cost": items.n(cost_us)}
    idle = {
        "UpdateExpression": "SET tat = :fresh",
        "ConditionExpression": "attribute_not_exists(tat) OR tat <= :now",
        "ExpressionAttributeValues": {":now": values[":now"], ":fresh": items.n(now_us + cost_us)},
    }
    busy = {
        "UpdateExpression": "SET tat = tat + :cost",
        "ConditionExpression": "tat > :now AND tat <= :latest",
        "ExpressionAttributeValues": {**values, ":latest": items.n(now_us + tolerance_us - cost_us)},
    }
    attempt = busy if _busy_hint.get(hint) else idle
    latest = now_us + tolerance_us - cost_us
    for _ in range(_ATTEMPTS):
        try:
            answer = client.update_item(
                TableName=settings().table_name,
                Key=key,
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **attempt,  # type: ignore[arg-type]
            )
        except client.exceptions.ConditionalCheckFailedException as error:
            # The bucket is not in the state this form expects (another request moved it): the
            # state it is in says which form can succeed, or that the request must wait.
            old: Any = error.response.get("Item") or {}
            tat = items.number(old, "tat", now_us) if old else now_us
            if old:
                _seen_tat[hint] = tat
            if old and tat > latest:
                _busy_hint[hint] = True
                return Taken(False, tat)
            attempt = busy if old and tat > now_us else idle
            continue
        # Start with whichever form won this time: sparse traffic finds the bucket idle again,
        # sustained traffic finds it busy.
        _busy_hint[hint] = attempt is busy
        tat = items.number(answer["Attributes"], "tat")
        _seen_tat[hint] = tat
        return Taken(True, tat)
    _busy_hint[hint] = True
    return Taken(False, latest + cost_us)

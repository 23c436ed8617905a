"""The sharded rate-limit bucket (store.rate_buckets) against one bucket of the same rate and
burst: one shard is exactly the old bucket; several never admit more, refuse only when no shard
holds the request's cost, and answer the same headers when one container made every write."""

from __future__ import annotations

import random
from typing import Any

import pytest
from clarion import clock
from clarion.config import settings
from clarion.store import environments, items, keys, rate_buckets

from tests.integration.conftest import Cloud

MICROS = 1_000_000


class OneBucket:
    """The unsharded GCRA as the bucket has always answered (costs within the burst)."""

    def __init__(self, tolerance_us: int) -> None:
        self.tat = 0
        self.tolerance = tolerance_us

    def take(self, now: int, cost_us: int) -> bool:
        fresh = max(self.tat, now) + cost_us
        if fresh - now > self.tolerance:
            return False
        self.tat = fresh
        return True

    def remaining(self, now: int, interval: int) -> int:
        return max((self.tolerance - max(self.tat - now, 0)) // interval, 0)


def requests(seed: int, count: int, interval: int, max_cost: int) -> list[tuple[int, int]]:
    """(now_us, cost in tokens): bursts and pauses, time only moving forward."""
    rng = random.Random(seed)
    now, out = 1_000_000_000, []
    for _ in range(count):
        now += rng.choice([0, 0, 0, interval, 10 * interval, 100 * interval, 1_000 * interval])
        out.append((now, rng.randint(1, max_cost)))
    return out


@pytest.mark.parametrize("seed", range(3))
def test_one_shard_answers_exactly_as_the_one_bucket(cloud: Cloud, seed: int) -> None:
    interval, burst = MICROS // 400, 300  # 400 records/s: one shard
    assert rate_buckets.shards_for(400, burst) == 1
    reference = OneBucket(burst * interval)
    with cloud.configured_as("ApiFunction"):
        for now, cost in requests(seed, 150, interval, 100):
            expected = reference.take(now, cost * interval)
            taken = rate_buckets.take("development", now, cost * interval, burst * interval, shards=1)
            assert taken.allowed is expected
            if expected:
                assert taken.tat_us == reference.tat


def shard_rooms(cloud: Cloud, shards: int, now: int, tolerance: int, interval: int) -> list[int]:
    """Tokens each shard holds right now, read from the table."""
    rooms = []
    for shard in range(shards):
        found: Any = cloud.dynamodb.get_item(
            TableName=settings().table_name, Key=items.key(keys.rate_bucket("development", shard))
        ).get("Item")
        tat = items.number(found, "tat", now) if found else now
        rooms.append(max(tolerance - max(tat - now, 0), 0) // (interval * shards))
    return rooms


@pytest.mark.parametrize("seed", range(3))
def test_shards_never_admit_more_and_refuse_only_when_no_shard_holds_the_cost(
    cloud: Cloud, seed: int
) -> None:
    per_second, burst = 2_000, 4_000
    shards = rate_buckets.shards_for(per_second, burst)
    assert shards == 4
    interval = MICROS // per_second
    tolerance = burst * interval
    admitted: list[tuple[int, int]] = []
    with cloud.configured_as("ApiFunction"):
        for now, cost in requests(seed, 200, interval, 100):
            taken = rate_buckets.take("development", now, cost * interval, tolerance, shards=shards)
            if taken.allowed:
                admitted.append((now, cost))
            else:
                # refused only when no shard can hold it: fewer than shards x cost tokens in all
                rooms = shard_rooms(cloud, shards, now, tolerance, interval)
                assert max(rooms) < cost
                assert sum(rooms) < shards * cost
    assert admitted
    # Never more than one bucket of the same rate and burst lets through, over any window.
    for i, (start, _) in enumerate(admitted):
        total = 0
        for now, cost in admitted[i:]:
            total += cost
            assert total <= burst + (now - start) * per_second // MICROS


def test_sharded_bucket_admits_and_answers_like_one_bucket_over_http(cloud: Cloud) -> None:
    with cloud.configured_as("ApiFunction"):
        environments.set_rate_limit("development", environments.RateLimit(per_second=2_000, burst=400))
    reference = OneBucket(400 * (MICROS // 2_000))
    bulk = {"events": [{"name": "welcome", "to": f"u{i}"} for i in range(25)]}  # 4 a shard
    answers = []
    with clock.controlled():  # the clock stands still: only the bucket decides
        now = clock.now_microseconds()
        for _ in range(18):
            status, headers, _ = cloud.api("POST", "/v1/events/trigger/bulk", bulk)
            expected = reference.take(now, 25 * (MICROS // 2_000))
            answers.append((status, expected))
            assert status == (201 if expected else 429)
            assert headers["RateLimit-Remaining"] == str(reference.remaining(now, MICROS // 2_000))
            assert headers["RateLimit-Limit"] == "400"
            if status == 429:
                assert headers["Retry-After"] == "1"
    assert [s for s, _ in answers].count(201) == 16
    with cloud.configured_as("ApiFunction"):  # four shards, on four keys, took the requests
        assert shard_rooms(cloud, 4, now, 400 * (MICROS // 2_000), MICROS // 2_000) == [0] * 4


def test_a_container_that_saw_the_bucket_full_refuses_without_writing(cloud: Cloud) -> None:
    interval, tolerance = MICROS // 2_000, 4_000 * (MICROS // 2_000)
    writes: list[str] = []
    with cloud.configured_as("ApiFunction"):
        from clarion import aws

        client = aws.dynamodb()
        client.meta.events.register("before-call.dynamodb.UpdateItem", lambda **_: writes.append("write"))
        now = 1_000_000_000
        while rate_buckets.take("development", now, 100 * interval, tolerance, shards=4).allowed:
            pass
        before = len(writes)
        for _ in range(20):
            assert not rate_buckets.take("development", now, 100 * interval, tolerance, shards=4).allowed
        assert len(writes) == before  # every shard is known full: no write, the same answer
        # and once the shards refill, it is admitted again
        assert rate_buckets.take(
            "development", now + 100 * interval * 4, 100 * interval, tolerance, shards=4
        ).allowed


def test_shards_keep_every_key_under_the_partition_limit_at_60000_records_per_second() -> None:
    assert rate_buckets.shards_for(60_000, 120_000) == 120  # 500 records/s, so writes, a shard
    assert rate_buckets.shards_for(1_000, 2_000) == 2  # the default limit
    assert rate_buckets.shards_for(500, 1_000) == 1
    assert rate_buckets.shards_for(60_000, 500) == 5  # each shard still holds a bulk of 100

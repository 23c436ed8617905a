"""A broadcast reads the sharded subscriber listing one partition after another
(store.subscriber_shards), not merged in id order as the API's listing is: every subscriber is
reached exactly once whatever the environment's size and however its items are spread (the
unsharded partition of items written before the sharding too), a continuation queued with the
listing's old cursor resumes, a subscriber moved from the unsharded partition into its shard in
the middle of a broadcast is sent to once, and a page costs a Query or two, not one per partition."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from clarion import aws
from clarion.engine import recipients
from clarion.engine.parts import Parts
from clarion.model import Continuation, SubscriberProfile, TriggerRecord
from clarion.model.trigger import AllSubscribers
from clarion.store import keys, messages, paging, subscriber_shards, subscribers

from tests.integration.conftest import DEVELOPMENT, Cloud
from tests.integration.subscriber_items import put_subscribers
from tests.workflows import email, in_app, workflow

BROADCAST = "/v1/events/trigger/broadcast"


def mixed(count: int) -> tuple[list[str], list[str]]:
    """`count` ids, about a third of them unsharded: (legacy, sharded)."""
    ids = [f"m{i:03d}" for i in range(count)]
    return ids[::3], [i for n, i in enumerate(ids) if n % 3]


@contextmanager
def counted_queries(cloud: Cloud) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """A DynamoDB client configured as the worker's, and every Query it sends."""
    sent: list[dict[str, Any]] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        sent.append(params)

    with cloud.configured_as("WorkerFunction"):
        client = aws.dynamodb()
        client.meta.events.register("provide-client-params.dynamodb.Query", count)
        try:
            yield client, sent
        finally:
            client.meta.events.unregister("provide-client-params.dynamodb.Query", count)


def walk(
    cloud: Cloud, limit: int, cursor: str | None = None, client: Any = None
) -> tuple[list[list[str]], list[str | None]]:
    """Every page of the walk from `cursor` to its end: (the pages, the cursor each was read with)."""
    pages: list[list[str]] = []
    cursors: list[str | None] = []
    with cloud.configured_as("WorkerFunction"):
        while True:
            cursors.append(cursor)
            ids, cursor = subscriber_shards.page(DEVELOPMENT, limit, cursor, client)
            pages.append(ids)
            if cursor is None:
                return pages, cursors
            assert len(pages) < 1000, "the walk does not end"


def sent(cloud: Cloud, transaction_id: str, channel: str = "in_app") -> dict[str, int]:
    with cloud.configured_as("WorkerFunction"):
        found = messages.for_transaction(DEVELOPMENT, transaction_id)
    counts: dict[str, int] = {}
    for item in found:
        if item["channel"] == channel and item["status"] == "sent":
            counts[item["subscriberId"]] = counts.get(item["subscriberId"], 0) + 1
    return counts


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 250])
def test_the_walk_returns_every_subscriber_once_in_full_pages(cloud: Cloud, size: int) -> None:
    legacy, sharded = mixed(size)
    put_subscribers(cloud, legacy, legacy=True)
    put_subscribers(cloud, sharded)

    pages, _ = walk(cloud, 100)

    found = [i for page in pages for i in page]
    assert sorted(found) == sorted(legacy + sharded)  # each once
    assert all(len(page) == 100 for page in pages[:-1])  # only the last page is short (or empty)
    # a walk that fills its page at the end of a partition learns only on the next page that the
    # partitions after it are empty
    assert len(pages) == size // 100 + 1 or (size % 100 == 0 and len(pages) == size // 100)
    assert found[: len(legacy)] == sorted(legacy)  # the unsharded partition first


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 250])
def test_broadcast_reaches_every_subscriber_exactly_once(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    legacy, sharded = mixed(size)
    put_subscribers(cloud, legacy, legacy=True)
    put_subscribers(cloud, sharded)
    fanned_out: list[str] = []
    real_add = Parts.add

    def add(
        parts: Parts, record: TriggerRecord, continuation: Continuation, *args: Any, **changes: Any
    ) -> None:
        if continuation.kind == "fanout":
            fanned_out.extend(r.subscriber_id for r in changes["recipients"])
        real_add(parts, record, continuation, *args, **changes)

    monkeypatch.setattr(Parts, "add", add)

    status, headers, body = cloud.api("POST", BROADCAST, {"name": "welcome", "transactionId": f"bc-{size}"})
    assert status == 201, body
    cloud.drain()

    assert sorted(fanned_out) == sorted(legacy + sharded)  # one fan-out each
    assert sent(cloud, f"bc-{size}") == dict.fromkeys(legacy + sharded, 1)
    bulk = cloud.api("GET", headers["Location"])[2]["data"]
    assert (bulk["status"], bulk["counts"]) == ("completed", {"completed": 1})


def test_a_continuation_queued_with_the_listings_old_cursor_resumes_after_its_id(cloud: Cloud) -> None:
    """A broadcast continuation enqueued before the deploy carries the merged listing's cursor (the
    last subscriberId of a page over every partition): it goes on with everyone after that id."""
    legacy, sharded = mixed(250)
    put_subscribers(cloud, legacy, legacy=True)
    put_subscribers(cloud, sharded)
    with cloud.configured_as("WorkerFunction"):
        first, old_cursor = subscribers.page(DEVELOPMENT, 100)  # what the old worker read and queued
    assert old_cursor is not None
    done = [s["subscriberId"] for s in first]
    record = TriggerRecord(
        environment_id=DEVELOPMENT,
        bulk_id="bulk-old",
        index=0,
        transaction_id="bc-old",
        workflow_id="welcome",
        recipients=[AllSubscribers()],
        accepted_at="2026-06-01T00:00:00Z",
    )

    reached: list[str] = []
    continuation: Continuation | None = Continuation(kind="broadcast", cursor=old_cursor)
    with cloud.configured_as("WorkerFunction"):
        while continuation is not None:
            parts = Parts()
            recipients.expand_subscribers_page(record, continuation, parts)
            continuation = None
            for part, _ in parts.items:
                assert part.continuation is not None
                if part.continuation.kind == "fanout":
                    reached += [r.subscriber_id for r in part.recipients if isinstance(r, SubscriberProfile)]
                else:
                    continuation = part.continuation

    assert sorted(reached) == sorted(set(legacy + sharded) - set(done))
    assert len(reached) == 150  # each once
    pages, _ = walk(cloud, 7, old_cursor)  # in pages of any size
    assert sorted(i for page in pages for i in page) == sorted(reached)


def test_a_subscriber_moved_into_its_shard_mid_broadcast_is_sent_to_once(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Right after the first page (unsharded subscribers) is read, one subscriber of that page and
    one not read yet are written (which moves them into their shards). The first is met again in
    its shard and fanned out twice: its step claims make the second run send nothing, in-app or
    email. The second is reached once, in its shard."""
    monkeypatch.setattr(recipients, "BROADCAST_PAGE", 10)
    cloud.mail_through_ses()
    cloud.api("POST", "/v1/workflows", workflow("mail", in_app("inbox", "hi"), email("post", "Hi", "hi")))
    legacy = [f"old{i:02d}" for i in range(30)]
    sharded = [f"new{i:02d}" for i in range(20)]
    put_subscribers(cloud, legacy, legacy=True, mail=True)
    put_subscribers(cloud, sharded, mail=True)

    real_page = subscriber_shards.page
    pages: list[list[str]] = []

    def page(environment_id: str, limit: int, cursor: str | None = None) -> tuple[list[str], str | None]:
        ids, next_cursor = real_page(environment_id, limit, cursor)
        pages.append(ids)
        if len(pages) == 1:
            assert ids == legacy[:10]
            for moved in ("old03", "old25"):  # read already; not read yet
                subscribers.update(
                    environment_id, moved, lambda doc: doc | {"firstName": "Moved"}, "2026-06-01"
                )
        return ids, next_cursor

    monkeypatch.setattr(subscriber_shards, "page", page)
    status, _, body = cloud.api("POST", BROADCAST, {"name": "mail", "transactionId": "bc-moved"})
    assert status == 201, body
    cloud.drain()

    with cloud.configured_as("WorkerFunction"):
        moved = subscribers.get_many(DEVELOPMENT, ["old03", "old25"])
    assert {doc["firstName"] for doc in moved.values()} == {"Moved"}
    assert [i for p in pages for i in p].count(
        "old03"
    ) == 2  # read in the unsharded partition, then its shard
    assert [i for p in pages for i in p].count("old25") == 1  # moved before it was read there
    everyone = dict.fromkeys(legacy + sharded, 1)
    assert sent(cloud, "bc-moved") == everyone
    assert sent(cloud, "bc-moved", "email") == everyone
    assert cloud.emails_sent() == len(everyone)
    feed = cloud.api("GET", "/v1/subscribers/old03/notifications/feed")[2]["data"]
    assert len(feed) == 1


def queries_per_page(cloud: Cloud, read: Any) -> tuple[list[str], list[int]]:
    """Every id `read(cursor, client)` pages through, and the Queries each page sent."""
    found: list[str] = []
    per_page: list[int] = []
    with counted_queries(cloud) as (client, queries):
        cursor: str | None = None
        while True:
            before = len(queries)
            ids, cursor = read(cursor, client)
            per_page.append(len(queries) - before)
            found += ids
            if cursor is None:
                return found, per_page


def listing_page(cursor: str | None, client: Any) -> tuple[list[str], str | None]:
    docs, next_cursor = subscribers.page(DEVELOPMENT, 100, cursor, client)
    return [doc["subscriberId"] for doc in docs], next_cursor


@pytest.mark.parametrize("unsharded", [False, True])
def test_a_page_costs_a_query_or_two_in_an_environment_of_1000(cloud: Cloud, unsharded: bool) -> None:
    """1,000 subscribers, none or a third of them unsharded (three pages of one Query each), the
    others over 100 shards (~7-10 a shard, 10-15 shards a page): each partition is read once,
    plus about one Query a page where a page stopped inside a partition or read ahead past it.
    The merged listing, which broadcasts read before, reads every partition for every page."""
    ids = [f"m{i:03d}" for i in range(1000)]
    legacy = ids[::3] if unsharded else []  # 334
    sharded = sorted(set(ids) - set(legacy))
    put_subscribers(cloud, legacy, legacy=True)
    put_subscribers(cloud, sharded)

    found, per_page = queries_per_page(
        cloud, lambda cursor, client: subscriber_shards.page(DEVELOPMENT, 100, cursor, client)
    )
    listed, listing = queries_per_page(cloud, listing_page)

    assert sorted(found) == sorted(listed) == sorted(ids)
    partitions = len(keys.subscriber_walk(DEVELOPMENT))
    assert len(listing) == 10 and min(listing) >= partitions, listing  # 1,010 Queries or more
    assert len(per_page) == 10
    if unsharded:
        assert per_page[:3] == [1, 1, 1]
    assert sum(per_page) <= partitions + len(per_page) + 8, per_page  # 111 and 117 as measured
    assert max(per_page) <= 20, per_page


def test_pages_that_fill_at_the_end_of_a_partition_resume_in_the_next(cloud: Cloud) -> None:
    """Pages of 3 over 3 unsharded subscribers, then shards holding 3, 4 and 2: pages end at a
    partition's end, inside one, and in a partition read at once with the one that filled it."""
    by_shard: dict[int, list[str]] = {}
    for n in range(2000):
        by_shard.setdefault(keys.shard(f"x{n}"), []).append(f"x{n}")
    first, second, third = sorted(by_shard)[:3]  # the walk reads them in this order
    sharded = by_shard[first][:3] + by_shard[second][:4] + by_shard[third][:2]
    legacy = ["old1", "old2", "old3"]
    put_subscribers(cloud, legacy, legacy=True)
    put_subscribers(cloud, sharded)

    pages, _ = walk(cloud, 3)

    assert [sorted(p) for p in pages] == [
        legacy,
        sorted(by_shard[first][:3]),
        sorted(by_shard[second][:4])[:3],
        sorted(sorted(by_shard[second][:4])[3:] + by_shard[third][:2]),
        [],  # the fourth page filled at its partition's end: only reading on shows nobody is left
    ]


def test_a_small_environment_reads_each_partition_once(cloud: Cloud) -> None:
    put_subscribers(cloud, ["a", "b"], legacy=True)
    put_subscribers(cloud, [f"s{i}" for i in range(5)])
    with counted_queries(cloud) as (client, queries):
        pages, _ = walk(cloud, 100, client=client)
    assert sorted(pages[0]) == ["a", "b", "s0", "s1", "s2", "s3", "s4"] and len(pages) == 1
    assert sorted(q["ExpressionAttributeValues"][":pk"]["S"] for q in queries) == sorted(
        keys.subscriber_walk(DEVELOPMENT)
    )


def test_a_cursor_that_is_not_the_walks_is_refused(cloud: Cloud) -> None:
    put_subscribers(cloud, [f"s{i}" for i in range(30)])
    with cloud.configured_as("WorkerFunction"):
        _, cursor = subscriber_shards.page(DEVELOPMENT, 10)
        assert cursor is not None
        fields = paging.decode_fields(cursor, "subscriber-walk")
        forged = [
            paging.encode_cursor("tenants", "s1"),
            paging.encode_cursor("subscriber-walk", fields["after"], p=101),
            paging.encode_cursor("subscriber-walk", fields["after"], p=-1),
            paging.encode_cursor("subscriber-walk", fields["after"]),
            paging.encode_cursor("subscriber-walk", "x" * 1025, p=1),
            paging.encode_cursor("subscriber-walk", "", p=True),
            paging.encode_cursor("subscriber-walk", "", p=1, floor=""),
            "bm90LWEtY3Vyc29y",
        ]
        for bad in forged:
            with pytest.raises(subscriber_shards.BadCursorError):
                subscriber_shards.page(DEVELOPMENT, 10, bad)

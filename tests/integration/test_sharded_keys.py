"""The subscriber listing and a transaction's claims are sharded (store.keys.SHARDS partitions, by
a hash of the subscriber id) so that no key takes every first contact or every notification of a
fan-out. These tests show the sharded forms answer as one partition did: the listing in
subscriberId order whatever the page size, a broadcast reaching everyone once (items written
before the sharding too), a topic fan-out's messages listed and cancelled by transactionId, and a
redelivered fan-out page sending nothing twice."""

from __future__ import annotations

import pytest
from clarion import aws
from clarion.config import settings
from clarion.engine import recipients
from clarion.store import batches, items, keys, messages

from tests.integration.conftest import DEVELOPMENT, Cloud
from tests.integration.subscriber_items import put_subscribers
from tests.workflows import delay, email, in_app, workflow

BROADCAST = "/v1/events/trigger/broadcast"


def add_subscribers(cloud: Cloud, ids: list[str]) -> None:
    for start in range(0, len(ids), 100):
        chunk = ids[start : start + 100]
        status, _, body = cloud.api(
            "POST", "/v1/subscribers/bulk", {"subscribers": [{"subscriberId": i} for i in chunk]}
        )
        assert status == 201, body


def listed(cloud: Cloud, limit: int) -> list[str]:
    """Every subscriberId of the listing, walked page by page with the API's cursors."""
    found: list[str] = []
    cursor: str | None = None
    while True:
        query = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        status, _, body = cloud.api("GET", "/v1/subscribers", query=query)
        assert status == 200, body
        assert len(body["data"]) <= limit
        found += [s["subscriberId"] for s in body["data"]]
        cursor = body["next"]
        if cursor is None:
            return found
        assert len(body["data"]) == limit  # only the last page is short


def gsi1_partitions(cloud: Cloud, ids: list[str]) -> set[str]:
    with cloud.configured_as("ApiFunction"):
        raw = batches.get(
            aws.dynamodb(), settings().table_name, [items.key(keys.subscriber(DEVELOPMENT, i)) for i in ids]
        )
        return {items.string(r, "gsi1pk") or "" for r in raw}


def sent_in_app(cloud: Cloud, transaction_id: str) -> dict[str, int]:
    with cloud.configured_as("WorkerFunction"):
        found = messages.for_transaction(DEVELOPMENT, transaction_id)
    counts: dict[str, int] = {}
    for item in found:
        if item["channel"] == "in_app" and item["status"] == "sent":
            counts[item["subscriberId"]] = counts.get(item["subscriberId"], 0) + 1
    return counts


# ids whose order as strings differs from their order as numbers, and some non-ASCII
IDS = [f"u{i}" for i in range(120)] + ["Z", "a#b", "ä", "é-1", "z", "日本", "😀"]


@pytest.mark.parametrize("limit", [1, 7, 50, 100])
def test_listing_across_shards_is_in_subscriber_id_order_for_any_page_size(cloud: Cloud, limit: int) -> None:
    # Pages of one read every partition each (101 Queries): they walk the last 27 ids, the odd ones too.
    ids = IDS if limit > 1 else IDS[100:]
    add_subscribers(cloud, ids)
    assert len(gsi1_partitions(cloud, ids)) > len(ids) // 2  # spread over the shards, not one partition
    assert listed(cloud, limit) == sorted(ids)


def test_listing_and_broadcast_include_subscribers_indexed_before_the_sharding(cloud: Cloud) -> None:
    legacy = [f"old{i:02d}" for i in range(15)]
    new = [f"new{i:02d}" for i in range(15)] + ["old07x", "zz"]
    put_subscribers(cloud, legacy, legacy=True)
    add_subscribers(cloud, new)
    assert f"ENV#{DEVELOPMENT}#SUBS" in gsi1_partitions(cloud, legacy)
    assert listed(cloud, 4) == sorted(legacy + new)

    status, _, body = cloud.api("POST", BROADCAST, {"name": "welcome", "transactionId": "bc-legacy"})
    assert status == 201, body
    cloud.drain()
    assert sent_in_app(cloud, "bc-legacy") == dict.fromkeys(legacy + new, 1)


def test_broadcast_in_small_pages_reaches_every_sharded_subscriber_exactly_once(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recipients, "BROADCAST_PAGE", 9)
    add_subscribers(cloud, IDS)
    status, _, body = cloud.api("POST", BROADCAST, {"name": "welcome", "transactionId": "bc-shards"})
    assert status == 201, body
    cloud.drain()
    assert sent_in_app(cloud, "bc-shards") == dict.fromkeys(IDS, 1)


def test_a_topic_fan_outs_messages_are_listed_by_transaction_and_cancelled(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recipients, "TOPIC_PAGE", 10)
    members = [f"m{i:02d}" for i in range(40)]
    add_subscribers(cloud, members)
    cloud.api(
        "POST",
        "/v1/workflows",
        workflow("later", in_app("now", "hi"), delay("wait", "3600"), in_app("then", "bye")),
    )
    cloud.api("POST", "/v1/topics", {"key": "crew", "name": "Crew"})
    assert cloud.api("POST", "/v1/topics/crew/subscribers", {"subscribers": members})[0] == 200
    status, _, _ = cloud.api(
        "POST",
        "/v1/events/trigger",
        {"name": "later", "to": [{"type": "Topic", "topicKey": "crew"}], "transactionId": "t-crew"},
    )
    assert status == 201
    cloud.drain()
    with cloud.configured_as("WorkerFunction"):
        claims = messages.for_transaction(DEVELOPMENT, "t-crew")
        partitions = {
            keys.message(DEVELOPMENT, "t-crew", m["subscriberId"], m["stepId"])["pk"] for m in claims
        }
    assert len(partitions) > 20  # the fan-out's claims are spread over the shards

    # the listing by transactionId, in (subscriber, step) order, walked in pages of 7
    rows: list[tuple[str, str]] = []
    cursor: str | None = None
    while True:
        query = {"transactionId": "t-crew", "limit": "7"} | ({"cursor": cursor} if cursor else {})
        status, _, body = cloud.api("GET", "/v1/messages", query=query)
        assert status == 200, body
        rows += [(r["subscriberId"], r["stepId"]) for r in body["data"]]
        if not (cursor := body["next"]):
            break
    assert rows == sorted((m, "now") for m in members)  # a delay is not a message; 'then' has not run
    one = cloud.api("GET", "/v1/messages", query={"transactionId": "t-crew", "subscriberId": "m17"})[2][
        "data"
    ]
    assert [(r["subscriberId"], r["stepId"]) for r in one] == [("m17", "now")]
    details = cloud.api("GET", "/v1/execution-details", query={"transactionId": "t-crew"})[2]["data"]
    assert sorted((d["subscriberId"], d["stepId"]) for d in details) == sorted(
        [(m, "now") for m in members] + [(m, "wait") for m in members]
    )

    assert cloud.api("DELETE", "/v1/events/trigger/t-crew")[2] == {"data": True}
    assert cloud.api("DELETE", "/v1/events/trigger/t-crew")[2] == {"data": False}
    with cloud.configured_as("WorkerFunction"):
        waits = [m for m in messages.for_transaction(DEVELOPMENT, "t-crew") if m["stepId"] == "wait"]
    assert sorted(m["subscriberId"] for m in waits) == members
    assert {m["status"] for m in waits} == {"cancelled"}


def test_a_redelivered_fan_out_page_sends_nothing_twice(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recipients, "TOPIC_PAGE", 8)
    cloud.mail_through_ses()
    members = [f"r{i:02d}" for i in range(20)]
    status, _, body = cloud.api(
        "POST",
        "/v1/subscribers/bulk",
        {"subscribers": [{"subscriberId": m, "email": f"{m}@example.com"} for m in members]},
    )
    assert status == 201, body
    cloud.api("POST", "/v1/workflows", workflow("mail", in_app("inbox", "hi"), email("post", "Hi", "hi")))
    cloud.api("POST", "/v1/topics", {"key": "all", "name": "All"})
    assert cloud.api("POST", "/v1/topics/all/subscribers", {"subscribers": members})[0] == 200
    cloud.api(
        "POST",
        "/v1/events/trigger",
        {"name": "mail", "to": [{"type": "Topic", "topicKey": "all"}], "transactionId": "t-redo"},
    )

    while batch := cloud.receive("TriggerQueue"):  # every batch (the record, its pages, their parts) twice
        event = cloud.sqs_event(batch)
        assert cloud.invoke("WorkerFunction", event) == {"batchItemFailures": []}
        assert cloud.invoke("WorkerFunction", event) == {"batchItemFailures": []}
    cloud.drain()

    assert cloud.emails_sent() == len(members)
    assert sent_in_app(cloud, "t-redo") == dict.fromkeys(members, 1)
    for member in members:
        assert len(cloud.api("GET", f"/v1/subscribers/{member}/notifications/feed")[2]["data"]) == 1


def test_messages_claimed_before_the_sharding_are_still_read_marked_and_cancelled(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction run by the code before the sharding (its claims in the transaction's own
    partition) answers the same after it: listed, in the feed, marked read, cancelled."""
    sharded = keys.message

    def unsharded(environment_id: str, transaction_id: str, subscriber_id: str, step_id: str) -> keys.Key:
        return {
            "pk": keys.transaction(environment_id, transaction_id)["pk"],
            "sk": sharded(environment_id, transaction_id, subscriber_id, step_id)["sk"],
        }

    add_subscribers(cloud, ["ann", "bob"])
    cloud.api(
        "POST",
        "/v1/workflows",
        workflow("later", in_app("now", "hi"), delay("wait", "3600"), in_app("then", "bye")),
    )
    monkeypatch.setattr(keys, "message", unsharded)
    cloud.api("POST", "/v1/events/trigger", {"name": "later", "to": ["ann", "bob"], "transactionId": "t-old"})
    cloud.drain()
    with cloud.configured_as("WorkerFunction"):
        written = aws.dynamodb().query(
            TableName=settings().table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": items.s(keys.transaction(DEVELOPMENT, "t-old")["pk"])},
        )["Items"]
    assert len([r for r in written if r["sk"]["S"].startswith("MSG#")]) == 4  # now and wait, for both
    monkeypatch.setattr(keys, "message", sharded)

    rows = cloud.api("GET", "/v1/messages", query={"transactionId": "t-old"})[2]["data"]
    assert [(r["subscriberId"], r["stepId"]) for r in rows] == [("ann", "now"), ("bob", "now")]
    feed = cloud.api("GET", "/v1/subscribers/ann/notifications/feed")[2]["data"]
    assert [m["content"]["body"] for m in feed] == ["hi"]
    status, _, body = cloud.api(
        "POST", "/v1/subscribers/ann/messages/mark-as", {"messageId": feed[0]["id"], "mark": {"read": True}}
    )
    assert status == 200, body
    assert cloud.api("GET", "/v1/subscribers/ann/notifications/feed")[2]["data"][0]["read"] is True
    assert cloud.api("DELETE", "/v1/events/trigger/t-old")[2] == {"data": True}
    steps = {
        (r["subscriberId"], s["stepId"]): s["status"]
        for r in cloud.api("GET", "/v1/events/trigger/t-old")[2]["data"]["recipients"]
        for s in r["steps"]
    }
    assert steps == {
        ("ann", "now"): "sent",
        ("ann", "wait"): "cancelled",
        ("bob", "now"): "sent",
        ("bob", "wait"): "cancelled",
    }


def test_an_old_listing_cursor_still_resumes_and_a_forged_one_is_a_400(cloud: Cloud) -> None:
    add_subscribers(cloud, IDS)
    first = cloud.api("GET", "/v1/subscribers", query={"limit": "5"})[2]
    rest = cloud.api("GET", "/v1/subscribers", query={"limit": "5", "cursor": first["next"]})[2]
    assert [s["subscriberId"] for s in first["data"] + rest["data"]] == sorted(IDS)[:10]
    status, _, body = cloud.api("GET", "/v1/subscribers", query={"cursor": "bm90LWEtY3Vyc29y"})
    assert status == 400, body

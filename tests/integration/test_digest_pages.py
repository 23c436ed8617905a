"""The digest bucket's storage form (store.digests): a head handing out slots and small pages.
The digest is the same as ever (every payload once, in arrival order) for windows larger than a
page, a redelivery after the window closed stays in the window it joined, and no bucket item
grows past 1 KB however many events the window holds (a join writes two small items)."""

from __future__ import annotations

from typing import Any

import boto3
from clarion.clock import ControlledClock
from clarion.store import digests, keys

from tests.integration.conftest import DEVELOPMENT, Cloud
from tests.integration.test_digest import (
    at_window_start,
    comment,
    digest_workflow,
    feed,
    trigger,
    wait_for_window_end,
)


def bucket_items(cloud: Cloud, subscriber_id: str) -> list[dict[str, Any]]:
    pk = keys.digest_bucket(DEVELOPMENT, "comments", subscriber_id, "collect", "", 0, 0)["pk"]
    client = boto3.client("dynamodb", region_name="us-east-1")
    answer = client.query(
        TableName=cloud.template.ref("ClarionTable"),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    )
    return answer["Items"]


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names and values (strings, numbers, lists of strings)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if "S" in value:
            size += len(value["S"].encode())
        elif "N" in value:
            size += len(value["N"])
        elif "L" in value:
            size += 3 + sum(1 + len(entry.get("S", "").encode()) for entry in value["L"])
    return size


def test_a_window_of_several_pages_sends_every_payload_once_in_order(
    cloud: Cloud, controlled: ControlledClock
) -> None:
    count = 2 * digests.PAGE_EVENTS + 5  # three pages, the last one part full
    cloud.api("POST", "/v1/workflows", digest_workflow())
    clock = at_window_start(controlled)
    texts = [f"e{i}" for i in range(count)]
    trigger(cloud, [comment("ann", text) for text in texts])
    cloud.drain()

    stored = bucket_items(cloud, "ann")
    assert len(stored) == 1 + 3  # the head and three pages
    assert max(item_bytes(item) for item in stored) < 1024

    wait_for_window_end(clock)
    cloud.drain()
    assert feed(cloud, "ann") == [f"{count} new: " + "".join(f"{t};" for t in texts)]


def test_a_batch_redelivered_after_its_window_closed_stays_in_that_window(
    cloud: Cloud, controlled: ControlledClock
) -> None:
    cloud.api("POST", "/v1/workflows", digest_workflow())
    clock = at_window_start(controlled)
    trigger(cloud, [comment("ann", text) for text in ("a", "b", "c")])
    batch = cloud.sqs_event(cloud.receive("TriggerQueue"))
    assert cloud.invoke("WorkerFunction", batch) == {"batchItemFailures": []}
    wait_for_window_end(clock)
    cloud.drain()
    assert feed(cloud, "ann") == ["3 new: a;b;c;"]

    # SQS delivers the same batch again: its events joined the closed window, they open no other
    assert cloud.invoke("WorkerFunction", batch) == {"batchItemFailures": []}
    cloud.drain()
    wait_for_window_end(clock)
    cloud.drain()
    assert feed(cloud, "ann") == ["3 new: a;b;c;"]

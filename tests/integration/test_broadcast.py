"""Novu's broadcast in-process: one record to every subscriber of the environment, read page by
page and fanned out as parts, never loaded at once; answered like a single trigger."""

from __future__ import annotations

from typing import Any

import pytest
from clarion.engine import recipients
from clarion.engine.parts import Parts
from clarion.model import Continuation, TriggerRecord
from clarion.store import messages

from tests.integration.conftest import DEVELOPMENT, Cloud

BROADCAST = "/v1/events/trigger/broadcast"


def add_subscribers(cloud: Cloud, count: int) -> list[str]:
    ids = [f"s{i:03d}" for i in range(count)]
    status, _, body = cloud.api(
        "POST", "/v1/subscribers/bulk", {"subscribers": [{"subscriberId": i} for i in ids]}
    )
    assert status == 201, body
    return ids


def in_app_by_subscriber(cloud: Cloud, transaction_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    with cloud.configured_as("WorkerFunction"):
        items = messages.for_transaction(DEVELOPMENT, transaction_id)
    for item in items:
        if item["channel"] == "in_app" and item["status"] == "sent":
            counts[item["subscriberId"]] = counts.get(item["subscriberId"], 0) + 1
    return counts


class PartsSpy:
    """Every part the worker enqueues: (continuation kind, number of recipients)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.parts: list[tuple[str, int]] = []
        real_add = Parts.add

        def add(
            parts: Parts,
            record: TriggerRecord,
            continuation: Continuation,
            delay_seconds: int = 0,
            **changes: Any,
        ) -> None:
            recipients = changes.get("recipients", record.recipients)
            self.parts.append((continuation.kind, len(recipients)))
            real_add(parts, record, continuation, delay_seconds, **changes)

        monkeypatch.setattr(Parts, "add", add)

    def of(self, kind: str) -> list[int]:
        return [size for part_kind, size in self.parts if part_kind == kind]


def test_broadcast_reaches_each_of_250_subscribers_exactly_once(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = add_subscribers(cloud, 250)
    spy = PartsSpy(monkeypatch)
    status, headers, body = cloud.api(
        "POST", BROADCAST, {"name": "welcome", "payload": {"message": "Hello, everyone"}}
    )
    assert status == 201
    assert body["data"]["acknowledged"] is True
    assert body["data"]["status"] == "processed"
    transaction_id = body["data"]["transactionId"]

    cloud.drain()

    assert in_app_by_subscriber(cloud, transaction_id) == dict.fromkeys(ids, 1)
    assert spy.of("broadcast") == [1, 1, 1]  # the first page, then one continuation per next page
    assert spy.of("fanout") == [100, 100, 50]
    for subscriber_id in ("s000", "s149", "s249"):
        feed = cloud.api("GET", f"/v1/subscribers/{subscriber_id}/notifications/feed")[2]["data"]
        assert [m["content"]["body"] for m in feed] == ["Hello, everyone"]
    bulk = cloud.api("GET", headers["Location"])[2]["data"]
    assert (bulk["total"], bulk["status"], bulk["counts"]) == (1, "completed", {"completed": 1})


def test_broadcast_pages_are_parts_and_the_actor_is_left_out(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recipients, "BROADCAST_PAGE", 7)  # 30 subscribers: five pages of 7, one of 2
    ids = add_subscribers(cloud, 30)
    spy = PartsSpy(monkeypatch)
    read: list[tuple[int, str | None]] = []
    pages: list[list[str]] = []
    real_page = recipients.subscriber_shards.page

    def page(environment_id: str, limit: int, cursor: str | None = None) -> Any:
        read.append((limit, cursor))
        ids, next_cursor = real_page(environment_id, limit, cursor)
        pages.append(ids)
        return ids, next_cursor

    monkeypatch.setattr(recipients.subscriber_shards, "page", page)
    status, _, body = cloud.api(
        "POST", BROADCAST, {"name": "welcome", "actor": "s010", "transactionId": "bc-actor"}
    )
    assert (status, body["data"]["transactionId"]) == (201, "bc-actor")

    cloud.drain()

    assert [limit for limit, _ in read] == [7] * 5
    assert read[0][1] is None and all(cursor for _, cursor in read[1:])
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    # the actor's page is one short (a broadcast's pages are in no particular order)
    assert spy.of("fanout") == [len(p) - ("s010" in p) for p in pages] and sum(spy.of("fanout")) == 29
    assert in_app_by_subscriber(cloud, "bc-actor") == {i: 1 for i in ids if i != "s010"}


def test_broadcast_with_an_unknown_workflow_is_a_422_like_a_trigger(cloud: Cloud) -> None:
    add_subscribers(cloud, 3)
    status, _, body = cloud.api("POST", BROADCAST, {"name": "no-such-workflow"})
    assert status == 422
    assert body["statusCode"] == 422
    assert body["message"] == "workflow_not_found"
    assert body["errors"]["name"]["messages"] == ["workflow 'no-such-workflow' is not defined"]
    assert body["errors"]["name"]["value"] == "no-such-workflow"
    assert cloud.receive("TriggerQueue") == []


def test_broadcast_body_is_validated_and_its_transaction_id_claimed_once(cloud: Cloud) -> None:
    status, _, body = cloud.api("POST", BROADCAST, {"payload": {"a": 1}})
    assert status == 400
    assert [e["field"] for e in body["errors"]] == ["name"]
    assert cloud.api("POST", BROADCAST, {"name": "welcome", "transactionId": "bc-once"})[0] == 201
    status, _, body = cloud.api("POST", BROADCAST, {"name": "welcome", "transactionId": "bc-once"})
    assert status == 422
    assert "already used" in body["errors"]["transactionId"]["messages"][0]


def test_broadcast_location_and_idempotency_key_replay(cloud: Cloud) -> None:
    add_subscribers(cloud, 5)
    request = {"name": "welcome", "payload": {"message": "once"}}
    key = {"Idempotency-Key": "broadcast-1"}
    first = cloud.api("POST", BROADCAST, request, headers=key)
    again = cloud.api("POST", BROADCAST, request, headers=key)
    assert first[0] == again[0] == 201
    assert again[1].get("Idempotency-Replay") == "true"
    assert again[2] == first[2]
    assert again[1]["Location"] == first[1]["Location"]
    assert first[1]["Location"].startswith("/v1/events/trigger/bulk/")

    cloud.drain()

    bulk = cloud.api("GET", first[1]["Location"])[2]["data"]
    assert (bulk["total"], bulk["counts"]) == (1, {"completed": 1})
    records = cloud.api("GET", f"{first[1]['Location']}/records")[2]["data"]
    assert [(r["index"], r["transactionId"]) for r in records] == [(0, first[2]["data"]["transactionId"])]
    feed = cloud.api("GET", "/v1/subscribers/s004/notifications/feed")[2]["data"]
    assert [m["content"]["body"] for m in feed] == ["once"]  # replayed, not broadcast twice

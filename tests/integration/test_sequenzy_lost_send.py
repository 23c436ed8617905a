"""Sequenzy's eventIds when a request dies between recording its events and sending their
workflows: the client's retry is answered `duplicate: true` and starts what was lost, once
(`queued`); a plain repeat sends nothing (and shows no workflows, as before); a repeat recorded
longer ago than intake's claim lifetime (less a day) is not offered again."""

from __future__ import annotations

from typing import Any

import pytest
from clarion import queues
from clarion.config import settings
from clarion.model import TriggerRecord
from clarion.model.packed import records_of
from clarion.store import items, keys

from tests.controlled_clock import controlled_clock
from tests.integration.conftest import DEVELOPMENT, Cloud
from tests.integration.test_sequenzy import events, feed, workflow

BODY = {
    "externalId": "lost-1",
    "email": "lost1@example.com",
    "events": [
        {"name": "upgraded", "eventId": "e-1", "properties": {"plan": "pro"}},
        {"name": "upgraded", "eventId": "e-2", "properties": {"plan": "team"}},
        {"name": "upgraded", "eventId": "e-1", "properties": {"plan": "again"}},
    ],
}
DAY = 86_400


def trigger_messages(cloud: Cloud) -> list[dict[str, Any]]:
    """The TriggerQueue's messages now (received and deleted: counted once)."""
    found: list[dict[str, Any]] = []
    while batch := cloud.receive("TriggerQueue"):
        found += batch
        cloud.delete("TriggerQueue", batch)
    return found


def records_in(messages: list[dict[str, Any]]) -> list[TriggerRecord]:
    """The trigger records these messages hold (intake packs up to ten a message, model.packed)."""
    return [record for message in messages for record in records_of(message["Body"])]


def statuses(answer: dict[str, Any]) -> list[tuple[str, bool, list[str]]]:
    return [
        (e["id"], e.get("duplicate", False), [w["status"] for w in e.get("workflows", [])])
        for e in answer["events"]
    ]


def dies(cloud: Cloud, monkeypatch: pytest.MonkeyPatch, body: dict[str, Any]) -> None:
    """Send `body` to a function that dies once its events are recorded, before SQS takes the
    triggers (the send raises: a crash, a throttle raised; in-process it raises or answers 5xx)."""
    send = queues.send

    def dead(*args: Any, **kwargs: Any) -> dict[str, str]:
        raise RuntimeError("the function died before SQS took the triggers")

    monkeypatch.setattr(queues, "send", dead)
    try:
        status, answer = events(cloud, body)
    except RuntimeError:
        status, answer = 500, {}
    assert status >= 500, answer
    monkeypatch.setattr(queues, "send", send)


def test_a_request_that_died_before_sending_is_started_once_by_its_retry(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow(cloud, "upgraded")
    dies(cloud, monkeypatch, BODY)
    status, _, activity = cloud.api("GET", "/v1/subscribers/lost-1/events")
    assert sorted(e["id"] for e in activity["data"]) == ["e-1", "e-2"]  # recorded, not sent
    assert trigger_messages(cloud) == []

    status, retry = events(cloud, BODY)
    assert status == 200, retry
    assert statuses(retry) == [("e-1", True, ["queued"]), ("e-2", True, ["queued"]), ("e-1", True, [])]
    sent = trigger_messages(cloud)
    assert sorted(r.payload["plan"] for r in records_in(sent)) == ["pro", "team"]

    status, again = events(cloud, BODY)
    assert statuses(again) == [("e-1", True, []), ("e-2", True, []), ("e-1", True, [])]
    assert trigger_messages(cloud) == []
    for message in sent:  # the worker runs what the retry sent
        cloud.deliver_batch("WorkerFunction", [message], "TriggerQueue")
    assert sorted(feed(cloud, "lost-1")) == ["hi pro", "hi team"]


def test_a_plain_repeat_sends_nothing_twice(cloud: Cloud) -> None:
    workflow(cloud, "upgraded")
    status, first = events(cloud, BODY)
    assert status == 200, first
    assert statuses(first) == [("e-1", False, ["queued"]), ("e-2", False, ["queued"]), ("e-1", True, [])]
    assert len(records_in(trigger_messages(cloud))) == 2
    status, again = events(cloud, BODY)
    assert status == 200, again
    assert statuses(again) == [("e-1", True, []), ("e-2", True, []), ("e-1", True, [])]
    assert trigger_messages(cloud) == []


def test_a_repeat_older_than_the_claim_lifetime_is_not_offered_again(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow(cloud, "upgraded")
    with cloud.configured_as("ApiFunction"):
        lifetime, table = settings().status_ttl_days * DAY, settings().table_name
    one, two = ({**BODY, "events": [event]} for event in BODY["events"][:2])
    with controlled_clock() as clock:
        dies(cloud, monkeypatch, BODY)
        clock.advance(lifetime - DAY - 60)  # just inside: offered, started now
        status, young = events(cloud, one)
        assert status == 200, young
        assert statuses(young) == [("e-1", True, ["queued"])]
        assert len(trigger_messages(cloud)) == 1
        clock.advance(120)  # e-2, recorded as long ago, is not offered
        status, old = events(cloud, two)
        assert status == 200, old
        assert statuses(old) == [("e-2", True, [])]
        clock.advance(DAY)  # e-1's claim's TTL has passed: DynamoDB removes it (moto does not)
        started = young["events"][0]["workflows"][0]["transactionId"]
        cloud.dynamodb.delete_item(TableName=table, Key=items.key(keys.transaction(DEVELOPMENT, started)))
        status, older = events(cloud, one)
        assert status == 200, older
        assert statuses(older) == [("e-1", True, [])]
        assert trigger_messages(cloud) == []

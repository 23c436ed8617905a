"""One intake for every dialect (issue 12) and Novu's / SuprSend's own texts (issue 14), in-process:
empty bulks, Novu's class-validator and `workflow_not_found` texts, SuprSend's Idempotency-Key
replay and its 24 h `$idempotency_key`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clarion import clock

from tests.integration.conftest import Cloud

BULK = "/v1/events/trigger/bulk"


def suprsend(cloud: Cloud, path: str, body: Any, **request: Any) -> tuple[int, dict[str, str], Any]:
    return cloud.api("POST", path, raw_body=json.dumps(body), **request)


def record(**extra: Any) -> dict[str, Any]:
    return {"workflow": "welcome", "recipients": ["ada"], "data": {"n": 1}, **extra}


def test_novu_empty_bulk_is_a_400_saying_events_should_not_be_empty(cloud: Cloud) -> None:
    status, _, body = cloud.api("POST", BULK, {"events": []})
    assert status == 400
    assert (body["statusCode"], body["type"]) == (400, "bad_request")
    assert body["errors"] == [{"field": "events", "message": "events should not be empty", "value": []}]
    assert body["message"] == "events: an empty bulk triggers nothing; send 1 to 100 events"
    assert cloud.receive("TriggerQueue") == []


def test_novu_bulk_of_101_is_a_422_in_class_validator_words(cloud: Cloud) -> None:
    status, _, body = cloud.api("POST", BULK, {"events": [{"name": "welcome", "to": "ada"}] * 101})
    assert status == 422
    assert body["errors"]["events"]["messages"] == ["events must contain no more than 100 elements"]
    assert body["message"] == "events: at most 100 events per request, got 101"


def test_novu_unknown_workflow_says_workflow_not_found_with_clarions_detail_where_there_is_room(
    cloud: Cloud,
) -> None:
    status, headers, body = cloud.trigger_bulk({"name": "nope", "to": "ada", "transactionId": "tx-nope"})
    assert status == 201
    assert body["data"] == [
        {"acknowledged": True, "status": "error", "error": ["workflow_not_found"], "transactionId": "tx-nope"}
    ]
    (row,) = cloud.api("GET", headers["Location"] + "/records")[2]["data"]
    assert (row["status"], row["error"]) == ("error", "workflow 'nope' is not defined")
    status, _, body = cloud.api("POST", "/v1/events/trigger", {"name": "nope", "to": "ada"})
    assert status == 422
    assert body["message"] == "workflow_not_found"
    assert body["errors"] == {"name": {"messages": ["workflow 'nope' is not defined"], "value": "nope"}}


@pytest.mark.parametrize("path", ["/trigger/", "/event/", "/v2/event/", "/v2/bulk/event/"])
def test_suprsend_empty_bulk_is_a_400_in_suprsends_shape(cloud: Cloud, path: str) -> None:
    status, _, body = suprsend(cloud, path, [])
    assert status == 400
    assert body["status"] == "fail"
    assert body["error"]["type"] == "bad_request"
    assert body["message"] == body["error"]["message"]
    assert body["message"].startswith("body: ") and "non-empty array" in body["message"]


def test_suprsend_idempotency_key_header_replays_the_first_answer(cloud: Cloud) -> None:
    headers = {"Idempotency-Key": "ss-retry-1"}
    first = suprsend(cloud, "/trigger/", [record(), record(workflow="nope")], headers=headers)
    again = suprsend(cloud, "/trigger/", [record(), record(workflow="nope")], headers=headers)
    assert first[0] == again[0] == 207
    assert again[2] == first[2]
    assert again[1]["Idempotency-Replay"] == "true" and "Idempotency-Replay" not in first[1]
    assert again[1]["Location"] == first[1]["Location"]
    assert len(cloud.receive("TriggerQueue")) == 1  # the replay enqueued nothing
    status, _, body = suprsend(cloud, "/trigger/", [record(data={"n": 2})], headers=headers)
    assert status == 422
    assert body["status"] == "fail"
    assert body["message"] == "Idempotency-Key: key 'ss-retry-1' was already used with a different body"


def test_suprsend_idempotency_key_header_names_one_bulk_on_every_retry(cloud: Cloud) -> None:
    """Novu's and SuprSend's routes derive a retried request's bulk the same way."""
    (_, headers, _) = suprsend(cloud, "/trigger/", record(), headers={"Idempotency-Key": "k-1"})
    (_, novu_headers, _) = cloud.trigger_bulk(
        {"name": "welcome", "to": "ada"}, headers={"Idempotency-Key": "k-2"}
    )
    assert headers["Location"] != novu_headers["Location"]
    from clarion.intake import bulk_id_for

    assert headers["Location"].endswith(bulk_id_for("development", "k-1"))
    assert novu_headers["Location"].endswith(bulk_id_for("development", "k-2"))


def test_suprsend_idempotency_key_is_honoured_for_24_hours_then_starts_a_new_trigger(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = clock.now_seconds()
    now = [start]
    monkeypatch.setattr(clock, "now_seconds", lambda: now[0])
    keyed = record(**{"$idempotency_key": "order-24h"})

    def enqueued() -> int:
        messages = cloud.receive("TriggerQueue")
        cloud.delete("TriggerQueue", messages)
        return len(messages)

    assert suprsend(cloud, "/trigger/", keyed)[2]["message_id"] == "order-24h"
    assert enqueued() == 1
    now[0] = start + 24 * 3600 - 1  # still within the day: accepted, not run again
    assert suprsend(cloud, "/trigger/", keyed)[:3:2] == (
        202,
        {"message_id": "order-24h", "status": "success"},
    )
    assert enqueued() == 0
    now[0] = start + 24 * 3600 + 1  # a day later: a new trigger
    status, headers, body = suprsend(cloud, "/trigger/", keyed)
    assert (status, body["message_id"]) == (202, "order-24h")
    assert enqueued() == 1
    now[0] += 60  # and that one is honoured again
    assert suprsend(cloud, "/trigger/", keyed)[0] == 202
    assert enqueued() == 0
    view = cloud.api("GET", "/v1/events/trigger/order-24h")[2]["data"]
    assert headers["Location"].endswith(view["bulkId"])  # the key now names the newer trigger


def test_novu_transaction_id_is_never_released_after_a_day(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = clock.now_seconds()
    monkeypatch.setattr(clock, "now_seconds", lambda: start + 2 * 24 * 3600)
    assert (
        cloud.trigger_bulk({"name": "welcome", "to": "ada", "transactionId": "tx-kept"})[2]["data"][0][
            "status"
        ]
        == "processed"
    )
    monkeypatch.setattr(clock, "now_seconds", lambda: start + 20 * 24 * 3600)
    again = cloud.trigger_bulk({"name": "welcome", "to": "ada", "transactionId": "tx-kept"})[2]["data"][0]
    assert again["status"] == "error"
    assert again["error"] == ["transactionId 'tx-kept' was already used in this environment"]

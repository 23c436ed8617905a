"""Callers' keys and Clarion's ids live in separate namespaces (issue 11, point 11): a SuprSend
`$idempotency_key` shaped like Clarion's ids runs, and a Novu transactionId cannot pass for one."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.conftest import Cloud


def suprsend(cloud: Cloud, body: Any) -> tuple[int, dict[str, str], Any]:
    return cloud.api("POST", "/trigger/", raw_body=json.dumps(body))


def record(key: str, distinct_id: str) -> dict[str, Any]:
    return {"workflow": "welcome", "recipients": [distinct_id], "$idempotency_key": key}


def feed_size(cloud: Cloud, subscriber_id: str) -> int:
    return len(cloud.api("GET", f"/v1/subscribers/{subscriber_id}/notifications/feed")[2]["data"])


def test_suprsend_idempotency_key_shaped_like_a_clarion_id_runs_once(cloud: Cloud) -> None:
    novu = cloud.api("POST", "/v1/events/trigger", {"name": "welcome", "to": "ada"})[2]["data"]
    generated = novu["transactionId"]  # a real id of Clarion's: clr_<bulkId>_0
    assert generated.startswith("clr_")

    status, _, first = suprsend(cloud, record(generated, "sam"))
    assert (status, first["status"]) == (202, "success")
    assert first["message_id"] != generated  # its own transaction, not the Novu trigger's
    status, _, again = suprsend(cloud, record(generated, "sam"))
    assert (status, again["message_id"]) == (202, first["message_id"])  # a repeat: accepted, not run
    status, _, bulk = suprsend(cloud, [record("clr_order-7", "kim"), record("clr_key_clr_order-7", "lee")])
    assert status == 207
    ids = [r["message_id"] for r in bulk["records"]]
    assert [r["status"] for r in bulk["records"]] == ["success", "success"] and len(set(ids)) == 2
    cloud.drain()

    assert [feed_size(cloud, s) for s in ("ada", "sam", "kim", "lee")] == [1, 1, 1, 1]
    view = cloud.api("GET", f"/v1/events/trigger/{first['message_id']}")[2]["data"]
    assert view["status"] == "completed" and [r["subscriberId"] for r in view["recipients"]] == ["sam"]
    assert (
        cloud.api("GET", f"/v1/events/trigger/{generated}")[2]["data"]["recipients"][0]["subscriberId"]
        == "ada"
    )


def test_plain_suprsend_key_stays_the_message_id(cloud: Cloud) -> None:
    assert suprsend(cloud, record("order-8", "ann"))[2]["message_id"] == "order-8"


def test_novu_transaction_id_in_clarions_namespace_is_refused_naming_the_field(cloud: Cloud) -> None:
    status, _, body = cloud.api(
        "POST", "/v1/events/trigger", {"name": "welcome", "to": "ada", "transactionId": "clr_mine"}
    )
    assert status == 400
    assert [e["field"] for e in body["errors"]] == ["transactionId"]
    assert "reserved" in body["errors"][0]["message"]

    status, _, body = cloud.api(
        "POST",
        "/v1/events/trigger/bulk",
        {
            "events": [
                {"name": "welcome", "to": "ada", "transactionId": "clr_key_clr_order-7"},
                {"name": "welcome", "to": "ada", "transactionId": "mine-1"},
            ]
        },
    )
    assert status == 201
    refused, accepted = body["data"]
    assert refused["status"] == "error" and refused["error"][0].startswith("transactionId: ")
    assert refused["transactionId"] == "clr_key_clr_order-7"  # the caller's own id, shown back
    assert (accepted["status"], accepted["transactionId"]) == ("processed", "mine-1")

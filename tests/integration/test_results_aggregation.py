"""Outcomes arrive at least once and in any order; every count and final status stays exact."""

from __future__ import annotations

import random
from typing import Any

from clarion.clock import expires_in_days, now_iso
from clarion.model import RecordOutcome, RecordStatus
from clarion.store import bulks
from clarion_cli.lambda_events import sqs_event
from clarion_cli.seed import DEVELOPMENT

from tests.integration.conftest import Cloud


def sqs_batch(outcomes: list[RecordOutcome]) -> dict[str, Any]:
    messages = [
        {"MessageId": f"m-{i}", "ReceiptHandle": f"r-{i}", "Body": o.model_dump_json()}
        for i, o in enumerate(outcomes)
    ]
    return sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:clarion-ResultsQueue")


def test_thousand_outcomes_with_duplicates_and_shuffled_order_count_exactly(cloud: Cloud) -> None:
    rng = random.Random(20261125)
    expected: dict[str, dict[str, int]] = {}
    outcomes: list[RecordOutcome] = []
    with cloud.configured_as("ResultsFunction"):
        for b in range(10):
            bulk_id = f"bulk-{b}"
            bulks.create(
                DEVELOPMENT,
                bulk_id,
                total=100,
                created_at=now_iso(),
                expires_at=expires_in_days(1),
                refused=[],
            )
            counts: dict[str, int] = {}
            for index in range(100):
                status = (
                    RecordStatus.FAILED if (b % 3 == 0 and rng.random() < 0.1) else RecordStatus.COMPLETED
                )
                counts[status.value] = counts.get(status.value, 0) + 1
                outcomes.append(
                    RecordOutcome(
                        environment_id=DEVELOPMENT,
                        bulk_id=bulk_id,
                        index=index,
                        transaction_id=f"{bulk_id}-{index}",
                        status=status,
                    )
                )
            expected[bulk_id] = counts
    assert len(outcomes) == 1000
    delivered = outcomes + rng.sample(outcomes, 200)  # 20% delivered twice
    rng.shuffle(delivered)
    for start in range(0, len(delivered), 100):
        assert cloud.invoke("ResultsFunction", sqs_batch(delivered[start : start + 100])) == {
            "batchItemFailures": []
        }
    assert cloud.invoke("ResultsFunction", sqs_batch(delivered[:100])) == {
        "batchItemFailures": []
    }  # a whole batch again

    for bulk_id, counts in expected.items():
        view = cloud.api("GET", f"/v1/events/trigger/bulk/{bulk_id}")[2]["data"]
        assert view["counts"] == counts, bulk_id
        assert view["total"] == 100
        assert view["status"] == ("partially_failed" if counts.get("failed") else "completed")
        rows, cursor = [], None
        while True:
            page = cloud.api(
                "GET",
                f"/v1/events/trigger/bulk/{bulk_id}/records",
                query={"limit": "30", **({"cursor": cursor} if cursor else {})},
            )[2]
            rows += page["data"]
            cursor = page["next"]
            if not cursor:
                break
        assert [r["index"] for r in rows] == list(range(100))


def test_records_filter_by_status_and_transaction_view(cloud: Cloud) -> None:
    cloud.api(
        "POST",
        "/v1/workflows",
        {
            "workflowId": "two",
            "steps": [
                {"stepId": "a", "type": "in_app", "content": {"body": "A"}},
                {"stepId": "off", "type": "in_app", "active": False, "content": {"body": "B"}},
                {"stepId": "broken", "type": "in_app", "content": {"body": "{% if %}"}},
            ],
        },
    )
    _, headers, _ = cloud.api(
        "POST",
        "/v1/events/trigger/bulk",
        {
            "events": [
                {"name": "welcome", "to": ["ada", "bob"], "transactionId": "tx-ok"},
                {"name": "two", "to": "ada", "transactionId": "tx-two"},
                {"name": "nope", "to": "ada"},
            ]
        },
    )
    assert cloud.api("GET", "/v1/events/trigger/tx-ok")[2]["data"]["status"] == "queued"
    cloud.drain()
    location = headers["Location"]
    failed = cloud.api("GET", location + "/records", query={"status": "failed"})[2]["data"]
    assert [r["transactionId"] for r in failed] == ["tx-two"]
    assert cloud.api("GET", location + "/records", query={"status": "bogus"})[0] == 400

    ok = cloud.api("GET", "/v1/events/trigger/tx-ok")[2]["data"]
    assert ok["status"] == "completed"
    assert ok["bulkId"] == location.rsplit("/", 1)[1]
    assert {r["subscriberId"]: [s["status"] for s in r["steps"]] for r in ok["recipients"]} == {
        "ada": ["sent"],
        "bob": ["sent"],
    }
    two = cloud.api("GET", "/v1/events/trigger/tx-two")[2]["data"]
    steps = {s["stepId"]: s for s in two["recipients"][0]["steps"]}
    assert two["status"] == "failed"
    assert steps["a"]["status"] == "sent"
    assert (steps["off"]["status"], steps["off"]["detail"]) == ("skipped", "step is not active")
    assert steps["broken"]["status"] == "failed" and "template" in steps["broken"]["detail"]
    assert cloud.api("GET", "/v1/events/trigger/unknown-tx")[0] == 404


def test_transaction_id_is_used_once_per_environment(cloud: Cloud) -> None:
    first = cloud.trigger_bulk(
        {"name": "welcome", "to": "ada", "transactionId": "once"},
        {"name": "welcome", "to": "bob", "transactionId": "once"},
    )[2]["data"]
    assert [i["status"] for i in first] == ["processed", "error"]
    assert "already used" in first[1]["error"][0]
    again = cloud.trigger_bulk(
        {"name": "welcome", "to": "carol", "transactionId": "once"},
        {"name": "welcome", "to": "carol", "transactionId": "fresh"},
    )[2]["data"]
    assert [i["status"] for i in again] == ["error", "processed"]
    cloud.drain()
    assert len(cloud.api("GET", "/v1/subscribers/bob/notifications/feed")[2]["data"]) == 0
    assert len(cloud.api("GET", "/v1/subscribers/carol/notifications/feed")[2]["data"]) == 1


def test_generated_transaction_ids_resolve_and_cannot_be_reused(cloud: Cloud) -> None:
    first = cloud.api("POST", "/v1/events/trigger/bulk", {"events": [{"name": "welcome", "to": "ada"}]})[2][
        "data"
    ]
    generated = first[0]["transactionId"]
    assert generated.startswith("clr_")
    assert cloud.api("GET", f"/v1/events/trigger/{generated}")[2]["data"]["status"] == "queued"
    again = cloud.api(
        "POST",
        "/v1/events/trigger/bulk",
        {"events": [{"name": "welcome", "to": "ada", "transactionId": generated}]},
    )[2]["data"]
    assert again[0]["status"] == "error"
    assert "already used" in again[0]["error"][0]
    cloud.drain()
    view = cloud.api("GET", f"/v1/events/trigger/{generated}")[2]["data"]
    assert view["status"] == "completed"
    assert view["workflowId"] == "welcome"
    assert len(cloud.api("GET", "/v1/subscribers/ada/notifications/feed")[2]["data"]) == 1
    bulk_id = generated.split("_")[1]
    assert cloud.api("GET", f"/v1/events/trigger/clr_{bulk_id}_7")[0] == 404

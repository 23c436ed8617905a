"""A record whose worker dies on every attempt (not a caught exception: the invocation itself
fails, as a crash or a timeout makes it) reaches the TriggerDLQ after the queue's maxReceiveCount;
the DeadLetterFunction reports it `failed` (`dead_lettered`), so its bulk still ends with exact
counts, and nothing it delivered before dying is delivered again."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clarion.clock import ControlledClock
from clarion.config import settings
from clarion.engine import batch
from clarion.engine import steps as engine_steps
from clarion.store import attempts
from clarion.store.attempts import Attempt
from clarion_cli.lambda_events import release_messages

from tests.integration.conftest import Cloud

WORKFLOW = {
    "workflowId": "two-notes",
    "steps": [
        {"stepId": "first", "type": "in_app", "content": {"body": "First"}},
        {"stepId": "second", "type": "in_app", "content": {"body": "Second"}},
    ],
}


class WorkerKilled(BaseException):
    """The runtime dying under the handler: no `except Exception` (the batch processor's) sees it."""


def kill_the_worker_on_second_step_of(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, transaction_id: str
) -> None:
    deliver = engine_steps.deliver

    def deliver_or_die(context: Any, step: Any, subscriber: Any, scope: Any) -> Any:
        if context.record.transaction_id == transaction_id and step.step_id == "second":
            raise WorkerKilled
        return deliver(context, step, subscriber, scope)

    monkeypatch.setattr(engine_steps, "deliver", deliver_or_die)


def report_the_dead_letter(cloud: Cloud, location: str) -> dict[str, Any]:
    """The DLQ consumer reports the doomed record (index 4 of 10): the bulk ends partially_failed,
    9 completed and 1 failed as dead_lettered. Returns its record."""
    assert cloud.deliver("DeadLetterFunction") == 1
    cloud.deliver("ResultsFunction")
    assert cloud.receive("TriggerDLQ") == []

    view = cloud.api("GET", location)[2]["data"]
    assert view["status"] == "partially_failed"
    assert view["total"] == 10
    assert view["counts"] == {"completed": 9, "failed": 1}
    failed = cloud.api("GET", location + "/records", query={"status": "failed"})[2]["data"]
    assert [(r["index"], r["transactionId"]) for r in failed] == [(4, "doomed")]
    assert failed[0]["error"].startswith("dead_lettered: ")
    return dict(failed[0])


def worker_attempt(cloud: Cloud, batch_size: int) -> int:
    """One invocation of the worker by its event source: a failed invocation leaves every message
    of its batch to be received again, a failed item its own (here at once, not after the
    visibility timeout)."""
    messages = cloud.receive("TriggerQueue", batch_size)
    if not messages:
        return 0
    try:
        done = {m["MessageId"] for m in cloud.deliver_batch("WorkerFunction", messages)}
    except WorkerKilled:
        done = set()
    # The batch form, as the event source mapping does: a message the worker itself deleted
    # (a redelivered batch's finished records) is refused in the answer, not raised.
    release_messages(
        cloud.sqs, cloud.queue_url("TriggerQueue"), [m for m in messages if m["MessageId"] not in done]
    )
    return len(messages)


def feed(cloud: Cloud, subscriber_id: str) -> list[str]:
    return [
        m["content"]["body"]
        for m in cloud.api("GET", f"/v1/subscribers/{subscriber_id}/notifications/feed")[2]["data"]
    ]


def test_a_worker_killed_on_every_attempt_of_one_record_leaves_a_final_bulk_with_exact_counts(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    kill_the_worker_on_second_step_of(cloud, monkeypatch, "doomed")
    events = [{"name": "two-notes", "to": f"sub-{i}", "transactionId": f"tx-{i}"} for i in range(10)]
    events[4]["transactionId"] = "doomed"
    status, headers, _ = cloud.trigger_bulk(*events)
    assert status == 201

    # Messages one per invocation, so that, once the bulk's packed message is split, only the
    # doomed record shares its worker's fate.
    invocations = 0
    while worker_attempt(cloud, batch_size=1):
        invocations += 1
        cloud.deliver("ResultsFunction")
    redrive = cloud.template.resolve(cloud.template.resources["TriggerQueue"]["Properties"])["RedrivePolicy"]
    # The ten records are one packed message (model.packed): it dies with the doomed record, is
    # split into single-record messages when redelivered; then nine healthy ones and the doomed one.
    assert invocations == 2 + 9 + int(redrive["maxReceiveCount"])
    view = cloud.api("GET", headers["Location"])[2]["data"]
    assert view["status"] == "processing"  # the worker never said anything about the doomed record

    failed = report_the_dead_letter(cloud, headers["Location"])
    assert "5 attempts" in failed["error"]
    # Nothing is sent twice: the doomed record's first step reached its subscriber once, in five attempts.
    assert feed(cloud, "sub-4") == ["First"]
    for i in (0, 1, 2, 3, 5, 6, 7, 8, 9):
        assert sorted(feed(cloud, f"sub-{i}")) == ["First", "Second"]


def test_a_record_the_worker_reported_on_its_last_attempt_and_the_dlq_reported_again_counts_once(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    run = batch.run

    def failing_for_doomed(record: Any, parts: Any, known: Any) -> Any:
        if record.transaction_id == "doomed":
            raise ConnectionError("the provider's network is down")  # caught: reported on the last attempt
        return run(record, parts, known)

    monkeypatch.setattr(batch, "run", failing_for_doomed)
    events = [{"name": "two-notes", "to": f"sub-{i}"} for i in range(3)]
    events[1]["transactionId"] = "doomed"
    status, headers, _ = cloud.trigger_bulk(*events)
    assert status == 201
    while worker_attempt(cloud, batch_size=10):
        cloud.deliver("ResultsFunction")
    assert cloud.api("GET", headers["Location"])[2]["data"]["counts"] == {"completed": 2, "failed": 1}

    assert cloud.deliver("DeadLetterFunction") == 1
    (outcome,) = cloud.receive("ResultsQueue")
    assert json.loads(outcome["Body"])["error_type"] == "dead_lettered"
    cloud.deliver_batch("ResultsFunction", [outcome])

    view = cloud.api("GET", headers["Location"])[2]["data"]
    assert view["status"] == "partially_failed"
    assert view["counts"] == {"completed": 2, "failed": 1}


def test_dead_parts_and_unreadable_dead_letters_report_nothing_and_are_not_retried(cloud: Cloud) -> None:
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    assert cloud.trigger_bulk({"name": "two-notes", "to": "ada"})[0] == 201
    (message,) = cloud.receive("TriggerQueue")
    record = json.loads(message["Body"])
    part = record | {"continuation": {"kind": "delay", "subscriber_id": "ada", "step_index": 1}}
    dlq = cloud.queue_url("TriggerDLQ")
    for body in (json.dumps(part), '{"not": "a record"}'):
        cloud.sqs.send_message(QueueUrl=dlq, MessageBody=body)
    assert cloud.deliver("DeadLetterFunction") == 2
    assert cloud.receive("TriggerDLQ") == [] and cloud.receive("ResultsQueue") == []


def test_records_sharing_a_killed_batch_end_completed_and_only_the_doomed_one_is_dead_lettered(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash fails its whole invocation, as on Lambda, so SQS delivers the whole batch again;
    the redelivered batch runs in isolation (engine.batch): each healthy record received with
    the doomed one is reported and leaves the queue, the doomed one alone reaches the DLQ and is
    reported dead_lettered. Nothing is delivered twice."""
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    kill_the_worker_on_second_step_of(cloud, monkeypatch, "doomed")
    events = [{"name": "two-notes", "to": f"sub-{i}", "transactionId": f"tx-{i}"} for i in range(10)]
    events[4]["transactionId"] = "doomed"
    status, headers, _ = cloud.trigger_bulk(*events)
    assert status == 201
    batch_size = cloud.functions["WorkerFunction"].sqs_sources[0].batch_size
    assert batch_size == 10
    invocations = 0
    while worker_attempt(cloud, batch_size):
        invocations += 1
        cloud.deliver("ResultsFunction")
    redrive = cloud.template.resolve(cloud.template.resources["TriggerQueue"]["Properties"])["RedrivePolicy"]
    # Two invocations more than the doomed record's maxReceiveCount: the bulk's packed message
    # (model.packed) dies once with it and is split, unrun, when redelivered.
    assert invocations == 2 + int(redrive["maxReceiveCount"])
    report_the_dead_letter(cloud, headers["Location"])
    # Each subscriber's messages exactly once: the doomed record's first step once in five attempts.
    assert feed(cloud, "sub-4") == ["First"]
    for i in (0, 1, 2, 3, 5, 6, 7, 8, 9):
        assert sorted(feed(cloud, f"sub-{i}")) == ["First", "Second"]


def test_parts_spawned_in_a_killed_batch_are_sent_once_by_its_isolated_redelivery(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, controlled: ControlledClock
) -> None:
    """The healthy records of a redelivered batch send their own parts (here a delay's) as soon as
    each finishes: after the delay every healthy subscriber has its three notes, once each."""
    steps = WORKFLOW["steps"] + [
        {"stepId": "wait", "type": "delay", "content": {"amount": 1, "unit": "seconds"}},
        {"stepId": "third", "type": "in_app", "content": {"body": "Third"}},
    ]
    assert cloud.api("POST", "/v1/workflows", {"workflowId": "three-notes", "steps": steps})[0] == 201
    kill_the_worker_on_second_step_of(cloud, monkeypatch, "doomed")
    events = [{"name": "three-notes", "to": f"sub-{i}", "transactionId": f"tx-{i}"} for i in range(10)]
    events[4]["transactionId"] = "doomed"
    status, headers, _ = cloud.trigger_bulk(*events)
    assert status == 201
    # The clock stands still: a released message is visible again, and the delays end, as it moves.
    for _ in range(20):
        worker_attempt(cloud, batch_size=10)
        cloud.deliver("ResultsFunction")
        controlled.advance(0.5)
    assert cloud.receive("TriggerQueue") == []
    assert cloud.deliver("DeadLetterFunction") == 1
    cloud.deliver("ResultsFunction")

    view = cloud.api("GET", headers["Location"])[2]["data"]
    assert view["counts"] == {"completed": 9, "failed": 1}
    assert feed(cloud, "sub-4") == ["First"]
    for i in (0, 1, 2, 3, 5, 6, 7, 8, 9):
        assert sorted(feed(cloud, f"sub-{i}")) == ["First", "Second", "Third"]


def test_attempt_markers_are_per_environment_and_expire(cloud: Cloud, controlled: ControlledClock) -> None:
    with cloud.configured_as("WorkerFunction"):
        attempts.mark("env-a", "message-1", Attempt.STARTED)
        attempts.mark("env-a", "message-1", Attempt.DONE)
        attempts.mark("env-b", "message-2", Attempt.STARTED)
        assert attempts.read({"message-1": "env-a", "message-2": "env-b", "message-3": "env-a"}) == {
            "message-1": Attempt.DONE,
            "message-2": Attempt.STARTED,
        }
        assert attempts.read({"message-1": "env-b"}) == {}
        stored = cloud.dynamodb.scan(TableName=settings().table_name)["Items"]
        marker = next(item for item in stored if item["pk"]["S"] == "ENV#env-a#ATTEMPT#message-1")
        assert int(marker["expiresAt"]["N"]) == int(controlled.at) + 2 * 86_400

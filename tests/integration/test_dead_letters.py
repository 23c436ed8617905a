"""A record that fails every attempt ends in the TriggerDLQ and, reported on its last attempt,
in its bulk's counts: the bulk finishes `partially_failed` instead of `processing` for ever."""

from __future__ import annotations

from typing import Any

import pytest
from clarion.engine import batch
from clarion.model.packed import records_of

from tests.integration.conftest import Cloud

WORKFLOW = {
    "workflowId": "hello",
    "steps": [{"stepId": "inbox", "type": "in_app", "content": {"body": "Hi"}}],
}


def attempt(cloud: Cloud) -> list[dict[str, Any]]:
    """One delivery of the TriggerQueue as the event source mapping makes it; failed records
    are made visible again at once (not after the visibility timeout). Returns what it received."""
    messages = cloud.receive("TriggerQueue")
    if messages:
        answer = cloud.invoke("WorkerFunction", cloud.sqs_event(messages))
        failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] in failed:
                cloud.sqs.change_message_visibility(
                    QueueUrl=cloud.queue_url("TriggerQueue"),
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=0,
                )
            else:
                cloud.sqs.delete_message(
                    QueueUrl=cloud.queue_url("TriggerQueue"), ReceiptHandle=message["ReceiptHandle"]
                )
    return messages


def test_a_record_failing_every_attempt_is_counted_failed_and_dead_lettered(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    run = batch.run

    def failing_for_doomed(record: Any, *rest: Any) -> Any:  # a fault that never clears
        if record.transaction_id == "doomed":
            raise ConnectionError("the provider's network is down")
        return run(record, *rest)

    monkeypatch.setattr(batch, "run", failing_for_doomed)
    events = [{"name": "hello", "to": f"sub-{i}", "payload": {}} for i in range(3)]
    events[1]["transactionId"] = "doomed"
    status, headers, _ = cloud.api("POST", "/v1/events/trigger/bulk", {"events": events})
    assert status == 201

    receives = 0
    while attempt(cloud):
        receives += 1
        cloud.deliver("ResultsFunction", "ResultsQueue", 100)
    dead = cloud.receive("TriggerDLQ")
    assert len(dead) == 1 and [r.transaction_id for r in records_of(dead[0]["Body"])] == ["doomed"]
    # The worker's last attempt is the queue's: the template says both, and they agree. The
    # first receive ran the record packed with its neighbours (model.packed); it raised, so it
    # was re-enqueued alone, and that message is received maxReceiveCount times.
    redrive = cloud.template.resolve(cloud.template.resources["TriggerQueue"]["Properties"])["RedrivePolicy"]
    max_receives = int(cloud.functions["WorkerFunction"].environment["CLARION_TRIGGER_MAX_RECEIVES"])
    assert max_receives == int(redrive["maxReceiveCount"]) == receives - 1
    assert int(dead[0]["Attributes"]["ApproximateReceiveCount"]) - 1 == max_receives

    view = cloud.api("GET", headers["Location"])[2]["data"]
    assert view["status"] == "partially_failed"
    assert view["counts"] == {"completed": 2, "failed": 1}
    doomed = cloud.api("GET", headers["Location"] + "/records", query={"status": "failed"})[2]["data"]
    assert [r["transactionId"] for r in doomed] == ["doomed"]
    assert "failed 5 times, last with ConnectionError" in doomed[0]["error"]
    assert "dead-letter queue" in doomed[0]["error"]

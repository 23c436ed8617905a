"""Trigger records packed up to ten a TriggerQueue message (model.packed), end to end in-process:
a record that raises inside a packed message is re-enqueued alone and dead-lettered alone; a crash
in a packed message splits it on redelivery; large records split SendMessageBatch calls at 256 KiB;
a message SQS refuses at intake gives its records `enqueue_failed` and their claims back. In every
case each record is delivered once and each bulk's counts are exact."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from clarion import aws, queues
from clarion.engine import batch
from clarion.engine import steps as engine_steps
from clarion.model import Continuation
from clarion.model.packed import RECORDS_PER_MESSAGE, pack_messages, records_of
from clarion.store import transactions
from clarion_cli.lambda_events import release_messages
from pydantic import ValidationError

from tests.integration.conftest import DEVELOPMENT, Cloud
from tests.integration.test_dead_letter_consumer import WORKFLOW, WorkerKilled, feed, worker_attempt
from tests.integration.test_dead_letters import attempt

Send = Callable[..., Any]


def bulk(cloud: Cloud, count: int, **event: Any) -> tuple[str, list[dict[str, Any]]]:
    """A Novu bulk of `count` two-note triggers to sub-0.., transactionIds tx-0..; its Location and
    answer items."""
    events = [
        {"name": "two-notes", "to": f"sub-{i}", "transactionId": f"tx-{i}", **event} for i in range(count)
    ]
    status, headers, body = cloud.trigger_bulk(*events)
    assert status == 201, body
    return headers["Location"], body["data"]


def counting_runs(monkeypatch: pytest.MonkeyPatch, raising_for: str | None = None) -> Counter[str]:
    """How often the worker runs each record (by transactionId); the record `raising_for` always raises."""
    runs: Counter[str] = Counter()
    run = batch.run

    def counted(record: Any, *rest: Any) -> Any:
        runs[record.transaction_id] += 1
        if record.transaction_id == raising_for:
            raise ConnectionError("the provider's network is down")
        return run(record, *rest)

    monkeypatch.setattr(batch, "run", counted)
    return runs


@contextmanager
def sqs_sends(
    refuse: Callable[[dict[str, Any]], bool] = lambda entry: False,
) -> Iterator[list[list[int]]]:
    """Watch the SendMessageBatch calls made inside the block (by any function): yields, per call, the UTF-8 sizes of
    its bodies; the entries `refuse` picks are refused by SQS (every attempt), the others sent."""
    client = aws.sqs()
    real: Send = client.send_message_batch
    calls: list[list[int]] = []

    def send_message_batch(**request: Any) -> Any:
        calls.append([len(e["MessageBody"].encode()) for e in request["Entries"]])
        refused = [e for e in request["Entries"] if refuse(e)]
        taken = [e for e in request["Entries"] if not refuse(e)]
        answer = dict(real(**request | {"Entries": taken})) if taken else {"Successful": []}
        failed = [
            {"Id": e["Id"], "Code": "InternalError", "Message": "refused", "SenderFault": False}
            for e in refused
        ]
        return answer | {"Failed": failed}

    client.send_message_batch = send_message_batch
    try:
        yield calls
    finally:
        del client.send_message_batch


def test_a_raising_record_in_a_packed_message_is_dead_lettered_alone_and_its_neighbours_complete(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    runs = counting_runs(monkeypatch, raising_for="tx-3")
    location, _ = bulk(cloud, 10)

    first = attempt(cloud)  # the bulk's one packed message: nine run, the poison is re-enqueued alone
    assert [len(records_of(m["Body"])) for m in first] == [10]
    cloud.deliver("ResultsFunction")
    assert cloud.api("GET", location)[2]["data"]["counts"] == {"completed": 9, "queued": 1}
    receives = 0
    while received := attempt(cloud):
        assert [[r.transaction_id for r in records_of(m["Body"])] for m in received] == [["tx-3"]]
        receives += 1
        cloud.deliver("ResultsFunction")

    max_receives = int(cloud.functions["WorkerFunction"].environment["CLARION_TRIGGER_MAX_RECEIVES"])
    assert receives == max_receives
    (dead,) = cloud.receive("TriggerDLQ")
    assert [r.transaction_id for r in records_of(dead["Body"])] == ["tx-3"]
    assert cloud.deliver_batch("DeadLetterFunction", [dead]) == [
        dead
    ]  # reported again by its consumer: counted once
    cloud.deliver("ResultsFunction")
    view = cloud.api("GET", location)[2]["data"]
    assert (view["status"], view["total"], view["counts"]) == (
        "partially_failed",
        10,
        {"completed": 9, "failed": 1},
    )
    failed = cloud.api("GET", location + "/records", query={"status": "failed"})[2]["data"]
    assert [(r["index"], r["transactionId"]) for r in failed] == [(3, "tx-3")]
    assert runs == {f"tx-{i}": 1 for i in range(10) if i != 3} | {"tx-3": 1 + max_receives}
    for i in range(10):
        assert sorted(feed(cloud, f"sub-{i}")) == ([] if i == 3 else ["First", "Second"])


def test_a_crash_in_a_packed_message_splits_it_on_redelivery_and_every_record_completes_once(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    deliver = engine_steps.deliver
    kills: list[str] = []

    def die_once(context: Any, step: Any, subscriber: Any, scope: Any) -> Any:
        if context.record.transaction_id == "tx-4" and step.step_id == "second" and not kills:
            kills.append(context.record.transaction_id)
            raise WorkerKilled  # the runtime dies: the invocation fails, SQS delivers the batch again
        return deliver(context, step, subscriber, scope)

    monkeypatch.setattr(engine_steps, "deliver", die_once)
    runs = counting_runs(monkeypatch)
    location, _ = bulk(cloud, 10)

    assert worker_attempt(cloud, batch_size=10) == 1 and kills == ["tx-4"]  # tx-0..3 ran, tx-4 was killed
    ran_before_the_crash = dict(runs)
    assert ran_before_the_crash == {f"tx-{i}": 1 for i in range(5)}

    assert worker_attempt(cloud, batch_size=10) == 1  # redelivered: split, none of its records run
    assert runs == ran_before_the_crash
    singles = cloud.receive("TriggerQueue", 20)
    assert [[r.transaction_id for r in records_of(m["Body"])] for m in singles] == [
        [f"tx-{i}"] for i in range(10)
    ]
    assert cloud.deliver_batch("WorkerFunction", singles) == singles
    assert cloud.receive("TriggerQueue") == []
    cloud.deliver("ResultsFunction")

    view = cloud.api("GET", location)[2]["data"]
    assert (view["status"], view["counts"]) == ("completed", {"completed": 10})
    assert runs == {f"tx-{i}": 2 if i < 5 else 1 for i in range(10)}
    for i in range(10):  # each step's message once, whether it ran before the crash or not
        assert sorted(feed(cloud, f"sub-{i}")) == ["First", "Second"]


def test_a_bulk_of_large_records_splits_its_sends_at_256_kib_and_each_record_is_delivered_once(
    cloud: Cloud,
) -> None:
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    with sqs_sends() as calls:
        location, answer = bulk(cloud, 100, payload={"pad": "x" * 12_000})  # 12 KB a record
    assert [item["status"] for item in answer] == ["processed"] * 100
    # Ten records a message (~121 KB), two messages a call: the third would pass 256 KiB.
    assert [len(call) for call in calls] == [2] * 5
    assert all(sum(call) <= queues.BATCH_BYTES < sum(call) + max(call) for call in calls)

    cloud.drain()

    view = cloud.api("GET", location)[2]["data"]
    assert (view["status"], view["counts"]) == ("completed", {"completed": 100})
    for i in range(100):
        assert sorted(feed(cloud, f"sub-{i}")) == ["First", "Second"]


def test_a_packed_message_sqs_refuses_gives_its_records_enqueue_failed_and_their_ids_back(
    cloud: Cloud,
) -> None:
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    with sqs_sends(refuse=lambda entry: '"transaction_id":"tx-15"' in entry["MessageBody"]) as calls:
        location, answer = bulk(cloud, 20)
    assert len(calls) == 3  # one call of two messages, the refused one retried twice
    statuses = [item["status"] for item in answer]
    assert statuses == ["processed"] * RECORDS_PER_MESSAGE + ["error"] * RECORDS_PER_MESSAGE
    assert all("could not enqueue" in str(item) for item in answer[10:])
    failed = cloud.api("GET", location + "/records", query={"status": "error"})[2]["data"]
    assert [r["transactionId"] for r in failed] == [f"tx-{i}" for i in range(10, 20)]
    assert all(r["error"].startswith("could not enqueue") for r in failed)
    with cloud.configured_as("ApiFunction"):  # the claims of the refused records are released
        released = [transactions.get(DEVELOPMENT, f"tx-{i}") is None for i in range(20)]
    assert released == [False] * 10 + [True] * 10

    # Their ids are free again: the same records sent again are accepted and run, once.
    events = [{"name": "two-notes", "to": f"sub-{i}", "transactionId": f"tx-{i}"} for i in range(20)]
    status, _, again = cloud.trigger_bulk(*events)
    assert status == 201
    assert [item["status"] for item in again["data"]] == ["error"] * 10 + [
        "processed"
    ] * 10  # the first ten are used
    cloud.drain()
    for i in range(20):
        assert sorted(feed(cloud, f"sub-{i}")) == ["First", "Second"]


def test_a_packed_message_in_the_dlq_reports_each_of_its_records_dead_lettered(cloud: Cloud) -> None:
    """Only a packed message the worker never split ends there (a crash or a refused re-enqueue
    every time): none of its records finished. A part among them reports nothing, as ever."""
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    location, _ = bulk(cloud, 3)
    (message,) = cloud.receive("TriggerQueue")
    first, second, third = records_of(message["Body"])
    part = third.model_copy(
        update={"continuation": Continuation(kind="delay", subscriber_id="sub-2", step_index=1)}
    )
    cloud.sqs.send_message(
        QueueUrl=cloud.queue_url("TriggerDLQ"), MessageBody=pack_messages([first, second, part])[0].body
    )

    assert cloud.deliver("DeadLetterFunction") == 1
    outcomes = cloud.receive("ResultsQueue")
    assert sorted((o["index"], o["error_type"]) for o in map(lambda m: json.loads(m["Body"]), outcomes)) == [
        (0, "dead_lettered"),
        (1, "dead_lettered"),
    ]
    cloud.deliver_batch("ResultsFunction", outcomes)
    assert cloud.api("GET", location)[2]["data"]["counts"] == {"failed": 2, "queued": 1}


def test_a_packed_message_split_before_a_crash_in_its_batch_is_not_split_again(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The split deletes the packed message at once: the crash of a later record of the same
    redelivered batch leaves its records' single messages, not the packed message, to run."""
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    deliver = engine_steps.deliver

    def die_for_doomed(context: Any, step: Any, subscriber: Any, scope: Any) -> Any:
        if context.record.transaction_id == "doomed" and step.step_id == "second":
            raise WorkerKilled
        return deliver(context, step, subscriber, scope)

    monkeypatch.setattr(engine_steps, "deliver", die_for_doomed)
    bulk(cloud, 3)
    assert cloud.trigger_bulk({"name": "two-notes", "to": "sub-9", "transactionId": "doomed"})[0] == 201

    assert worker_attempt(cloud, batch_size=10) == 2  # the packed message and the doomed one: killed
    assert worker_attempt(cloud, batch_size=10) == 2  # redelivered: split, then the doomed one killed

    waiting = cloud.receive("TriggerQueue", 20)
    assert sorted(r.transaction_id for m in waiting for r in records_of(m["Body"])) == [
        "doomed",
        "tx-0",
        "tx-1",
        "tx-2",
    ]
    assert all(len(records_of(m["Body"])) == 1 for m in waiting)


def test_a_raising_record_whose_re_enqueue_sqs_refuses_fails_its_packed_message_which_is_split_next(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    runs: Counter[str] = Counter()
    run = batch.run

    def raising_once_for_tx_3(record: Any, *rest: Any) -> Any:
        runs[record.transaction_id] += 1
        if record.transaction_id == "tx-3" and runs["tx-3"] == 1:
            raise ConnectionError("the provider's network is down")
        return run(record, *rest)

    def the_record_alone(entry: dict[str, Any]) -> bool:
        try:
            return [r.transaction_id for r in records_of(entry["MessageBody"])] == ["tx-3"]
        except ValidationError:  # an outcome
            return False

    monkeypatch.setattr(batch, "run", raising_once_for_tx_3)
    location, _ = bulk(cloud, 10)

    (packed_message,) = cloud.receive("TriggerQueue")
    with sqs_sends(refuse=the_record_alone):
        answer = cloud.invoke("WorkerFunction", cloud.sqs_event([packed_message]))
    assert answer == {"batchItemFailures": [{"itemIdentifier": packed_message["MessageId"]}]}
    assert cloud.receive("TriggerQueue") == []  # nothing went alone; the packed message is in flight
    cloud.deliver("ResultsFunction")  # the nine neighbours' outcomes were sent all the same
    assert cloud.api("GET", location)[2]["data"]["counts"] == {"completed": 9, "queued": 1}
    release_messages(cloud.sqs, cloud.queue_url("TriggerQueue"), [packed_message])

    (again,) = attempt(cloud)  # the packed message, retried whole: split
    assert again["MessageId"] == packed_message["MessageId"]
    assert runs == {f"tx-{i}": 1 for i in range(10)}
    cloud.drain()

    view = cloud.api("GET", location)[2]["data"]
    assert (view["status"], view["counts"]) == ("completed", {"completed": 10})
    assert runs == {f"tx-{i}": 2 for i in range(10)}
    for i in range(10):
        assert sorted(feed(cloud, f"sub-{i}")) == ["First", "Second"]

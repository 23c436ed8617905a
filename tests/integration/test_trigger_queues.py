"""Several trigger queues (the template's TriggerQueues), each with its own WorkerFunction event
source: the API spreads requests over them by bulk id, every queue is worked, and every bulk ends
with the same answers as on one queue. The default stays one queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from clarion import aws
from clarion.model import TriggerRecord
from clarion.model.packed import records_of
from clarion_cli.in_process import MOCK_SQS_ENDPOINT
from clarion_cli.template import ACCOUNT_ID, REGION, Template
from moto import mock_aws
from moto.sqs.models import sqs_backends

from tests.conftest import TEMPLATE
from tests.integration.conftest import Cloud, use_moto_credentials

QUEUES = ("TriggerQueue", "TriggerQueue2", "TriggerQueue3")
WORKFLOW = {
    "workflowId": "spread",
    "steps": [{"stepId": "inbox", "type": "in_app", "content": {"body": "Hello {{ payload.n }}"}}],
}


@pytest.fixture
def three_queues(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    use_moto_credentials(monkeypatch, POWERTOOLS_TRACE_DISABLED="true", POWERTOOLS_METRICS_DISABLED="true")
    with mock_aws():
        aws.reset_clients()
        template = Template(TEMPLATE, endpoint=MOCK_SQS_ENDPOINT, parameters={"TriggerQueues": "3"})
        app = Cloud(template, monkeypatch)
        app.provision()
        yield app
    aws.reset_clients()


def waiting(cloud: Cloud, queue: str) -> int:
    attributes = cloud.sqs.get_queue_attributes(
        QueueUrl=cloud.queue_url(queue), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def records_waiting(cloud: Cloud, queue: str) -> list[TriggerRecord]:
    """The records the queue's waiting messages hold (intake packs a bulk's records, model.packed),
    read in moto's backend: a receive would count towards the messages' redrive."""
    name = cloud.queue_url(queue).rstrip("/").rsplit("/", 1)[-1]
    return [r for m in sqs_backends[ACCOUNT_ID][REGION].queues[name].messages for r in records_of(m.body)]


def test_the_template_makes_one_event_source_per_trigger_queue(template: Template) -> None:
    three = Template(TEMPLATE, parameters={"TriggerQueues": "3"})
    worker = three.functions()["WorkerFunction"]
    assert [s.queue for s in worker.sqs_sources] == list(QUEUES)
    assert {(s.batch_size, s.report_item_failures) for s in worker.sqs_sources} == {(10, True)}
    for function in ("ApiFunction", "WorkerFunction"):
        urls = three.functions()[function].environment["CLARION_TRIGGER_QUEUE_URLS"].split(",")
        assert urls == [three.queue_url(q) for q in QUEUES]
    assert set(three.of_type("AWS::SQS::Queue")) >= set(QUEUES)
    assert "TriggerQueue4" not in three.of_type("AWS::SQS::Queue")

    (only,) = template.functions()["WorkerFunction"].sqs_sources  # the default: one queue, as before
    assert only.queue == "TriggerQueue"
    assert template.functions()["ApiFunction"].environment[
        "CLARION_TRIGGER_QUEUE_URLS"
    ] == template.queue_url("TriggerQueue")
    assert "TriggerQueue2" not in template.of_type("AWS::SQS::Queue")


def test_bulks_spread_over_the_trigger_queues_and_each_completes(three_queues: Cloud) -> None:
    cloud = three_queues
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    bulks = []
    for n in range(12):
        status, headers, body = cloud.trigger_bulk(
            *[{"name": "spread", "to": f"s{n}-{i}", "payload": {"n": n}} for i in range(3)]
        )
        assert status == 201, body
        bulks.append(headers["Location"].rsplit("/", 1)[-1])

    assert (
        sum(waiting(cloud, queue) for queue in QUEUES) == 12
    )  # a bulk's three records packed in one message
    records = {queue: records_waiting(cloud, queue) for queue in QUEUES}
    assert sum(len(held) for held in records.values()) == 36
    queues_of = {
        bulk_id: {q for q, held in records.items() for r in held if r.bulk_id == bulk_id} for bulk_id in bulks
    }
    assert all(len(used) == 1 for used in queues_of.values())  # a bulk's records share a queue
    assert sum(1 for held in records.values() if held) >= 2

    cloud.drain()
    assert {queue: waiting(cloud, queue) for queue in QUEUES} == dict.fromkeys(QUEUES, 0)
    for bulk_id in bulks:
        view = cloud.api("GET", f"/v1/events/trigger/bulk/{bulk_id}")[2]["data"]
        assert (view["status"], view["total"], view["counts"].get("completed")) == ("completed", 3, 3)
    feed = cloud.api("GET", "/v1/subscribers/s7-2/notifications/feed")[2]["data"]
    assert [row["content"]["body"] for row in feed] == ["Hello 7"]

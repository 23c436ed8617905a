"""The local stack with three trigger queues (the template's TriggerQueues at 3, as a
`--parameter-overrides` would set it): one poller per event source, requests spread over the
queues, every bulk completed over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from clarion_cli.template import Template

from tests.conftest import ROOT
from tests.e2e.conftest import RunningStack, start_stack, stop_stack


def three_queue_template(tmp: Path) -> Path:
    doc = Template(ROOT / "template.yaml").doc  # intrinsic functions in their long form
    for resource in doc["Resources"].values():
        for uri in ("CodeUri", "ContentUri"):
            if uri in resource.get("Properties", {}):
                resource["Properties"][uri] = str(ROOT / resource["Properties"][uri])
    doc["Parameters"]["TriggerQueues"]["Default"] = 3
    path = tmp / "template.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def three_queue_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    tmp = tmp_path_factory.mktemp("three-queue-stack")
    running = start_stack(tmp, three_queue_template(tmp))
    yield running
    if running.process.poll() is None:
        stop_stack(running)


def test_bulks_over_three_trigger_queues_all_complete(three_queue_stack: RunningStack) -> None:
    stack = three_queue_stack
    workflow = {
        "workflowId": "spread",
        "steps": [{"stepId": "inbox", "type": "in_app", "content": {"body": "Hello {{ payload.n }}"}}],
    }
    assert stack.call("POST", "/v1/workflows", json=workflow).status_code == 201
    locations = []
    for n in range(9):
        events = [{"name": "spread", "to": f"q{n}-{i}", "payload": {"n": n}} for i in range(4)]
        answer = stack.call("POST", "/v1/events/trigger/bulk", json={"events": events})
        assert answer.status_code == 201, answer.text
        locations.append(answer.headers["Location"])

    deadline = time.monotonic() + 120
    views = []
    while time.monotonic() < deadline:
        views = [stack.call("GET", location).json()["data"] for location in locations]
        if all(view["status"] == "completed" for view in views):
            break
        time.sleep(0.5)
    assert [(v["status"], v["counts"]) for v in views] == [("completed", {"completed": 4})] * 9
    sqs = stack.client("sqs")
    names = {url.rsplit("/", 1)[-1] for url in sqs.list_queues()["QueueUrls"]}
    assert {"clarion-TriggerQueue", "clarion-TriggerQueue2", "clarion-TriggerQueue3"} <= names
    assert "clarion-TriggerQueue4" not in names
    feed = stack.call("GET", "/v1/subscribers/q8-3/notifications/feed").json()["data"]
    assert [row["content"]["body"] for row in feed] == ["Hello 8"]

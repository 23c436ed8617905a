"""Over HTTP on the local stack: the worker runtime is SIGKILLed on every attempt of one record
of a bulk of 10 (a real process death, found by the local Lambda runtime as Lambda finds it); the
record reaches the TriggerDLQ after the TriggerQueue's maxReceiveCount, the DeadLetterFunction
reports it, and the bulk ends `partially_failed` with 9 completed and 1 failed (dead_lettered).
The WorkerFunction keeps the template's BatchSize (10): the records that share the doomed one's
batch, and so its deaths, are still reported completed, once (engine.batch's split of a packed
message and isolation of a redelivered batch)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from clarion_cli.template import Template

from tests.conftest import ROOT
from tests.e2e.conftest import RunningStack, start_stack, stop_stack

DOOMED = "doomed"
DEATH = re.compile(r"WorkerFunction failed a batch of (\d+): Runtime\.ExitError")
WORKFLOW = {
    "workflowId": "two-notes",
    "steps": [
        {"stepId": "first", "type": "in_app", "content": {"body": "First"}},
        {"stepId": "second", "type": "in_app", "content": {"body": "Second"}},
    ],
}


def killing_template(tmp: Path) -> Path:
    """template.yaml as it is (the WorkerFunction's BatchSize too), but for the WorkerFunction's
    code (the deployed handler in a runtime that dies on the doomed record) and a short
    visibility timeout."""
    doc = Template(ROOT / "template.yaml").doc  # intrinsic functions in their long form
    for resource in doc["Resources"].values():
        for uri in ("CodeUri", "ContentUri"):
            if uri in resource.get("Properties", {}):
                resource["Properties"][uri] = str(ROOT / resource["Properties"][uri])
    worker = doc["Resources"]["WorkerFunction"]["Properties"]
    worker["CodeUri"] = str(ROOT / "tests/e2e/dead_letter_worker")
    worker["Environment"]["Variables"] |= {
        "DEAD_LETTER_TEST_DOOMED": DOOMED,
        "DEAD_LETTER_TEST_WORKER_APP": str(ROOT / "functions/worker/app.py"),
    }
    doc["Resources"]["TriggerQueue"]["Properties"]["VisibilityTimeout"] = 5
    path = tmp / "template.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def killing_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    tmp = tmp_path_factory.mktemp("dead-letter-stack")
    running = start_stack(tmp, killing_template(tmp))
    yield running
    if running.process.poll() is None:
        stop_stack(running)


def final_view(stack: RunningStack, location: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view: dict[str, Any] = stack.call("GET", location).json()["data"]
        if view["status"] in ("completed", "partially_failed") or time.monotonic() > deadline:
            return view
        time.sleep(0.5)


def feed(stack: RunningStack, subscriber_id: str) -> list[str]:
    rows = stack.call("GET", f"/v1/subscribers/{subscriber_id}/notifications/feed").json()["data"]
    return sorted(row["content"]["body"] for row in rows)


def test_a_worker_killed_on_every_attempt_of_one_record_ends_its_bulk_partially_failed(
    killing_stack: RunningStack,
) -> None:
    stack = killing_stack
    assert stack.call("POST", "/v1/workflows", json=WORKFLOW).status_code == 201
    events = [{"name": "two-notes", "to": f"dl-{i}", "transactionId": f"dl-tx-{i}"} for i in range(10)]
    events[4]["transactionId"] = DOOMED
    answer = stack.call("POST", "/v1/events/trigger/bulk", json={"events": events})
    assert answer.status_code == 201, answer.text
    location = answer.headers["Location"]

    view = final_view(stack, location)
    assert view["status"] == "partially_failed", view
    assert view["total"] == 10
    assert view["counts"] == {"completed": 9, "failed": 1}
    failed = stack.call("GET", location + "/records", params={"status": "failed"}).json()["data"]
    assert [(r["index"], r["transactionId"]) for r in failed] == [(4, DOOMED)]
    assert failed[0]["error"].startswith("dead_lettered: ") and "5 attempts" in failed[0]["error"]
    completed = stack.call("GET", location + "/records", params={"status": "completed"}).json()["data"]
    assert sorted(r["index"] for r in completed) == [0, 1, 2, 3, 5, 6, 7, 8, 9]

    # The runtime really died, once per attempt of the TriggerQueue's redrive policy.
    copy = yaml.safe_load((stack.log.parent / "template.yaml").read_text())["Resources"]
    (triggers,) = Template(stack.log.parent / "template.yaml").functions()["WorkerFunction"].sqs_sources
    assert triggers.batch_size == 10  # the WorkerBatchSize parameter's default, as the stack read it
    redrive = copy["TriggerQueue"]
    attempts = int(redrive["Properties"]["RedrivePolicy"]["maxReceiveCount"])
    deaths = [int(size) for size in DEATH.findall(stack.log.read_text())]
    # The bulk's ten records are one packed message (model.packed): its first death took the whole
    # bulk down with it; redelivered, it was split into single-record messages, and the doomed
    # one's own message then died on each of its maxReceiveCount attempts.
    assert len(deaths) == 1 + attempts == 6, deaths
    assert deaths[0] == 1, deaths
    # The split records shared the doomed one's batches, and its deaths (the BatchSize is 10).
    assert max(deaths) > 1, deaths
    # Nothing is sent twice: the doomed record's first step reached its subscriber once in five
    # attempts; every other subscriber has its two notes, once each.
    assert feed(stack, "dl-4") == ["First"]
    for i in (0, 1, 2, 3, 5, 6, 7, 8, 9):
        assert feed(stack, f"dl-{i}") == ["First", "Second"]
    assert stack.call("GET", "/v1/messages", params={"transactionId": DOOMED}).json()["data"] != []

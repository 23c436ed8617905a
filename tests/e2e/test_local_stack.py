"""The local stack as a new user meets it: the printed curl line, the tour, retries into the DLQ."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

from tests.e2e.conftest import RunningStack, curl_line, start_stack, stop_stack


def wait_for(predicate: Any, timeout: float = 30, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def test_health_answers_without_a_key(stack: RunningStack) -> None:
    answer = stack.call("GET", "/v1/health", headers={"Authorization": ""})
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_printed_curl_line_gets_201(stack: RunningStack) -> None:
    argv = curl_line(stack.banner)
    assert argv[0] == "curl"
    result = subprocess.run(
        [*argv, "-s", "-o", "/dev/null", "-w", "%{http_code}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert result.stdout == "201"


def test_tour_workflow_bulk_status_and_feed(stack: RunningStack) -> None:
    workflow = {
        "workflowId": "tour",
        "name": "Tour",
        "steps": [
            {"stepId": "inbox", "type": "in_app", "content": {"body": "Hi {{ subscriber.firstName }}"}}
        ],
    }
    created = stack.call("POST", "/v1/workflows", json=workflow)
    assert created.status_code == 201, created.text
    assert isinstance(created.json()["data"]["triggerId"], int)

    events = [{"name": "tour", "to": {"subscriberId": f"tour-{i}", "firstName": f"N{i}"}} for i in range(20)]
    events.append({"name": "missing", "to": "tour-0"})
    answer = stack.call("POST", "/v1/events/trigger/bulk", json={"events": events})
    assert answer.status_code == 201
    assert set(answer.json()) == {"data"}
    location = answer.headers["Location"]

    view = wait_for(
        lambda: (v := stack.call("GET", location).json()["data"])["status"] == "partially_failed" and v
    )
    assert view["total"] == 21
    assert view["counts"] == {"completed": 20, "error": 1}
    feed = stack.call("GET", "/v1/subscribers/tour-7/notifications/feed").json()["data"]
    assert [m["content"]["body"] for m in feed] == ["Hi N7"]


def test_one_log_line_per_request(stack: RunningStack) -> None:
    marker = f"/v1/workflows/marker-{time.time_ns()}"
    stack.call("GET", marker)
    lines = wait_for(lambda: [line for line in stack.log.read_text().splitlines() if marker in line])
    assert len(lines) == 1
    assert " 404 " in lines[0]


def test_record_whose_handler_raises_lands_in_dlq_after_five_receives(stack: RunningStack) -> None:
    """After five receives the poison goes to the TriggerDLQ, whose consumer (DeadLetterFunction)
    takes it next: not a trigger record, so nothing to report; it logs and drops it."""
    sqs: Any = stack.client("sqs")
    queue = sqs.get_queue_url(QueueName="clarion-TriggerQueue")["QueueUrl"]
    sent = sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"poison": True}))["MessageId"]
    log = stack.log.parent / ".clarion" / "logs" / "DeadLetterFunction.log"

    def dropped() -> list[dict[str, Any]]:
        lines = log.read_text().splitlines() if log.exists() else []
        return [
            json.loads(line[line.index("{") :])
            for line in lines
            if sent in line and "not a trigger record" in line
        ]

    (entry,) = wait_for(dropped, timeout=90, interval=0.5)
    # SQS keeps the count across the move: five receives by the worker's poller, then the consumer's.
    assert int(entry["received"]) - 1 == 5


def test_ctrl_c_stops_the_stack_cleanly(tmp_path: Any) -> None:
    own = start_stack(tmp_path)
    assert own.call("GET", "/v1/health").status_code == 200
    assert stop_stack(own) == 0
    assert "stopped" in own.log.read_text()

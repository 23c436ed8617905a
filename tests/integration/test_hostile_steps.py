"""Issue 11, points 6 and 7: a template or an input that used to tie up or crash a worker is now
one failed step with a reason, and its neighbours in the SQS batch are not affected."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.integration.conftest import Cloud

LOOPING = "{% for i in (1..100000000) %}x{% endfor %}"


def workflow(cloud: Cloud, workflow_id: str, steps: list[dict[str, Any]]) -> None:
    assert cloud.api("POST", "/v1/workflows", {"workflowId": workflow_id, "steps": steps})[0] == 201


def trigger(cloud: Cloud, events: list[dict[str, Any]]) -> None:
    assert cloud.api("POST", "/v1/events/trigger/bulk", {"events": events})[0] == 201


def run_worker_once(cloud: Cloud) -> dict[str, Any]:
    """One worker invocation on what the TriggerQueue holds (one batch of up to 10)."""
    messages = cloud.receive("TriggerQueue")
    assert messages
    return dict(cloud.invoke("WorkerFunction", cloud.sqs_event(messages)))


def details(cloud: Cloud, transaction_id: str) -> dict[str, dict[str, Any]]:
    rows = cloud.api("GET", "/v1/execution-details", query={"transactionId": transaction_id})[2]["data"]
    return {row["stepId"]: row for row in rows}


def record_status(cloud: Cloud, transaction_id: str) -> str:
    return str(cloud.api("GET", f"/v1/events/trigger/{transaction_id}")[2]["data"]["status"])


def test_batch_of_ten_with_a_looping_template_completes_the_other_nine_at_once(cloud: Cloud) -> None:
    workflow(cloud, "loop", [{"stepId": "inbox", "type": "in_app", "content": {"body": LOOPING}}])
    workflow(
        cloud, "hello", [{"stepId": "inbox", "type": "in_app", "content": {"body": "Hi {{ payload.n }}"}}]
    )
    events = [
        {"name": "hello", "to": f"n{i}", "payload": {"n": i}, "transactionId": f"ok-{i}"} for i in range(9)
    ]
    events.insert(4, {"name": "loop", "to": "victim", "transactionId": "looping"})
    trigger(cloud, events)

    started = time.monotonic()
    answer = run_worker_once(cloud)
    elapsed = time.monotonic() - started
    print(f"worker batch of 10 with one looping template: {elapsed:.2f}s")

    assert answer == {"batchItemFailures": []}  # nothing retried, nothing dead-lettered
    assert cloud.receive("TriggerQueue") == []  # nor re-enqueued alone from its packed message
    assert elapsed < 30  # unbounded, the loop alone renders for minutes
    cloud.drain()
    for i in range(9):
        assert record_status(cloud, f"ok-{i}") == "completed"
        feed = cloud.api("GET", f"/v1/subscribers/n{i}/notifications/feed")[2]["data"]
        assert [m["content"]["body"] for m in feed] == [f"Hi {i}"]
    assert record_status(cloud, "looping") == "failed"
    step = details(cloud, "looping")["inbox"]
    assert step["status"] == "failed"
    assert "template limit reached in body: loop iteration limit" in step["detail"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{{ (1..100000000) | join }}", "given a sequence of more than"),
        ("{% for i in (1..1000) %}{% for j in (1..1000) %}x{% endfor %}{% endfor %}", "loop iteration limit"),
        ("{% for i in (1..99999) %}{% assign s = payload.list | sort %}{% endfor %}", "render time limit"),
    ],
)
def test_template_over_a_limit_fails_its_step_and_the_next_step_still_runs(
    cloud: Cloud, body: str, reason: str
) -> None:
    workflow(
        cloud,
        "greedy",
        [
            {"stepId": "greedy", "type": "in_app", "content": {"body": body}},
            {"stepId": "after", "type": "in_app", "content": {"body": "still here"}},
        ],
    )
    trigger(
        cloud, [{"name": "greedy", "to": "ada", "payload": {"list": list(range(5000))}, "transactionId": "g"}]
    )
    started = time.monotonic()
    assert run_worker_once(cloud) == {"batchItemFailures": []}
    assert time.monotonic() - started < 30
    rows = details(cloud, "g")
    assert rows["greedy"]["status"] == "failed"
    assert "template limit reached in body" in rows["greedy"]["detail"]
    assert reason in rows["greedy"]["detail"]
    assert rows["after"]["status"] == "sent"


def test_in_app_body_rendering_over_the_item_size_is_a_failed_step_not_a_crash(cloud: Cloud) -> None:
    workflow(
        cloud,
        "huge",
        [
            {
                "stepId": "inbox",
                "type": "in_app",
                "content": {"body": "{% for i in (1..5000) %}{{ payload.chunk }}{% endfor %}"},
            },
            {"stepId": "small", "type": "in_app", "content": {"body": "ok"}},
        ],
    )
    trigger(cloud, [{"name": "huge", "to": "ada", "payload": {"chunk": "y" * 100}, "transactionId": "big"}])
    assert run_worker_once(cloud) == {"batchItemFailures": []}  # it used to fail every attempt
    cloud.drain()
    rows = details(cloud, "big")
    assert rows["inbox"]["status"] == "failed"
    assert "rendered message is 488 KB, over the 380 KB" in rows["inbox"]["detail"]
    assert rows["small"]["status"] == "sent"
    assert record_status(cloud, "big") == "failed"


def test_webhook_content_over_the_item_size_fails_before_anything_is_sent(cloud: Cloud) -> None:
    workflow(
        cloud,
        "hook",
        [
            {
                "stepId": "hook",
                "type": "webhook",
                "content": {
                    "url": "http://127.0.0.1:9/never",  # the discard port: it must not even be tried
                    "secret": "s",
                    "note": "{% for i in (1..5000) %}{{ payload.chunk }}{% endfor %}",
                },
            }
        ],
    )
    trigger(
        cloud, [{"name": "hook", "to": "ada", "payload": {"chunk": "y" * 100}, "transactionId": "big-hook"}]
    )
    assert run_worker_once(cloud) == {"batchItemFailures": []}
    row = details(cloud, "big-hook")["hook"]
    assert row["status"] == "failed"
    assert "over the 380 KB a message may hold" in row["detail"]


@pytest.mark.parametrize(
    ("wait", "reason"),
    [
        ("inf", "a number >= 0"),
        ("Infinity", "a number >= 0"),
        ("nan", "a number >= 0"),
        ("-5", "a number >= 0"),
        ("1e308", "longer than 366 days"),
        ("9" * 400, "a number >= 0"),  # float() overflows to inf
        ("soon", "a number >= 0"),
    ],
)
def test_delay_of_an_impossible_amount_is_a_failed_step_with_a_row(
    cloud: Cloud, wait: str, reason: str
) -> None:
    workflow(
        cloud,
        "nudge",
        [
            {
                "stepId": "wait",
                "type": "delay",
                "content": {"amount": "{{ payload.wait }}", "unit": "seconds"},
            },
            {"stepId": "after", "type": "in_app", "content": {"body": "later"}},
        ],
    )
    trigger(cloud, [{"name": "nudge", "to": "ada", "payload": {"wait": wait}, "transactionId": "d"}])
    assert run_worker_once(cloud) == {"batchItemFailures": []}  # "inf" used to crash every attempt
    cloud.drain()
    rows = details(cloud, "d")
    assert rows["wait"]["status"] == "failed"
    assert reason in rows["wait"]["detail"]
    assert "after" not in rows  # a delay that cannot be scheduled stops the recipient's run
    assert record_status(cloud, "d") == "failed"

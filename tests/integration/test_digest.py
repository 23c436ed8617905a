"""The digest step in-process: one subscriber's events in one window become one run of the
remaining steps with `step.digest`, exactly once under redelivery, racing openers and cancel.

Windows are tumbling (aligned to the epoch), so each test moves the controlled clock (Clarion's
and moto SQS's, tests.controlled_clock) to just past a window start: its events then share a
window, and the window's end is `WINDOW` seconds away, which is also the SQS delay of the
owner's continuation. Nothing sleeps: waiting for the window's end moves the clock."""

from __future__ import annotations

from typing import Any

import pytest
from clarion.clock import ControlledClock
from clarion.model.packed import records_of
from clarion.store import digests

from tests.integration.conftest import DEVELOPMENT, Cloud

WINDOW = 2
BODY = "{{ step.digest.count }} new: {% for e in step.digest.events %}{{ e.text }};{% endfor %}"


def digest_workflow(digest_key: str | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"amount": WINDOW, "unit": "seconds"}
    if digest_key:
        content["digestKey"] = digest_key
    return {
        "workflowId": "comments",
        "steps": [
            {"stepId": "collect", "type": "digest", "content": content},
            {"stepId": "inbox", "type": "in_app", "content": {"body": BODY}},
        ],
    }


def at_window_start(clock: ControlledClock) -> ControlledClock:
    """Move the clock (only ever forward) to 50 ms after the next window start."""
    clock.at = (int(clock.at) // WINDOW + 1) * WINDOW + 0.05
    return clock


def wait_for_window_end(clock: ControlledClock) -> None:
    """Until the current window has ended and the owner's continuation is visible: SQS delays
    are whole seconds, counted from when it was enqueued."""
    clock.advance(WINDOW - clock.at % WINDOW + 1.0)


def trigger(cloud: Cloud, events: list[dict[str, Any]]) -> list[str]:
    status, _, body = cloud.api("POST", "/v1/events/trigger/bulk", {"events": events})
    assert status == 201, body
    return [entry["transactionId"] for entry in body["data"]]


def comment(to: str, text: str, **payload: Any) -> dict[str, Any]:
    return {"name": "comments", "to": to, "payload": {"text": text, **payload}}


def feed(cloud: Cloud, subscriber_id: str) -> list[str]:
    rows = cloud.api("GET", f"/v1/subscribers/{subscriber_id}/notifications/feed")[2]["data"]
    return [row["content"]["body"] for row in rows]


def steps_of(cloud: Cloud, transaction_id: str) -> dict[str, str]:
    view = cloud.api("GET", f"/v1/events/trigger/{transaction_id}")[2]["data"]
    return {s["stepId"]: s["status"] for r in view["recipients"] for s in r["steps"]}


def test_three_events_in_one_window_send_one_digest_with_every_payload_in_order(
    cloud: Cloud, controlled: ControlledClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud.api("POST", "/v1/workflows", digest_workflow())
    clock = at_window_start(controlled)
    sent = []
    for text in ("first", "second", "third"):
        sent += trigger(cloud, [comment("ann", text)])
        cloud.drain()
    assert feed(cloud, "ann") == []  # nothing before the window ends
    assert steps_of(cloud, sent[0]) == {"collect": "pending"}
    assert steps_of(cloud, sent[1]) == {"collect": "digested"}

    wait_for_window_end(clock)
    cloud.drain()

    assert feed(cloud, "ann") == ["3 new: first;second;third;"]
    assert steps_of(cloud, sent[0]) == {"collect": "resumed", "inbox": "sent"}
    assert steps_of(cloud, sent[1]) == steps_of(cloud, sent[2]) == {"collect": "digested"}
    owner = cloud.api("GET", "/v1/execution-details", query={"transactionId": sent[0]})[2]["data"]
    joiner = cloud.api("GET", "/v1/execution-details", query={"transactionId": sent[1]})[2]["data"]
    assert joiner[0]["detail"] == f"collected into the digest sent at {owner[0]['resumeAt']}"


def test_two_subscribers_get_a_digest_each(
    cloud: Cloud, controlled: ControlledClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud.api("POST", "/v1/workflows", digest_workflow())
    clock = at_window_start(controlled)
    trigger(cloud, [comment("ann", "a1"), comment("bob", "b1"), comment("ann", "a2")])
    cloud.drain()
    wait_for_window_end(clock)
    cloud.drain()
    assert feed(cloud, "ann") == ["2 new: a1;a2;"]
    assert feed(cloud, "bob") == ["1 new: b1;"]


def test_openers_racing_on_one_window_make_one_owner_and_one_digest(
    cloud: Cloud, controlled: ControlledClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers, each with one event for the same subscriber at the same moment: the one
    whose update lands first owns the window; the other learns it from the same UpdateItem."""
    cloud.api("POST", "/v1/workflows", digest_workflow())
    clock = at_window_start(controlled)
    # Two requests: one request's records would share a message (model.packed), run by one worker.
    (first,) = trigger(cloud, [comment("ann", "x")])
    (second,) = trigger(cloud, [comment("ann", "y")])
    messages = cloud.receive("TriggerQueue")
    assert len(messages) == 2
    for message in messages:  # two separate batches: two workers
        assert cloud.invoke("WorkerFunction", cloud.sqs_event([message])) == {"batchItemFailures": []}
    parts = cloud.receive("TriggerQueue")
    assert parts == []  # the owner's continuation is delayed until the window ends
    statuses = {steps_of(cloud, first)["collect"], steps_of(cloud, second)["collect"]}
    assert statuses == {"pending", "digested"}
    wait_for_window_end(clock)
    cloud.drain()
    assert len(feed(cloud, "ann")) == 1
    assert feed(cloud, "ann")[0].startswith("2 new: ")


def test_a_redelivered_batch_and_a_crash_before_joining_add_nothing_twice(
    cloud: Cloud, controlled: ControlledClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digests, "PAGE_EVENTS", 2)  # five events: three pages, walked on redelivery
    cloud.api("POST", "/v1/workflows", digest_workflow())
    clock = at_window_start(controlled)
    trigger(cloud, [comment("ann", text) for text in ("a", "b", "c", "d", "e")])
    batch = cloud.sqs_event(cloud.receive("TriggerQueue"))
    assert [len(records_of(message["body"])) for message in batch["Records"]] == [5]  # packed in one message

    real_join = digests.join
    crashes: list[str] = []

    def crash_once(bucket: digests.Bucket, transaction_id: str) -> digests.Joined | None:
        if len(crashes) == 0 and bucket.subscriber_id == "ann" and transaction_id.endswith("_3"):
            crashes.append(transaction_id)  # the step item is written, the join is not
            raise ConnectionError("worker killed before joining")
        return real_join(bucket, transaction_id)

    monkeypatch.setattr(digests, "join", crash_once)
    # The crashed record does not fail its packed message: it is re-enqueued alone, delivered
    # again as a message of its own (and the packed message again, three times).
    assert cloud.invoke("WorkerFunction", batch) == {"batchItemFailures": []}
    (alone,) = cloud.receive("TriggerQueue")
    assert [r.transaction_id for r in records_of(alone["Body"])] == crashes
    for again in (cloud.sqs_event([alone]), batch, batch, batch):
        assert cloud.invoke("WorkerFunction", again) == {"batchItemFailures": []}

    wait_for_window_end(clock)
    cloud.drain()
    assert feed(cloud, "ann") == ["5 new: a;b;c;e;d;"]  # d joined on its redelivery, after e


def test_events_after_the_window_closed_open_a_new_window(
    cloud: Cloud, controlled: ControlledClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud.api("POST", "/v1/workflows", digest_workflow())
    clock = at_window_start(controlled)
    trigger(cloud, [comment("ann", "early")])
    cloud.drain()
    wait_for_window_end(clock)
    cloud.drain()
    assert feed(cloud, "ann") == ["1 new: early;"]

    at_window_start(clock)
    trigger(cloud, [comment("ann", "late"), comment("ann", "later")])
    cloud.drain()
    wait_for_window_end(clock)
    cloud.drain()
    assert feed(cloud, "ann") == ["2 new: late;later;", "1 new: early;"]


def test_digest_key_keeps_a_bucket_per_value(
    cloud: Cloud, controlled: ControlledClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud.api("POST", "/v1/workflows", digest_workflow("payload.postId"))
    clock = at_window_start(controlled)
    trigger(
        cloud,
        [
            comment("ann", "p1-a", postId=1),
            comment("ann", "p2-a", postId=2),
            comment("ann", "p1-b", postId=1),
        ],
    )
    cloud.drain()
    wait_for_window_end(clock)
    cloud.drain()
    assert sorted(feed(cloud, "ann")) == ["1 new: p2-a;", "2 new: p1-a;p1-b;"]


def test_cancelling_the_owner_cancels_the_digest_and_later_events_open_the_next_window(
    cloud: Cloud, controlled: ControlledClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud.api("POST", "/v1/workflows", digest_workflow())
    clock = at_window_start(controlled)
    owner, joiner = trigger(
        cloud,
        [
            {**comment("ann", "owned"), "transactionId": "dg-owner"},
            {**comment("ann", "joined"), "transactionId": "dg-joiner"},
        ],
    )
    cloud.drain()
    assert cloud.api("DELETE", "/v1/events/trigger/dg-joiner")[2] == {"data": False}
    assert cloud.api("DELETE", f"/v1/events/trigger/{owner}")[2] == {"data": True}
    trigger(cloud, [comment("ann", "after cancel")])  # same window, which is closed now
    cloud.drain()

    wait_for_window_end(clock)
    cloud.drain()
    assert feed(cloud, "ann") == []  # the cancelled window sends nothing
    assert steps_of(cloud, owner) == {"collect": "cancelled"}
    assert steps_of(cloud, joiner) == {"collect": "digested"}

    wait_for_window_end(clock)
    cloud.drain()
    assert feed(cloud, "ann") == ["1 new: after cancel;"]


def test_a_bad_digest_window_fails_the_step_and_stops_the_run(cloud: Cloud) -> None:
    workflow = digest_workflow()
    # A unit Clarion does not know is refused when the workflow is stored (test_workflow_shapes);
    # a templated amount can still render to something that is not a number.
    workflow["steps"][0]["content"] = {"amount": "{{ payload.wait }}", "unit": "seconds"}
    assert cloud.api("POST", "/v1/workflows", workflow)[0] == 201
    (sent,) = trigger(cloud, [comment("ann", "x", wait="soon")])
    cloud.drain()
    assert steps_of(cloud, sent) == {}  # nothing claimed, nothing sent
    record = cloud.api("GET", f"/v1/events/trigger/{sent}")[2]["data"]
    assert record["status"] == "failed"
    assert "digest 'collect' needs content.amount" in record["error"]
    assert feed(cloud, "ann") == []


def test_bucket_keys_stay_in_the_environment_and_apart_for_ids_holding_hashes() -> None:
    from clarion.store import keys

    one = keys.digest_bucket(DEVELOPMENT, "wf", "a#b", "collect", "c", 10, 0)
    two = keys.digest_bucket(DEVELOPMENT, "wf", "a", "collect", "b#c", 10, 0)
    assert one != two
    assert one["pk"].startswith(f"ENV#{DEVELOPMENT}#DIGEST#")
    assert keys.digest_bucket(DEVELOPMENT, "wf", "a", "collect", "x" * 2000, 10, 0)["sk"].startswith(
        "W#000000000010#P#000#S#collect#H#"
    )

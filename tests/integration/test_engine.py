"""The workflow engine in-process: exactly-once effects under redelivery and crashes, conditions,
preferences, delays and cancel, topics fanned out page by page."""

from __future__ import annotations

from typing import Any

import pytest
from clarion import aws
from clarion.clock import ControlledClock
from clarion.model.packed import records_of
from clarion.store import messages
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from tests.integration.conftest import Cloud
from tests.workflows import VIP_ONLY, delay, email, in_app, sms, workflow


def emails_sent() -> int:
    return ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_message_count


def sms_sent() -> int:
    return len(sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages)


def setup_email(cloud: Cloud) -> None:
    with cloud.configured_as("WorkerFunction"):
        aws.sesv2().create_email_identity(EmailIdentity="clarion.example")
    assert (
        cloud.api(
            "POST",
            "/v1/integrations",
            {"providerId": "ses", "channel": "email", "credentials": {"from": "hello@clarion.example"}},
        )[0]
        == 201
    )
    assert (
        cloud.api("POST", "/v1/integrations", {"providerId": "sns", "channel": "sms", "credentials": {}})[0]
        == 201
    )


WORKFLOW = workflow(
    "receipt",
    in_app("inbox", "Paid {{ payload.amount }}"),
    email("mail", "Receipt", "Paid {{ payload.amount }}"),
    sms("text", "Paid", conditions=VIP_ONLY),
)


def trigger(cloud: Cloud, events: list[dict[str, Any]]) -> dict[str, Any]:
    status, headers, body = cloud.api("POST", "/v1/events/trigger/bulk", {"events": events})
    assert status == 201
    return {"location": headers["Location"], "data": body["data"]}


def test_same_batch_three_times_and_a_crash_between_send_and_record_never_send_twice(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_email(cloud)
    cloud.api("POST", "/v1/workflows", WORKFLOW)
    trigger(
        cloud,
        [
            {
                "name": "receipt",
                "to": {
                    "subscriberId": f"p{i}",
                    "email": f"p{i}@example.com",
                    "phone": "+15555550100",
                    "data": {"vip": i == 0},
                },
                "payload": {"amount": i},
            }
            for i in range(5)
        ],
    )
    batch = cloud.sqs_event(cloud.receive("TriggerQueue"))
    real_settle = messages.settle
    crashes = []

    def crash_once(*args: Any, **kwargs: Any) -> bool:  # the worker dies after the provider took the email
        if not crashes:
            crashes.append(args)
            raise ConnectionError("worker killed between send and record")
        return real_settle(*args, **kwargs)

    monkeypatch.setattr(messages, "settle", crash_once)
    first = cloud.invoke("WorkerFunction", batch)
    # The crashed record shared its message with its neighbours (model.packed): it is re-enqueued
    # alone, a message of its own that SQS delivers again, and the packed message succeeds.
    assert first == {"batchItemFailures": []}
    (alone,) = cloud.receive("TriggerQueue")
    assert [r.transaction_id for r in records_of(alone["Body"])] == [crashes[0][1]]
    assert emails_sent() == 5
    for again in (cloud.sqs_event([alone]), batch, batch, batch):
        assert cloud.invoke("WorkerFunction", again) == {"batchItemFailures": []}
    assert emails_sent() == 5
    assert sms_sent() == 1  # only the VIP
    crashed = crashes[0][2]
    rows = {
        r["stepId"]: r
        for r in cloud.api("GET", "/v1/messages", query={"transactionId": crashes[0][1]})[2]["data"]
    }
    assert crashed == rows["mail"]["subscriberId"]
    assert rows["mail"]["status"] == "failed"
    assert "not sent again" in rows["mail"]["detail"]
    for i in range(5):
        assert len(cloud.api("GET", f"/v1/subscribers/p{i}/notifications/feed")[2]["data"]) == 1


def test_condition_and_preference_skip_exactly_their_steps(cloud: Cloud) -> None:
    setup_email(cloud)
    cloud.api("POST", "/v1/workflows", WORKFLOW)
    cloud.api(
        "POST",
        "/v1/subscribers",
        {"subscriberId": "quiet", "email": "q@example.com", "phone": "+15555550101", "data": {"vip": True}},
    )
    assert cloud.api("PATCH", "/v1/subscribers/quiet/preferences", {"channels": {"email": False}})[0] == 200
    sent = trigger(
        cloud,
        [
            {
                "name": "receipt",
                "to": ["quiet", {"subscriberId": "loud", "email": "l@example.com"}],
                "payload": {"amount": 3},
                "transactionId": "pref-1",
            }
        ],
    )
    assert sent["data"][0]["status"] == "processed"
    cloud.drain()
    view = cloud.api("GET", "/v1/events/trigger/pref-1")[2]["data"]
    steps = {(r["subscriberId"], s["stepId"]): s for r in view["recipients"] for s in r["steps"]}
    assert {k: v["status"] for k, v in steps.items()} == {
        ("quiet", "inbox"): "sent",
        ("quiet", "mail"): "skipped",
        ("quiet", "text"): "sent",
        ("loud", "inbox"): "sent",
        ("loud", "mail"): "sent",
        ("loud", "text"): "skipped",
    }
    assert "turned off email" in steps[("quiet", "mail")]["detail"]
    assert "condition" in steps[("loud", "text")]["detail"]
    assert emails_sent() == 1
    details = cloud.api("GET", "/v1/execution-details", query={"transactionId": "pref-1"})[2]["data"]
    assert len(details) == 6


def test_delay_resumes_later_and_cancel_stops_a_pending_one(
    cloud: Cloud, controlled: ControlledClock
) -> None:
    cloud.api(
        "POST",
        "/v1/workflows",
        workflow(
            "nudge", in_app("first", "one"), delay("wait", "{{ payload.wait }}"), in_app("second", "two")
        ),
    )
    trigger(
        cloud,
        [
            {"name": "nudge", "to": "soon", "payload": {"wait": 1}, "transactionId": "d-soon"},
            {"name": "nudge", "to": "never", "payload": {"wait": 3600}, "transactionId": "d-never"},
        ],
    )
    cloud.drain()
    assert [
        m["content"]["body"] for m in cloud.api("GET", "/v1/subscribers/soon/notifications/feed")[2]["data"]
    ] == ["one"]
    assert cloud.api("DELETE", "/v1/events/trigger/d-never")[2] == {"data": True}
    assert cloud.api("DELETE", "/v1/events/trigger/d-never")[2] == {"data": False}
    controlled.advance(1.5)
    cloud.drain()
    assert [
        m["content"]["body"] for m in cloud.api("GET", "/v1/subscribers/soon/notifications/feed")[2]["data"]
    ] == ["two", "one"]
    never = {
        s["stepId"]: s["status"]
        for s in cloud.api("GET", "/v1/events/trigger/d-never")[2]["data"]["recipients"][0]["steps"]
    }
    assert never == {"first": "sent", "wait": "cancelled"}
    soon = {
        s["stepId"]: s["status"]
        for s in cloud.api("GET", "/v1/events/trigger/d-soon")[2]["data"]["recipients"][0]["steps"]
    }
    assert soon == {"first": "sent", "wait": "resumed", "second": "sent"}


def test_topic_is_fanned_out_page_by_page_without_the_actor(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clarion.engine import recipients

    monkeypatch.setattr(recipients, "TOPIC_PAGE", 7)  # 25 members: four pages
    members = [f"m{i:02d}" for i in range(25)]
    cloud.api("POST", "/v1/subscribers/bulk", {"subscribers": [{"subscriberId": m} for m in members]})
    cloud.api("POST", "/v1/topics", {"key": "team", "name": "Team"})
    assert cloud.api("POST", "/v1/topics/team/subscribers", {"subscribers": members})[0] == 200
    sent = trigger(
        cloud,
        [
            {
                "name": "welcome",
                "to": [{"type": "Topic", "topicKey": "team"}, "outsider"],
                "actor": "m03",
                "transactionId": "t-1",
            }
        ],
    )
    cloud.drain()
    for member in members:
        expected = 0 if member == "m03" else 1
        assert len(cloud.api("GET", f"/v1/subscribers/{member}/notifications/feed")[2]["data"]) == expected, (
            member
        )
    assert len(cloud.api("GET", "/v1/subscribers/outsider/notifications/feed")[2]["data"]) == 1
    assert cloud.api("GET", sent["location"])[2]["data"]["counts"] == {"completed": 1}

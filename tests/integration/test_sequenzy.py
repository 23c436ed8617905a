"""Sequenzy's bulk events route in-process on moto: the subscriber found or made, definitions,
activity, workflows started by event name, eventId idempotency, double opt-in, the refusals."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from clarion import clock

from tests.integration.conftest import Cloud

PATH = "/api/v1/subscribers/events/bulk"
SES = {"providerId": "ses", "channel": "email", "active": True, "credentials": {"from": "hi@example.com"}}


def events(cloud: Cloud, body: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    status, _, answer = cloud.api("POST", PATH, body, **kwargs)
    return status, answer


def workflow(cloud: Cloud, workflow_id: str, step: str = "in_app") -> None:
    content = {"body": "hi {{ payload.plan }}"} if step == "in_app" else {"subject": "s", "body": "b"}
    status, _, body = cloud.api(
        "POST",
        "/v1/workflows",
        {"workflowId": workflow_id, "steps": [{"stepId": "s1", "type": step, "content": content}]},
    )
    assert status == 201, body


def feed(cloud: Cloud, subscriber_id: str) -> list[str]:
    cloud.drain()
    status, _, body = cloud.api("GET", f"/v1/subscribers/{subscriber_id}/notifications/feed")
    assert status == 200, body
    return [m["content"]["body"] for m in body["data"]]


def test_first_call_creates_the_subscriber_and_definitions_and_a_repeat_reuses_them(cloud: Cloud) -> None:
    body = {
        "email": "Ada@Example.com",
        "firstName": "Ada",
        "events": [{"name": "signed_up"}, {"name": "viewed"}],
    }
    status, first = events(cloud, body)
    assert status == 200, first
    assert first["success"] is True and first["subscriber"]["created"] is True
    assert first["subscriber"]["id"].startswith("sqz_") and first["subscriber"]["externalId"] is None
    assert [e["definitionCreated"] for e in first["events"]] == [True, True]
    status, again = events(cloud, {**body, "email": "ada@example.com", "customAttributes": {"plan": "pro"}})
    assert status == 200, again
    assert again["subscriber"] == {**first["subscriber"], "created": False, "email": "ada@example.com"}
    assert [e["definitionCreated"] for e in again["events"]] == [False, False]
    status, _, listed = cloud.api("GET", "/v1/event-definitions")
    assert sorted(d["name"] for d in listed["data"]) == ["signed_up", "viewed"]
    status, _, view = cloud.api("GET", f"/v1/subscribers/{first['subscriber']['id']}")
    assert (view["data"]["firstName"], view["data"]["data"]) == ("Ada", {"plan": "pro"})
    status, _, activity = cloud.api("GET", f"/v1/subscribers/{first['subscriber']['id']}/events")
    assert len(activity["data"]) == 4


def test_event_named_like_a_workflow_runs_it_and_an_event_id_repeat_runs_once(cloud: Cloud) -> None:
    workflow(cloud, "upgraded")
    body = {
        "externalId": "u-1",
        "email": "u1@example.com",
        "events": [{"name": "upgraded", "eventId": "e-1", "properties": {"plan": "pro"}}],
    }
    status, first = events(cloud, body)
    assert status == 200 and first["events"][0]["workflows"][0]["status"] == "queued", first
    status, again = events(cloud, body)
    assert again["events"][0].get("duplicate") is True, again
    assert feed(cloud, "u-1") == ["hi pro"]
    status, _, activity = cloud.api("GET", "/v1/subscribers/u-1/events")
    assert [e["id"] for e in activity["data"]] == ["e-1"]


def test_unknown_external_id_alone_is_404_and_bad_events_are_named_while_others_run(cloud: Cloud) -> None:
    status, answer = events(cloud, {"externalId": "nobody", "events": [{"name": "x"}]})
    assert (status, answer["success"]) == (404, False), answer
    assert answer["error"].startswith("externalId: ")
    status, answer = events(cloud, {"email": "b@example.com", "events": [{"name": "ok"}, {"nam": "typo"}, 3]})
    assert status == 200, answer
    assert answer["success"] is False and answer["events"][0]["id"]
    assert answer["events"][1]["error"].startswith("events.1.")
    assert answer["events"][2]["error"].startswith("events.2: ")
    status, answer = events(cloud, {"events": [{"name": "x"}]})
    assert (status, answer["error"].split(":")[0]) == (400, "email"), answer
    status, answer = events(cloud, {"email": "b@example.com", "events": []})
    assert (status, answer["error"].split(":")[0]) == (400, "events"), answer


def test_double_opt_in_holds_workflows_until_the_link_is_followed_then_runs_them_once(cloud: Cloud) -> None:
    assert cloud.api("PATCH", "/v1/environment", {"optInMode": "double_opt_in"})[0] == 200
    assert cloud.api("POST", "/v1/integrations", SES)[0] in (200, 201)
    workflow(cloud, "welcome-seq")
    status, answer = events(
        cloud,
        {
            "externalId": "p-1",
            "email": "p1@example.com",
            "events": [{"name": "welcome-seq", "properties": {"plan": "free"}}],
        },
    )
    assert status == 200, answer
    opt_in = answer["optIn"]
    assert (opt_in["status"], opt_in["confirmationQueued"], opt_in["heldWorkflows"]) == ("pending", True, 1)
    assert feed(cloud, "p-1") == []
    link = confirmation_link(cloud, opt_in["confirmationTransactionId"])
    token = parse_qs(urlsplit(link).query)["token"][0]
    for released in (1, 0):  # followed twice: the held workflow runs once
        status, _, confirmed = cloud.api("GET", urlsplit(link).path, key=None, query={"token": token})
        assert (status, confirmed["released"]) == (200, released), confirmed
    assert feed(cloud, "p-1") == ["hi free"]
    status, answer = events(
        cloud, {"externalId": "p-1", "events": [{"name": "welcome-seq", "properties": {"plan": "paid"}}]}
    )
    assert "optIn" not in answer and answer["subscriber"]["created"] is False
    assert sorted(feed(cloud, "p-1")) == ["hi free", "hi paid"]


def test_a_forged_or_garbled_confirmation_token_is_refused(cloud: Cloud) -> None:
    for token, expected in (
        ("nonsense", 400),
        ("eyJlIjoiZGV2ZWxvcG1lbnQiLCJzIjoieCIsIngiOjk5OTk5OTk5OTl9.bad", 401),
    ):
        status, _, answer = cloud.api("GET", "/v1/opt-in/confirm", key=None, query={"token": token})
        assert (status, answer["success"]) == (expected, False), answer


def test_an_expired_confirmation_link_is_refused_and_confirms_nothing(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cloud.api("PATCH", "/v1/environment", {"optInMode": "double_opt_in"})[0] == 200
    status, answer = events(
        cloud, {"externalId": "late", "email": "late@example.com", "events": [{"name": "x"}]}
    )
    assert status == 200 and answer["optIn"]["status"] == "pending", answer
    token = parse_qs(urlsplit(confirmation_link(cloud, answer["optIn"]["confirmationTransactionId"])).query)
    eight_days_on = clock.now_seconds() + 8 * 86_400
    monkeypatch.setattr(clock, "now_seconds", lambda: eight_days_on)

    status, _, refused = cloud.api("GET", "/v1/opt-in/confirm", key=None, query={"token": token["token"][0]})

    assert (status, refused["error"]) == (400, "token: the confirmation link has expired; ask for a new one")
    again = events(cloud, {"externalId": "late", "events": [{"name": "x"}]})[1]
    assert again["optIn"]["status"] == "pending"


def confirmation_link(cloud: Cloud, transaction_id: str) -> str:
    cloud.drain()
    status, _, rows = cloud.api("GET", "/v1/messages", query={"transactionId": transaction_id})
    assert status == 200 and rows["data"], rows
    body = rows["data"][0]["content"]["body"]
    return body.split('href="', 1)[1].split('"', 1)[0]


def test_a_customised_confirmation_workflow_sends_the_users_own_email(cloud: Cloud) -> None:
    assert cloud.api("PATCH", "/v1/environment", {"optInMode": "double_opt_in"})[0] == 200
    assert cloud.api("POST", "/v1/integrations", SES)[0] in (200, 201)
    own = {"subject": "Bitte bestätigen", "body": '<a href="{{ payload.DOUBLE_OPT_IN_URL }}">Ja</a>'}
    step = {"stepId": "mine", "type": "email", "content": own}
    created = cloud.api("POST", "/v1/workflows", {"workflowId": "sequenzy-double-opt-in", "steps": [step]})
    assert created[0] == 201, created

    status, answer = events(cloud, {"email": "k@example.com", "events": [{"name": "joined"}]})
    assert status == 200, answer

    link = confirmation_link(cloud, answer["optIn"]["confirmationTransactionId"])
    assert link.startswith("http://localhost/v1/opt-in/confirm?token="), link
    cloud.drain()
    rows = cloud.api(
        "GET", "/v1/messages", query={"transactionId": answer["optIn"]["confirmationTransactionId"]}
    )[2]
    assert rows["data"][0]["content"]["subject"] == "Bitte bestätigen"


def test_a_subscriber_another_route_stored_is_found_by_its_email(cloud: Cloud) -> None:
    status, _, created = cloud.api(
        "POST", "/v1/subscribers", {"subscriberId": "ada-1", "email": "ada@example.org"}
    )
    assert status == 201, created
    status, answer = events(cloud, {"email": "Ada@Example.org", "events": [{"name": "signed_up"}]})
    assert status == 200, answer
    assert answer["subscriber"]["id"] == "ada-1" and answer["subscriber"]["created"] is False
    status, again = events(cloud, {"email": "ada@example.org", "events": [{"name": "viewed"}]})
    assert again["subscriber"]["id"] == "ada-1"
    status, _, activity = cloud.api("GET", "/v1/subscribers/ada-1/events")
    assert [e["name"] for e in activity["data"]] == ["viewed", "signed_up"]

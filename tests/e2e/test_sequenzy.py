"""Sequenzy's bulk events route on the local stack, driven as a Sequenzy client drives it: plain
HTTP, `Authorization: Bearer <key>`, `POST /api/v1/subscribers/events/bulk`; the confirmation
link of double opt-in followed over HTTP, as a subscriber's mail client would."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from tests.e2e.conftest import SequenzyClient

PATH = "/api/v1/subscribers/events/bulk"
SES = {"providerId": "ses", "channel": "email", "active": True, "credentials": {"from": "news@example.com"}}


def eventually(check: Callable[[], Any], seconds: float = 45) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.25)
    return value


def workflow(client: SequenzyClient, workflow_id: str) -> None:
    step = {
        "stepId": "inbox",
        "type": "in_app",
        "content": {"body": "{{ payload.plan }} for {{ subscriber.firstName }}"},
    }
    created = client.call("POST", "/v1/workflows", json={"workflowId": workflow_id, "steps": [step]})
    assert created.status_code == 201, created.text


def feed(client: SequenzyClient, subscriber_id: str) -> list[str]:
    answer = client.call("GET", f"/v1/subscribers/{subscriber_id}/notifications/feed")
    assert answer.status_code == 200, answer.text
    return [m["content"]["body"] for m in answer.json()["data"]]


def settled(client: SequenzyClient, transaction_id: str) -> bool:
    answer = client.call("GET", f"/v1/events/trigger/{transaction_id}")
    return answer.status_code == 200 and answer.json()["data"]["status"] not in ("queued", "processing")


def send(client: SequenzyClient, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.call("POST", PATH, json=body)
    assert answer.status_code == 200, answer.text
    parsed: dict[str, Any] = answer.json()
    return parsed


def test_repeat_calls_reuse_the_subscriber_and_the_event_definitions(sequenzy: SequenzyClient) -> None:
    body = {
        "email": "grace@example.com",
        "firstName": "Grace",
        "events": [{"name": "signed_up"}, {"name": "page_viewed"}],
    }

    first = send(sequenzy, body)
    again = send(
        sequenzy, {**body, "events": [{"name": "page_viewed"}], "customAttributes": {"plan": "team"}}
    )
    by_id = send(sequenzy, {"externalId": first["subscriber"]["id"], "events": [{"name": "page_viewed"}]})

    assert first["success"] and first["subscriber"]["created"] is True
    assert [e["definitionCreated"] for e in first["events"]] == [True, True]
    assert again["subscriber"] == {**first["subscriber"], "created": False}
    assert again["events"][0]["definitionCreated"] is False
    assert by_id["subscriber"]["id"] == first["subscriber"]["id"] and by_id["subscriber"]["created"] is False
    definitions = sequenzy.call("GET", "/v1/event-definitions").json()["data"]
    assert sorted(d["name"] for d in definitions) == ["page_viewed", "signed_up"]
    subscriber_id = first["subscriber"]["id"]
    profile = sequenzy.call("GET", f"/v1/subscribers/{subscriber_id}").json()["data"]
    assert (profile["email"], profile["firstName"], profile["data"]) == (
        "grace@example.com",
        "Grace",
        {"plan": "team"},
    )
    page = sequenzy.call("GET", f"/v1/subscribers/{subscriber_id}/events", params={"limit": 3}).json()
    rest = sequenzy.call(
        "GET", f"/v1/subscribers/{subscriber_id}/events", params={"cursor": page["next"]}
    ).json()
    assert len(page["data"]) == 3 and page["hasMore"] and len(rest["data"]) == 1 and not rest["hasMore"]


def test_an_event_named_like_a_workflow_delivers_it_and_an_event_id_repeat_triggers_once(
    sequenzy: SequenzyClient,
) -> None:
    workflow(sequenzy, "trial_started")
    body = {
        "externalId": "user-7",
        "email": "ada@example.com",
        "firstName": "Ada",
        "events": [{"name": "trial_started", "eventId": "evt-7", "properties": {"plan": "Pro"}}],
    }

    first = send(sequenzy, body)
    repeat = send(sequenzy, body)

    (started,) = first["events"][0]["workflows"]
    assert (first["subscriber"]["id"], started["status"]) == ("user-7", "queued"), first
    assert repeat["events"][0]["duplicate"] is True and "workflows" not in repeat["events"][0], repeat
    assert eventually(lambda: settled(sequenzy, started["transactionId"]))
    assert feed(sequenzy, "user-7") == ["Pro for Ada"]
    activity = sequenzy.call("GET", "/v1/subscribers/user-7/events").json()["data"]
    assert [(e["id"], e["name"], e["properties"]) for e in activity] == [
        ("evt-7", "trial_started", {"plan": "Pro"})
    ]


def test_double_opt_in_holds_the_workflow_until_the_link_is_followed_then_delivers_it_once(
    sequenzy: SequenzyClient,
) -> None:
    assert sequenzy.call("PATCH", "/v1/environment", json={"optInMode": "double_opt_in"}).status_code == 200
    assert sequenzy.call("POST", "/v1/integrations", json=SES).status_code in (200, 201)
    workflow(sequenzy, "onboarding")

    answer = send(
        sequenzy,
        {
            "email": "lin@example.com",
            "firstName": "Lin",
            "events": [{"name": "onboarding", "properties": {"plan": "Free"}}],
        },
    )

    opt_in = answer["optIn"]
    assert (opt_in["status"], opt_in["confirmationQueued"], opt_in["heldWorkflows"]) == ("pending", True, 1)
    subscriber_id = answer["subscriber"]["id"]
    assert eventually(lambda: settled(sequenzy, opt_in["confirmationTransactionId"]))
    assert feed(sequenzy, subscriber_id) == []  # held: nothing ran before the confirmation
    emails = sequenzy.call(
        "GET", "/v1/messages", params={"transactionId": opt_in["confirmationTransactionId"]}
    )
    (email,) = emails.json()["data"]
    link = email["content"]["body"].split('href="', 1)[1].split('"', 1)[0]
    assert link.startswith(sequenzy.stack.url + "/v1/opt-in/confirm?token="), link

    followed = [requests.get(link, timeout=30) for _ in range(2)]  # no API key: the link is signed

    assert [(f.status_code, f.json()["released"]) for f in followed] == [(200, 1), (200, 0)]
    assert eventually(lambda: feed(sequenzy, subscriber_id))
    time.sleep(2)  # anything released twice would have been delivered by now
    assert feed(sequenzy, subscriber_id) == ["Free for Lin"]
    later = send(
        sequenzy,
        {"email": "lin@example.com", "events": [{"name": "onboarding", "properties": {"plan": "Paid"}}]},
    )
    assert "optIn" not in later and later["events"][0]["workflows"][0]["status"] == "queued"
    tampered = requests.get(link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"), timeout=30)
    assert tampered.status_code == 401 and tampered.json() == {
        "success": False,
        "error": "token: signature does not match",
    }


def test_a_missing_key_and_an_unknown_external_id_are_answered_in_sequenzy_s_shape(
    sequenzy: SequenzyClient,
) -> None:
    unauthenticated = requests.post(
        sequenzy.stack.url + PATH, json={"email": "a@example.com", "events": []}, timeout=30
    )
    unknown = sequenzy.call("POST", PATH, json={"externalId": "never-seen", "events": [{"name": "x"}]})
    empty = sequenzy.call("POST", PATH, json={"email": "a@example.com", "events": []})

    assert (unauthenticated.status_code, unauthenticated.json()["success"]) == (401, False)
    assert (unknown.status_code, unknown.json()["success"]) == (404, False)
    assert unknown.json()["error"].startswith("externalId: ")
    assert (empty.status_code, empty.json()["error"].split(":")[0]) == (400, "events")

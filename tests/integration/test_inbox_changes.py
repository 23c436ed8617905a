"""Novu's Inbox routes in-process: changing notifications (one by one, in bulk), preferences the
engine honours, CORS, and the token as the browser's only credential."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from clarion.api import inbox_auth
from clarion.store import environment_settings, environments

from tests.integration.conftest import Cloud
from tests.integration.inbox_helpers import INBOX_WORKFLOW, call, deliver, token_for

LIST = "/v1/inbox/notifications"
STAGING_KEY = "staging-inbox-key"


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    environment_settings.forget_cached_settings()
    yield
    environment_settings.forget_cached_settings()


@pytest.fixture
def workflow(cloud: Cloud) -> None:
    assert cloud.api("POST", "/v1/workflows", INBOX_WORKFLOW)[0] == 201


def notifications(cloud: Cloud, token: str, **query: list[str]) -> list[dict[str, Any]]:
    status, _, body = call(cloud, "GET", LIST, token, query=query or None)
    assert status == 200, body
    return list(body["data"])


def patch(cloud: Cloud, token: str, notification_id: str, action: str, body: Any = None) -> dict[str, Any]:
    status, _, answer = call(cloud, "PATCH", f"{LIST}/{notification_id}/{action}", token, body=body)
    assert status == 200, answer
    return dict(answer["data"])


def test_read_unread_archive_unarchive_follow_novus_rules(cloud: Cloud, workflow: None) -> None:
    deliver(cloud, "ada", ["A-1"])
    token = token_for(cloud, "ada")
    [one] = notifications(cloud, token)
    read = patch(cloud, token, one["id"], "read")
    assert (read["isRead"], read["isSeen"], read["isArchived"]) == (True, True, False)
    assert read["readAt"] and read["firstSeenAt"]
    unread = patch(cloud, token, one["id"], "unread")
    assert (unread["isRead"], unread["readAt"], unread["isSeen"]) == (False, None, True)
    archived = patch(cloud, token, one["id"], "archive")
    assert (archived["isArchived"], archived["isRead"]) == (True, True) and archived["archivedAt"]
    back = patch(cloud, token, one["id"], "unarchive")
    assert (back["isArchived"], back["archivedAt"], back["isRead"]) == (False, None, True)
    assert back["firstSeenAt"] == read["firstSeenAt"]  # first seen stays the first time


def test_snooze_hides_until_unsnoozed_and_actions_complete_and_revert(cloud: Cloud, workflow: None) -> None:
    deliver(cloud, "ada", ["A-1"])
    token = token_for(cloud, "ada")
    [one] = notifications(cloud, token)
    until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    snoozed = patch(cloud, token, one["id"], "snooze", {"snoozeUntil": until})
    assert snoozed["isSnoozed"] is True and snoozed["snoozedUntil"].endswith("Z")
    assert notifications(cloud, token, snoozed=["false"]) == []
    assert [n["id"] for n in notifications(cloud, token, snoozed=["true"])] == [one["id"]]
    assert patch(cloud, token, one["id"], "unsnooze")["isSnoozed"] is False
    assert len(notifications(cloud, token, snoozed=["false"])) == 1

    done = patch(cloud, token, one["id"], "complete", {"actionType": "primary"})
    assert done["primaryAction"]["isCompleted"] is True and done["secondaryAction"]["isCompleted"] is False
    assert (
        patch(cloud, token, one["id"], "revert", {"actionType": "primary"})["primaryAction"]["isCompleted"]
        is False
    )

    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    for body, field in (
        ({"snoozeUntil": past}, "snoozeUntil"),
        ({"snoozeUntil": "tomorrow"}, "snoozeUntil"),
        ({}, "snoozeUntil"),
    ):
        status, _, answer = call(cloud, "PATCH", f"{LIST}/{one['id']}/snooze", token, body=body)
        assert status == 400 and [e["field"] for e in answer["errors"]] == [field], answer
    status, _, answer = call(
        cloud, "PATCH", f"{LIST}/{one['id']}/complete", token, body={"actionType": "third"}
    )
    assert status == 400 and [e["field"] for e in answer["errors"]] == ["actionType"]


def test_delete_takes_it_out_of_the_inbox_and_unknown_ids_are_not_found(cloud: Cloud, workflow: None) -> None:
    deliver(cloud, "ada", ["A-1", "A-2"])
    token = token_for(cloud, "ada")
    first, second = notifications(cloud, token)
    status, _, _ = call(cloud, "DELETE", f"{LIST}/{first['id']}/delete", token)
    assert status == 204
    assert [n["id"] for n in notifications(cloud, token)] == [second["id"]]
    for method, path in (
        ("DELETE", f"{LIST}/{first['id']}/delete"),
        ("PATCH", f"{LIST}/{first['id']}/read"),
        ("PATCH", f"{LIST}/not-an-id/read"),
    ):
        status, _, answer = call(cloud, method, path, token)
        assert status == 404 and answer["message"].startswith("notificationId:"), (path, answer)
    status, _, messages = cloud.api("GET", "/v1/messages", query={"transactionId": first["transactionId"]})
    assert status == 200 and len(messages["data"]) == 1  # the transaction keeps its record


def test_bulk_read_seen_archive_read_archive_and_delete(cloud: Cloud, workflow: None) -> None:
    deliver(cloud, "ada", ["A-1", "A-2", "A-3", "A-4"])
    token = token_for(cloud, "ada")
    ids = [n["id"] for n in notifications(cloud, token)]
    assert call(cloud, "POST", f"{LIST}/seen", token, body={"notificationIds": ids[:2]})[0] == 204
    assert [n["isSeen"] for n in notifications(cloud, token)] == [True, True, False, False]
    assert call(cloud, "POST", f"{LIST}/read", token, body={"data": json.dumps({"kind": "other"})})[0] == 204
    assert not any(n["isRead"] for n in notifications(cloud, token))  # no notification has that data
    assert call(cloud, "PATCH", f"{LIST}/{ids[0]}/read", token)[0] == 200
    assert call(cloud, "POST", f"{LIST}/read-archive", token, body={})[0] == 204
    assert [n["isArchived"] for n in notifications(cloud, token)] == [True, False, False, False]
    assert call(cloud, "POST", f"{LIST}/read", token, body={"tags": []})[0] == 204
    assert all(n["isRead"] for n in notifications(cloud, token))
    assert call(cloud, "POST", f"{LIST}/archive", token)[0] == 204
    assert all(n["isArchived"] for n in notifications(cloud, token))
    assert (
        call(cloud, "POST", f"{LIST}/delete", token, body={"data": json.dumps({"kind": "order"})})[0] == 204
    )
    assert notifications(cloud, token) == []
    status, _, answer = call(cloud, "POST", f"{LIST}/read", token, body={"colour": "red"})
    assert status == 400 and [e["field"] for e in answer["errors"]] == ["colour"]


# --------------------------------------------------------------------------------- preferences


def test_preferences_are_the_ones_the_engine_honours(cloud: Cloud, workflow: None) -> None:
    token = token_for(cloud, "ada")
    status, _, body = call(
        cloud, "GET", "/v1/inbox/preferences", token, query={"criticality": ["nonCritical"]}
    )
    assert status == 200, body
    global_, order_update, welcome = body["data"]
    assert global_ == {
        "level": "global",
        "enabled": True,
        "channels": {"in_app": True, "email": True, "sms": True, "chat": True, "push": True},
    }
    assert order_update["level"] == "template" and order_update["channels"] == {"in_app": True}
    assert order_update["workflow"]["id"] == "order-update" and welcome["workflow"]["id"] == "welcome"

    status, _, body = call(
        cloud, "PATCH", "/v1/inbox/preferences/order-update", token, body={"in_app": False}
    )
    assert (
        status == 200 and body["data"]["channels"] == {"in_app": False} and body["data"]["enabled"] is False
    )
    stored = cloud.api("GET", "/v1/subscribers/ada")[2]["data"]["preferences"]
    assert stored["workflows"] == {"order-update": {"in_app": False}}
    deliver(cloud, "ada", ["A-1"])
    assert notifications(cloud, token) == []  # the engine skipped it

    status, _, body = call(cloud, "PATCH", "/v1/inbox/preferences/order-update", token, body={"in_app": True})
    assert status == 200 and body["data"]["channels"] == {"in_app": True}
    status, _, body = call(
        cloud, "PATCH", "/v1/inbox/preferences", token, body={"in_app": False, "email": False}
    )
    assert (
        status == 200
        and body["data"]["channels"]["in_app"] is False
        and body["data"]["channels"]["sms"] is True
    )
    status, _, body = call(cloud, "GET", "/v1/inbox/preferences", token)
    assert body["data"][1]["channels"] == {"in_app": False}  # the global switch wins, as in the engine
    deliver(cloud, "ada", ["A-2"])
    assert notifications(cloud, token) == []
    assert call(cloud, "PATCH", "/v1/inbox/preferences", token, body={"in_app": True})[0] == 200
    deliver(cloud, "ada", ["A-3"])
    assert len(notifications(cloud, token)) == 1


def test_preference_changes_refuse_unknown_channels_and_workflows(cloud: Cloud, workflow: None) -> None:
    token = token_for(cloud, "ada")
    status, _, body = call(cloud, "PATCH", "/v1/inbox/preferences", token, body={"fax": False})
    assert status == 400 and [e["field"] for e in body["errors"]] == ["fax"]
    status, _, body = call(cloud, "PATCH", "/v1/inbox/preferences/no-such", token, body={"in_app": False})
    assert status == 404 and body["message"].startswith("workflowId:")
    status, _, body = call(
        cloud,
        "PATCH",
        "/v1/inbox/preferences/bulk",
        token,
        body={"preferences": [{"workflowId": "order-update", "in_app": False}, {"workflowId": "welcome"}]},
    )
    assert status == 200, body
    assert [p["channels"] for p in body["data"]] == [{"in_app": False}, {"in_app": True}]


# ------------------------------------------------------------------------- who sees what


def test_another_subscribers_or_environments_token_never_sees_these_notifications(
    cloud: Cloud, workflow: None
) -> None:
    deliver(cloud, "ada", ["A-1"])
    ada = token_for(cloud, "ada")
    [one] = notifications(cloud, ada)
    bob = token_for(cloud, "bob")
    assert notifications(cloud, bob) == []
    for method, action in (("PATCH", "read"), ("PATCH", "archive"), ("DELETE", "delete")):
        assert call(cloud, method, f"{LIST}/{one['id']}/{action}", bob)[0] == 404
    assert call(cloud, "POST", f"{LIST}/read", bob)[0] == 204
    assert notifications(cloud, ada)[0]["isRead"] is False

    with cloud.configured_as("ApiFunction"):
        environments.create_environment("staging", STAGING_KEY)
    assert cloud.api("POST", "/v1/workflows", INBOX_WORKFLOW, key=STAGING_KEY)[0] == 201
    staging_ada = token_for(cloud, "ada", key=STAGING_KEY)  # the same subscriber id elsewhere
    assert notifications(cloud, staging_ada) == []
    assert call(cloud, "PATCH", f"{LIST}/{one['id']}/read", staging_ada)[0] == 404

    forged = inbox_auth.sign(
        inbox_auth.Claims("development", "ada", 2**40, "0" * 16), STAGING_KEY
    )  # staging's key, development's claims
    assert call(cloud, "GET", LIST, forged)[0] == 401
    body, _, signature = ada.partition(".")
    claims = json.loads(inbox_auth._unb64(body))
    tampered = inbox_auth._b64(json.dumps(claims | {"sub": "bob"}).encode()) + "." + signature
    assert call(cloud, "GET", LIST, tampered)[0] == 401
    for token in ("", "garbage", "a.b"):
        assert call(cloud, "GET", LIST, token or None)[0] == 401


def test_api_keys_are_not_inbox_tokens_and_tokens_are_not_api_keys(cloud: Cloud) -> None:
    ada = token_for(cloud, "ada")
    status, _, _ = call(cloud, "GET", LIST, headers={"Authorization": "ApiKey clarion-dev-key"})
    assert status == 401
    assert call(cloud, "GET", "/v1/subscribers/ada", ada)[0] == 401
    assert call(cloud, "GET", "/v1/environment", ada)[0] == 401


def test_expired_tokens_and_tokens_of_revoked_keys_are_refused(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = token_for(cloud, "ada")
    assert call(cloud, "GET", LIST, ada)[0] == 200
    later = inbox_auth.now_seconds() + 3601
    monkeypatch.setattr(inbox_auth, "now_seconds", lambda: later)
    status, _, body = call(cloud, "GET", LIST, ada)
    assert status == 401 and "expired" in body["message"]
    monkeypatch.undo()
    with cloud.configured_as("ApiFunction"):
        environments.revoke_key("development", environments.hash_api_key("clarion-dev-key")[:16])
        environments.forget_cached_keys()
    assert call(cloud, "GET", LIST, ada)[0] == 401


# -------------------------------------------------------------------------------------- CORS


def test_inbox_answers_browsers_with_cors_and_management_routes_do_not(cloud: Cloud) -> None:
    origin = {"Origin": "https://app.example.com"}
    status, headers, _ = call(
        cloud,
        "OPTIONS",
        "/v1/inbox/notifications/count",
        headers=origin | {"Access-Control-Request-Headers": "authorization,content-type,novu-api-version"},
    )
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "PATCH" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Allow-Headers"] == "authorization,content-type,novu-api-version"
    ada = token_for(cloud, "ada")
    status, headers, _ = call(cloud, "GET", LIST, ada, headers=origin)
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    status, headers, _ = call(cloud, "GET", LIST, "garbage", headers=origin)
    assert status == 401 and headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    status, headers, _ = cloud.api("GET", "/v1/environment", headers=origin)
    assert status == 200 and "Access-Control-Allow-Origin" not in headers


def test_an_environment_limits_the_origins_that_may_call_its_inbox(cloud: Cloud) -> None:
    ada = token_for(cloud, "ada")
    patched = {"inbox": {"allowedOrigins": ["https://app.example.com"]}}
    assert cloud.api("PATCH", "/v1/environment", patched)[0] == 200
    status, _, body = call(cloud, "GET", LIST, ada, headers={"Origin": "https://evil.example"})
    assert status == 403 and body["message"].startswith("Origin:")
    assert call(cloud, "GET", LIST, ada, headers={"Origin": "https://app.example.com"})[0] == 200
    assert call(cloud, "GET", LIST, ada)[0] == 200  # a server sends no Origin
    appid = cloud.api("GET", "/v1/environment")[2]["data"]["applicationIdentifier"]
    status, _, body = call(
        cloud,
        "POST",
        "/v1/inbox/session",
        body={"applicationIdentifier": appid, "subscriber": {"subscriberId": "ada"}},
        headers={"Origin": "https://evil.example"},
    )
    assert status == 403

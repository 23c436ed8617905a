"""Novu's Inbox routes in-process on moto: session (applicationIdentifier, subscriberHash),
the notifications (list, count, changes one by one and in bulk), who may see what."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from clarion.api.inbox_auth import subscriber_hash
from clarion.store import environment_settings, environments

from tests.integration.conftest import Cloud
from tests.integration.inbox_helpers import INBOX_WORKFLOW, call, deliver, session, token_for

STAGING_KEY = "staging-inbox-key"
LIST = "/v1/inbox/notifications"


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    environment_settings.forget_cached_settings()
    yield
    environment_settings.forget_cached_settings()


@pytest.fixture
def workflow(cloud: Cloud) -> None:
    status, _, body = cloud.api("POST", "/v1/workflows", INBOX_WORKFLOW)
    assert status == 201, body


@pytest.fixture
def staging(cloud: Cloud) -> str:
    with cloud.configured_as("ApiFunction"):
        environments.create_environment("staging", STAGING_KEY)
    status, _, body = cloud.api("POST", "/v1/workflows", INBOX_WORKFLOW, key=STAGING_KEY)
    assert status == 201, body
    return "staging"


def listed(cloud: Cloud, token: str, **query: list[str]) -> dict[str, Any]:
    status, _, body = call(cloud, "GET", LIST, token, query=query or None)
    assert status == 200, body
    return dict(body)


def unread(cloud: Cloud, token: str) -> int:
    filters = json.dumps([{"read": False, "archived": False, "snoozed": False}])
    status, _, body = call(cloud, "GET", f"{LIST}/count", token, query={"filters": [filters]})
    assert status == 200, body
    return int(body["data"][0]["count"])


# ------------------------------------------------------------------------- environment route


def test_environment_route_publishes_its_application_identifier_and_inbox_settings(cloud: Cloud) -> None:
    status, _, first = cloud.api("GET", "/v1/environment")
    assert status == 200
    data = first["data"]
    assert data["environmentId"] == "development"
    assert data["applicationIdentifier"].startswith("app_")
    assert data["inbox"] == {"subscriberHashRequired": False, "allowedOrigins": ["*"]}  # the local seed
    assert data["limits"] == {"perSecond": 1000, "burst": 2000}
    assert (
        cloud.api("GET", "/v1/environment")[2]["data"]["applicationIdentifier"]
        == data["applicationIdentifier"]
    )

    status, _, patched = cloud.api(
        "PATCH",
        "/v1/environment",
        {"inbox": {"subscriberHashRequired": True, "allowedOrigins": ["https://App.example.com"]}},
    )
    assert status == 200, patched
    assert patched["data"]["inbox"] == {
        "subscriberHashRequired": True,
        "allowedOrigins": ["https://app.example.com"],
    }
    assert patched["data"]["applicationIdentifier"] == data["applicationIdentifier"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"limits": {"perSecond": 5}}, "limits"),
        ({"inbox": {"subscriberHashRequred": True}}, "inbox.subscriberHashRequred"),
        ({"inbox": {"allowedOrigins": ["https://app.example.com/path"]}}, "inbox.allowedOrigins.0"),
        ({"inbox": {"subscriberHashRequired": "maybe"}}, "inbox.subscriberHashRequired"),
    ],
)
def test_environment_patch_refuses_unknown_and_bad_fields_naming_them(
    cloud: Cloud, body: dict[str, Any], field: str
) -> None:
    status, _, answer = cloud.api("PATCH", "/v1/environment", body)
    assert status == 400, answer
    assert [e["field"] for e in answer["errors"]] == [field]


def test_environment_route_needs_an_api_key_and_each_environment_has_its_own_id(
    cloud: Cloud, staging: str
) -> None:
    assert cloud.api("GET", "/v1/environment", key=None)[0] == 401
    development = cloud.api("GET", "/v1/environment")[2]["data"]
    other = cloud.api("GET", "/v1/environment", key=STAGING_KEY)[2]["data"]
    assert other["environmentId"] == "staging"
    assert other["applicationIdentifier"] != development["applicationIdentifier"]
    assert other["inbox"]["subscriberHashRequired"] is True  # the default outside local development


# ------------------------------------------------------------------------------------ session


def test_session_without_hash_in_development_and_with_the_right_hash(cloud: Cloud, workflow: None) -> None:
    deliver(cloud, "ada", ["A-1", "A-2"])
    status, answer = session(cloud, "ada")
    assert status == 201, answer
    data = answer["data"]
    assert data["token"] and data["totalUnreadCount"] == 2 and data["unreadCount"]["total"] == 2
    assert data["isDevelopmentMode"] is True
    assert session(cloud, "ada", hashed=True)[0] == 201


def test_wrong_hash_is_always_refused_and_a_missing_one_where_required(cloud: Cloud, staging: str) -> None:
    assert session(cloud, "ada", hashed="0" * 64)[0] == 401  # development: optional, never wrong
    assert session(cloud, "ada", hashed=subscriber_hash("another-key", "ada"))[0] == 401
    status, answer = session(cloud, "ada", key=STAGING_KEY)
    assert (status, answer["message"]) == (401, "subscriberHash: required in this environment")
    assert session(cloud, "ada", key=STAGING_KEY, hashed=subscriber_hash(STAGING_KEY, "bob"))[0] == 401
    status, answer = session(cloud, "ada", key=STAGING_KEY, hashed=True)
    assert status == 201 and answer["data"]["isDevelopmentMode"] is False


def test_session_refuses_an_unknown_application_and_bad_bodies_naming_the_field(cloud: Cloud) -> None:
    status, _, answer = call(
        cloud, "POST", "/v1/inbox/session", body={"applicationIdentifier": "app_nope", "subscriberId": "ada"}
    )
    assert status == 401 and answer["message"].startswith("applicationIdentifier:")
    status, _, answer = call(cloud, "POST", "/v1/inbox/session", body={"subscriberId": "ada"})
    assert status == 400 and [e["field"] for e in answer["errors"]] == ["applicationIdentifier"]
    appid = cloud.api("GET", "/v1/environment")[2]["data"]["applicationIdentifier"]
    status, _, answer = call(
        cloud,
        "POST",
        "/v1/inbox/session",
        body={"applicationIdentifier": appid, "subscriber": {"subscriberId": ""}},
    )
    assert status == 400 and [e["field"] for e in answer["errors"]] == ["subscriber.subscriberId"]


def test_a_session_creates_the_subscriber_with_its_profile(cloud: Cloud) -> None:
    assert session(cloud, "newcomer")[0] == 201
    status, _, body = cloud.api("GET", "/v1/subscribers/newcomer")
    assert status == 200 and body["data"]["timezone"] == "Europe/Berlin"


# ------------------------------------------------------------------------------- reading


def test_list_is_newest_first_as_inbox_notifications_and_pages(cloud: Cloud, workflow: None) -> None:
    deliver(cloud, "ada", ["A-1", "A-2", "A-3"])
    token = token_for(cloud, "ada")
    body = listed(cloud, token, limit=["2"])
    first = body["data"]
    assert body["hasMore"] is True and len(first) == 2
    everything = listed(cloud, token)["data"]
    assert len(everything) == 3
    order = [(n["createdAt"], n["transactionId"]) for n in everything]
    assert order == sorted(order, reverse=True)
    assert first == everything[:2]
    rest = listed(cloud, token, limit=["2"], after=[first[-1]["id"]])
    assert rest["data"] == everything[2:] and rest["hasMore"] is False
    assert listed(cloud, token, limit=["1"], offset=["1"])["data"] == everything[1:2]

    one = everything[0]
    order_id = one["subject"].split()[-1]
    assert one["body"] == f"Order {order_id} is shipped"
    assert one["to"] == {"subscriberId": "ada"}
    assert one["channelType"] == "in_app" and one["severity"] == "none"
    assert (one["isRead"], one["isSeen"], one["isArchived"], one["isSnoozed"]) == (False, False, False, False)
    assert one["avatar"] == "https://example.com/a.png"
    assert one["primaryAction"] == {
        "label": "Track",
        "isCompleted": False,
        "redirect": {"url": "/orders", "target": "_self"},
    }
    assert one["secondaryAction"] == {"label": "Help", "isCompleted": False}
    assert one["redirect"] == {"url": "https://example.com/orders"}
    assert one["data"] == {"kind": "order", "region": "eu"}
    assert one["workflow"]["identifier"] == "order-update" and one["workflow"]["name"] == "Order update"
    assert one["tags"] == []


def test_list_filters_by_read_archived_seen_and_data(cloud: Cloud, workflow: None) -> None:
    deliver(cloud, "ada", ["A-1", "A-2", "A-3"])
    token = token_for(cloud, "ada")
    ids = [n["id"] for n in listed(cloud, token)["data"]]
    assert call(cloud, "PATCH", f"{LIST}/{ids[0]}/read", token)[0] == 200
    assert call(cloud, "PATCH", f"{LIST}/{ids[1]}/archive", token)[0] == 200
    assert [n["id"] for n in listed(cloud, token, read=["false"])["data"]] == [ids[2]]
    assert [n["id"] for n in listed(cloud, token, archived=["true"])["data"]] == [ids[1]]
    assert [n["id"] for n in listed(cloud, token, read=["true"], archived=["false"])["data"]] == [ids[0]]
    assert [n["id"] for n in listed(cloud, token, seen=["false"])["data"]] == [ids[2]]
    assert len(listed(cloud, token, data=[json.dumps({"kind": "order"})])["data"]) == 3
    assert listed(cloud, token, data=[json.dumps({"kind": ["invoice", "promo"]})])["data"] == []
    assert listed(cloud, token, **{"tags[]": ["billing"]})["data"] == []  # the workflow has no tags
    body = listed(cloud, token, read=["false"], archived=["false"])
    assert body["filter"] == {"read": False, "archived": False}


def test_counts_one_per_filter_and_unread_drops_when_one_is_read(cloud: Cloud, workflow: None) -> None:
    deliver(cloud, "ada", ["A-1", "A-2", "A-3"])
    token = token_for(cloud, "ada")
    assert unread(cloud, token) == 3
    first = listed(cloud, token)["data"][0]["id"]
    status, _, body = call(cloud, "PATCH", f"{LIST}/{first}/read", token)
    assert status == 200 and body["data"]["isRead"] is True and body["data"]["readAt"]
    assert unread(cloud, token) == 2
    filters = json.dumps([{"read": True}, {"archived": True}, {"tags": ["x"]}, {}])
    status, _, body = call(cloud, "GET", f"{LIST}/count", token, query={"filters": [filters]})
    assert [c["count"] for c in body["data"]] == [1, 0, 0, 3]
    assert [c["filter"] for c in body["data"]] == [{"read": True}, {"archived": True}, {"tags": ["x"]}, {}]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"filters": ["not json"]}, "filters"),
        ({"filters": ["[]"]}, "filters"),
        ({"filters": ['[{"read": "perhaps"}]']}, "filters.0.read"),
        ({"filters": ['[{"colour": "red"}]']}, "filters.0.colour"),
    ],
)
def test_bad_count_filters_are_refused_naming_the_field(
    cloud: Cloud, query: dict[str, list[str]], field: str
) -> None:
    token = token_for(cloud, "ada")
    status, _, body = call(cloud, "GET", f"{LIST}/count", token, query=query)
    assert status == 400, body
    assert [e["field"] for e in body["errors"]] == [field]


def test_bad_list_parameters_are_refused_naming_the_field(cloud: Cloud) -> None:
    token = token_for(cloud, "ada")
    for query, field in (
        ({"read": ["perhaps"]}, "query.read"),
        ({"limit": ["0"]}, "query.limit"),
        ({"after": ["bm90LWFuLWlk"]}, "after"),
        ({"data": ["[1]"]}, "data"),
    ):
        status, _, body = call(cloud, "GET", LIST, token, query=query)
        assert status == 400, (query, body)
        assert [e["field"] for e in body["errors"]] == [field], body

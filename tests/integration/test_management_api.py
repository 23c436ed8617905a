"""The management resources of the public contract: workflows, subscribers, tenants, topics,
integrations. Novu-shaped: `{"data": ...}`, Novu error bodies naming the field, 404 for unknown
ids and for another environment's objects, opaque cursors."""

from __future__ import annotations

from typing import Any

import pytest
from clarion.model import SubscriberProfile
from clarion.store import environments, integrations, keys, subscribers, tenants, topics

from tests.integration.conftest import DEVELOPMENT, Cloud

STAGING_KEY = "staging-key"

WORKFLOW = {
    "workflowId": "onboarding",
    "name": "Onboarding",
    "steps": [{"stepId": "inbox", "type": "in_app", "content": {"body": "Hi {{ subscriber.firstName }}"}}],
}


@pytest.fixture
def staging(cloud: Cloud) -> str:
    """A second environment, with its own key."""
    with cloud.configured_as("ApiFunction"):
        environments.create_environment("staging", STAGING_KEY)
    return STAGING_KEY


def assert_field_error(answer: tuple[int, dict[str, str], Any], status: int, field: str) -> None:
    code, _, body = answer
    assert code == status, body
    assert body["statusCode"] == status
    assert body["path"] and body["timestamp"]
    if status == 400:
        assert field in {error["field"] for error in body["errors"]}, body
    else:
        assert body["message"].startswith(f"{field}:"), body


# --- workflows ---------------------------------------------------------------------------------


def test_workflow_put_replaces_steps_name_active_and_keeps_trigger_id(cloud: Cloud) -> None:
    created = cloud.api("POST", "/v1/workflows", WORKFLOW)[2]["data"]
    assert cloud.api("GET", "/v1/workflows/onboarding")[2]["data"]["name"] == "Onboarding"  # now cached

    status, _, body = cloud.api(
        "PUT",
        "/v1/workflows/onboarding",
        {"name": "Hello", "active": False, "steps": [{"stepId": "mail", "type": "email"}], "triggerId": 99},
    )

    assert status == 200
    assert body["data"]["triggerId"] == created["triggerId"]
    assert body["data"]["name"] == "Hello"
    assert body["data"]["active"] is False
    assert [s["stepId"] for s in body["data"]["steps"]] == ["mail"]
    assert cloud.api("GET", "/v1/workflows/onboarding")[2]["data"] == body["data"]
    partial = cloud.api("PUT", "/v1/workflows/onboarding", {"active": True})[2]["data"]
    assert (partial["name"], partial["active"], len(partial["steps"])) == ("Hello", True, 1)


def test_workflow_put_rejects_bad_steps_and_renames_naming_the_field(cloud: Cloud) -> None:
    cloud.api("POST", "/v1/workflows", WORKFLOW)
    assert_field_error(
        cloud.api("PUT", "/v1/workflows/onboarding", {"steps": [{"stepId": "x", "type": "fax"}]}),
        400,
        "steps.0.type",
    )
    assert_field_error(
        cloud.api("PUT", "/v1/workflows/onboarding", {"workflowId": "other"}), 400, "workflowId"
    )
    assert_field_error(cloud.api("PUT", "/v1/workflows/nope", {"name": "x"}), 404, "workflowId")


def test_workflow_delete_removes_it_and_its_trigger_id(cloud: Cloud) -> None:
    trigger_id = cloud.api("POST", "/v1/workflows", WORKFLOW)[2]["data"]["triggerId"]
    assert cloud.api("GET", "/v1/workflows/onboarding")[0] == 200  # cached in this container

    assert cloud.api("DELETE", "/v1/workflows/onboarding")[:3:2] == (200, {"data": True})

    assert_field_error(cloud.api("GET", "/v1/workflows/onboarding"), 404, "workflowId")
    assert_field_error(cloud.api("DELETE", "/v1/workflows/onboarding"), 404, "workflowId")
    with cloud.configured_as("ApiFunction"):
        pointer = cloud.dynamodb.get_item(
            TableName=_table(cloud),
            Key={k: {"S": v} for k, v in keys.workflow_by_trigger_id(DEVELOPMENT, trigger_id).items()},
        )
    assert "Item" not in pointer
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201


def test_another_environments_workflow_is_not_found(cloud: Cloud, staging: str) -> None:
    cloud.api("POST", "/v1/workflows", WORKFLOW)
    assert_field_error(cloud.api("GET", "/v1/workflows/onboarding", key=staging), 404, "workflowId")
    assert_field_error(
        cloud.api("PUT", "/v1/workflows/onboarding", {"name": "x"}, key=staging), 404, "workflowId"
    )
    assert_field_error(cloud.api("DELETE", "/v1/workflows/onboarding", key=staging), 404, "workflowId")
    assert cloud.api("GET", "/v1/workflows/onboarding")[2]["data"]["name"] == "Onboarding"


# --- subscribers -------------------------------------------------------------------------------

ADA = {
    "subscriberId": "ada",
    "email": "ada@example.com",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "phone": "+441234567890",
    "locale": "en-GB",
    "timezone": "Europe/London",
    "data": {"plan": "pro"},
    "channels": [{"providerId": "slack", "credentials": {"webhookUrl": "https://hooks.example/a"}}],
}


def test_subscriber_create_answers_the_full_shape_and_post_again_upserts(cloud: Cloud) -> None:
    status, _, body = cloud.api("POST", "/v1/subscribers", ADA)

    assert status == 201
    ada = body["data"]
    assert set(ada) == {
        "subscriberId",
        "email",
        "firstName",
        "lastName",
        "phone",
        "avatar",
        "locale",
        "timezone",
        "data",
        "channels",
        "preferences",
        "createdAt",
        "updatedAt",
    }
    assert ada["avatar"] is None
    assert ada["channels"] == [
        {"providerId": "slack", "credentials": {"webhookUrl": "https://hooks.example/a"}}
    ]
    assert ada["preferences"] == {"channels": {}, "workflows": {}}

    again = cloud.api("POST", "/v1/subscribers", {"subscriberId": "ada", "email": "ada@new.example"})
    assert again[0] == 201
    assert again[2]["data"]["email"] == "ada@new.example"
    assert again[2]["data"]["firstName"] == "Ada"
    assert again[2]["data"]["createdAt"] == ada["createdAt"]
    assert cloud.api("GET", "/v1/subscribers/ada")[2]["data"] == again[2]["data"]


def test_subscriber_validation_names_the_field(cloud: Cloud) -> None:
    assert_field_error(cloud.api("POST", "/v1/subscribers", {"email": "a@b.co"}), 400, "subscriberId")
    assert_field_error(
        cloud.api("POST", "/v1/subscribers", {"subscriberId": "a", "email": "nope"}), 400, "email"
    )
    assert_field_error(
        cloud.api("POST", "/v1/subscribers", {"subscriberId": "a", "channels": [{"credentials": {}}]}),
        400,
        "channels.0.providerId",
    )
    cloud.api("POST", "/v1/subscribers", {"subscriberId": "a"})
    assert_field_error(cloud.api("PUT", "/v1/subscribers/a", {"locale": "not a locale"}), 400, "locale")


def test_subscriber_put_updates_sent_fields_and_delete_removes_it(cloud: Cloud) -> None:
    cloud.api("POST", "/v1/subscribers", ADA)

    status, _, body = cloud.api("PUT", "/v1/subscribers/ada", {"firstName": "Augusta", "avatar": None})

    assert status == 200
    assert body["data"]["firstName"] == "Augusta"
    assert body["data"]["lastName"] == "Lovelace"
    assert body["data"]["updatedAt"] >= body["data"]["createdAt"]
    deleted = cloud.api("DELETE", "/v1/subscribers/ada")
    assert deleted[:3:2] == (200, {"data": {"acknowledged": True, "status": "deleted"}})
    assert_field_error(cloud.api("GET", "/v1/subscribers/ada"), 404, "subscriberId")
    assert_field_error(cloud.api("PUT", "/v1/subscribers/ada", {"firstName": "x"}), 404, "subscriberId")
    assert_field_error(cloud.api("DELETE", "/v1/subscribers/ada"), 404, "subscriberId")


def test_another_environments_subscriber_is_not_found(cloud: Cloud, staging: str) -> None:
    cloud.api("POST", "/v1/subscribers", ADA)
    for method, path, body in (
        ("GET", "/v1/subscribers/ada", None),
        ("PUT", "/v1/subscribers/ada", {"firstName": "x"}),
        ("PATCH", "/v1/subscribers/ada/preferences", {"channels": {"sms": False}}),
        ("PUT", "/v1/subscribers/ada/credentials", {"providerId": "fcm", "credentials": {}}),
        ("DELETE", "/v1/subscribers/ada", None),
    ):
        assert_field_error(cloud.api(method, path, body, key=staging), 404, "subscriberId")
    assert cloud.api("GET", "/v1/subscribers/ada")[2]["data"]["firstName"] == "Ada"
    assert cloud.api("GET", "/v1/subscribers", key=staging)[2] == {"data": [], "next": None}


def test_preferences_patch_merges_into_stored_preferences(cloud: Cloud) -> None:
    cloud.api("POST", "/v1/workflows", WORKFLOW)
    cloud.api("POST", "/v1/subscribers", ADA)

    cloud.api("PATCH", "/v1/subscribers/ada/preferences", {"channels": {"sms": False, "email": True}})
    status, _, body = cloud.api(
        "PATCH",
        "/v1/subscribers/ada/preferences",
        {"channels": {"email": False}, "workflows": {"onboarding": {"in_app": False}}},
    )

    assert status == 200
    assert body["data"] == {
        "channels": {"sms": False, "email": False},
        "workflows": {"onboarding": {"in_app": False}},
    }
    cloud.api("PATCH", "/v1/subscribers/ada/preferences", {"workflows": {"onboarding": {"email": True}}})
    stored = cloud.api("GET", "/v1/subscribers/ada")[2]["data"]
    assert stored["preferences"]["workflows"] == {"onboarding": {"in_app": False, "email": True}}
    assert stored["firstName"] == "Ada"
    assert_field_error(
        cloud.api("PATCH", "/v1/subscribers/ada/preferences", {"channels": {"fax": False}}),
        400,
        "channels.fax.[key]",
    )
    assert_field_error(
        cloud.api("PATCH", "/v1/subscribers/ada/preferences", {"workflows": {"nope": {"sms": False}}}),
        404,
        "workflows.nope",
    )
    assert_field_error(
        cloud.api("PATCH", "/v1/subscribers/bob/preferences", {"channels": {"sms": False}}),
        404,
        "subscriberId",
    )


def test_credentials_put_adds_or_replaces_one_provider_entry(cloud: Cloud) -> None:
    cloud.api("POST", "/v1/subscribers", ADA)

    cloud.api(
        "PUT",
        "/v1/subscribers/ada/credentials",
        {"providerId": "fcm", "credentials": {"deviceTokens": ["t1"]}},
    )
    status, _, body = cloud.api(
        "PUT",
        "/v1/subscribers/ada/credentials",
        {"providerId": "slack", "credentials": {"webhookUrl": "https://hooks.example/b"}},
    )

    assert status == 200
    assert body["data"]["channels"] == [
        {"providerId": "slack", "credentials": {"webhookUrl": "https://hooks.example/b"}},
        {"providerId": "fcm", "credentials": {"deviceTokens": ["t1"]}},
    ]
    assert_field_error(
        cloud.api(
            "PUT",
            "/v1/subscribers/ada/credentials",
            {"providerId": "fcm", "credentials": {"deviceTokens": "x"}},
        ),
        400,
        "credentials.deviceTokens",
    )


def test_bulk_create_answers_created_updated_and_failed_per_item(cloud: Cloud) -> None:
    cloud.api("POST", "/v1/subscribers", {"subscriberId": "ada", "firstName": "Ada"})

    status, _, body = cloud.api(
        "POST",
        "/v1/subscribers/bulk",
        {
            "subscribers": [
                {"subscriberId": "ada", "lastName": "Lovelace"},
                {"subscriberId": "bob", "email": "not-an-email"},
                {"subscriberId": "cy", "email": "cy@example.com"},
                "dee",
                {"email": "nobody@example.com"},
            ]
        },
    )

    assert status == 201
    data = body["data"]
    assert data["created"] == [{"subscriberId": "cy"}]
    assert data["updated"] == [{"subscriberId": "ada"}]
    assert [(f["index"], f["subscriberId"], list(f["errors"])) for f in data["failed"]] == [
        (1, "bob", ["subscribers.1.email"]),
        (3, None, ["subscribers.3"]),
        (4, None, ["subscribers.4.subscriberId"]),
    ]
    assert "subscribers.1.email" in data["failed"][0]["message"]
    ada = cloud.api("GET", "/v1/subscribers/ada")[2]["data"]
    assert (ada["firstName"], ada["lastName"]) == ("Ada", "Lovelace")
    assert cloud.api("GET", "/v1/subscribers/bob")[0] == 404


def test_bulk_create_refuses_more_than_500_naming_the_field(cloud: Cloud) -> None:
    many = [{"subscriberId": f"s{i}"} for i in range(501)]
    assert_field_error(cloud.api("POST", "/v1/subscribers/bulk", {"subscribers": many}), 400, "subscribers")
    status, _, body = cloud.api("POST", "/v1/subscribers/bulk", {"subscribers": many[:500]})
    assert status == 201
    assert len(body["data"]["created"]) == 500


def test_subscribers_list_pages_with_cursors_and_includes_those_created_by_triggers(
    cloud: Cloud, staging: str
) -> None:
    cloud.api(
        "POST", "/v1/subscribers/bulk", {"subscribers": [{"subscriberId": f"api-{i}"} for i in range(5)]}
    )
    with cloud.configured_as("WorkerFunction"):
        subscribers.resolve(
            DEVELOPMENT,
            [
                SubscriberProfile(subscriber_id="worker-1", first_name="W"),
                SubscriberProfile(subscriber_id="worker-2"),
            ],
            "2026-01-01T00:00:00.000Z",
        )
    cloud.api("POST", "/v1/subscribers", {"subscriberId": "staging-only"}, key=staging)

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        status, _, body = cloud.api(
            "GET", "/v1/subscribers", query={"limit": "3", **({"cursor": cursor} if cursor else {})}
        )
        assert status == 200
        seen += [s["subscriberId"] for s in body["data"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted([f"api-{i}" for i in range(5)] + ["worker-1", "worker-2"])
    worker = cloud.api("GET", "/v1/subscribers/worker-1")[2]["data"]
    assert worker["firstName"] == "W"
    assert worker["preferences"] == {"channels": {}, "workflows": {}}


def test_subscriber_cursors_cannot_reach_another_environment(cloud: Cloud, staging: str) -> None:
    cloud.api("POST", "/v1/subscribers/bulk", {"subscribers": [{"subscriberId": f"d{i}"} for i in range(4)]})
    cloud.api("POST", "/v1/subscribers", {"subscriberId": "s9"}, key=staging)
    cursor = cloud.api("GET", "/v1/subscribers", query={"limit": "2"})[2]["next"]
    assert cursor

    status, _, body = cloud.api("GET", "/v1/subscribers", key=staging, query={"cursor": cursor})

    assert status == 200
    assert [s["subscriberId"] for s in body["data"]] == ["s9"]
    assert_field_error(cloud.api("GET", "/v1/subscribers", query={"cursor": "garbage"}), 400, "cursor")
    tenant_cursor = _cursor_of_kind("tenants", "d1")
    assert_field_error(cloud.api("GET", "/v1/subscribers", query={"cursor": tenant_cursor}), 400, "cursor")
    assert_field_error(cloud.api("GET", "/v1/subscribers", query={"limit": "0"}), 400, "query.limit")


def test_resolve_indexes_subscribers_and_keeps_its_semantics(cloud: Cloud) -> None:
    cloud.api("POST", "/v1/subscribers", {**ADA, "subscriberId": "ada"})
    with cloud.configured_as("WorkerFunction"):
        stored = subscribers.resolve(
            DEVELOPMENT,
            [
                SubscriberProfile(subscriber_id="ada", first_name="Augusta"),
                SubscriberProfile(subscriber_id="new"),
            ],
            "2026-01-01T00:00:00.000Z",
        )
        page, _ = subscribers.page(DEVELOPMENT, 10)
    assert stored["ada"]["firstName"] == "Augusta"
    assert stored["ada"]["channels"] == ADA["channels"]
    assert stored["new"] == {
        "subscriberId": "new",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:00.000Z",
    }
    assert [s["subscriberId"] for s in page] == ["ada", "new"]


# --- tenants -----------------------------------------------------------------------------------


def test_tenant_lifecycle(cloud: Cloud) -> None:
    status, _, body = cloud.api(
        "POST", "/v1/tenants", {"identifier": "acme", "name": "Acme", "data": {"tier": 1}}
    )
    assert status == 201
    assert body["data"]["identifier"] == "acme"
    assert set(body["data"]) == {"identifier", "name", "data", "createdAt", "updatedAt"}
    assert_field_error(
        cloud.api("POST", "/v1/tenants", {"identifier": "acme", "name": "Again"}), 409, "identifier"
    )

    patched = cloud.api("PATCH", "/v1/tenants/acme", {"name": "Acme Inc"})[2]["data"]
    assert (patched["name"], patched["data"]) == ("Acme Inc", {"tier": 1})
    assert cloud.api("GET", "/v1/tenants/acme")[2]["data"] == patched

    renamed = cloud.api("PATCH", "/v1/tenants/acme", {"identifier": "acme-2", "data": {"tier": 2}})
    assert renamed[0] == 200
    assert renamed[2]["data"]["identifier"] == "acme-2"
    assert renamed[2]["data"]["createdAt"] == patched["createdAt"]
    assert cloud.api("GET", "/v1/tenants/acme")[0] == 404
    assert cloud.api("GET", "/v1/tenants/acme-2")[2]["data"]["data"] == {"tier": 2}

    deleted = cloud.api("DELETE", "/v1/tenants/acme-2")
    assert (deleted[0], deleted[2]) == (204, None)
    assert_field_error(cloud.api("GET", "/v1/tenants/acme-2"), 404, "identifier")
    assert_field_error(cloud.api("DELETE", "/v1/tenants/acme-2"), 404, "identifier")
    assert_field_error(cloud.api("PATCH", "/v1/tenants/acme-2", {"name": "x"}), 404, "identifier")


def test_tenant_validation_rename_conflict_and_other_environment(cloud: Cloud, staging: str) -> None:
    assert_field_error(cloud.api("POST", "/v1/tenants", {"identifier": "acme"}), 400, "name")
    assert_field_error(
        cloud.api("POST", "/v1/tenants", {"identifier": "a b", "name": "x"}), 400, "identifier"
    )
    cloud.api("POST", "/v1/tenants", {"identifier": "acme", "name": "Acme"})
    cloud.api("POST", "/v1/tenants", {"identifier": "globex", "name": "Globex"})
    assert_field_error(cloud.api("PATCH", "/v1/tenants/acme", {"identifier": "globex"}), 409, "identifier")
    assert_field_error(cloud.api("PATCH", "/v1/tenants/acme", {"data": []}), 400, "data")
    assert_field_error(cloud.api("GET", "/v1/tenants/acme", key=staging), 404, "identifier")
    assert_field_error(cloud.api("PATCH", "/v1/tenants/acme", {"name": "x"}, key=staging), 404, "identifier")
    assert_field_error(cloud.api("DELETE", "/v1/tenants/acme", key=staging), 404, "identifier")
    assert cloud.api("GET", "/v1/tenants", key=staging)[2] == {"data": [], "next": None}


def test_tenants_list_pages_and_store_functions_for_the_worker(cloud: Cloud) -> None:
    for i in range(5):
        cloud.api("POST", "/v1/tenants", {"identifier": f"t{i}", "name": f"T{i}"})
    first = cloud.api("GET", "/v1/tenants", query={"limit": "2"})[2]
    second = cloud.api("GET", "/v1/tenants", query={"limit": "2", "cursor": first["next"]})[2]
    third = cloud.api("GET", "/v1/tenants", query={"limit": "2", "cursor": second["next"]})[2]
    assert [t["identifier"] for t in first["data"] + second["data"] + third["data"]] == [
        f"t{i}" for i in range(5)
    ]
    assert third["next"] is None

    with cloud.configured_as("WorkerFunction"):
        updated = tenants.upsert(DEVELOPMENT, "t1", None, {"color": "red"})
        created = tenants.upsert(DEVELOPMENT, "t9", "Nine", None)
        found = tenants.get_many(DEVELOPMENT, ["t1", "t9", "missing"])
        assert tenants.get(DEVELOPMENT, "missing") is None
    assert (updated["name"], updated["data"]) == ("T1", {"color": "red"})
    assert (created["name"], created["data"]) == ("Nine", {})
    assert set(found) == {"t1", "t9"}
    assert cloud.api("GET", "/v1/tenants/t9")[2]["data"]["name"] == "Nine"


# --- topics ------------------------------------------------------------------------------------


def test_topic_create_get_and_validation(cloud: Cloud, staging: str) -> None:
    status, _, body = cloud.api("POST", "/v1/topics", {"key": "beta-users", "name": "Beta users"})
    assert status == 201
    assert (body["data"]["key"], body["data"]["name"]) == ("beta-users", "Beta users")
    assert cloud.api("GET", "/v1/topics/beta-users")[2]["data"]["name"] == "Beta users"
    assert_field_error(cloud.api("POST", "/v1/topics", {"key": "beta-users", "name": "x"}), 409, "key")
    assert_field_error(cloud.api("POST", "/v1/topics", {"key": "has space", "name": "x"}), 400, "key")
    assert_field_error(cloud.api("POST", "/v1/topics", {"key": "k"}), 400, "name")
    assert_field_error(cloud.api("GET", "/v1/topics/nope"), 404, "key")
    assert_field_error(cloud.api("GET", "/v1/topics/beta-users", key=staging), 404, "key")
    assert_field_error(
        cloud.api("POST", "/v1/topics/beta-users/subscribers", {"subscribers": ["a"]}, key=staging),
        404,
        "key",
    )
    assert cloud.api("GET", "/v1/topics")[2]["data"][0]["key"] == "beta-users"


def test_topic_members_added_reports_unknown_subscribers_and_removal_both_ways(
    cloud: Cloud, staging: str
) -> None:
    cloud.api("POST", "/v1/topics", {"key": "news", "name": "News"})
    cloud.api(
        "POST", "/v1/subscribers/bulk", {"subscribers": [{"subscriberId": s} for s in ("a", "b", "c", "d")]}
    )
    cloud.api("POST", "/v1/subscribers", {"subscriberId": "elsewhere"}, key=staging)

    status, _, body = cloud.api(
        "POST",
        "/v1/topics/news/subscribers",
        {"subscribers": ["a", "b", "ghost", "c", "d", "a", "elsewhere"]},
    )

    assert status == 200
    assert body["data"] == {"succeeded": ["a", "b", "c", "d"], "failed": {"notFound": ["ghost", "elsewhere"]}}
    assert cloud.api("DELETE", "/v1/topics/news/subscribers", {"subscribers": ["a"]})[0] == 204
    assert cloud.api("POST", "/v1/topics/news/subscribers/removal", {"subscribers": ["b", "zz"]})[0] == 204
    assert cloud.api("GET", "/v1/topics/news/subscribers")[2] == {"data": ["c", "d"], "next": None}
    assert_field_error(
        cloud.api("POST", "/v1/topics/news/subscribers", {"subscribers": []}), 400, "subscribers"
    )
    assert_field_error(cloud.api("DELETE", "/v1/topics/nope/subscribers", {"subscribers": ["c"]}), 404, "key")

    cloud.api("DELETE", "/v1/subscribers/c")
    assert cloud.api("GET", "/v1/topics/news/subscribers")[2]["data"] == ["d"]


def test_members_page_walks_a_topic_page_by_page(cloud: Cloud, staging: str) -> None:
    members = [f"m{i:03d}" for i in range(23)]
    cloud.api("POST", "/v1/topics", {"key": "big", "name": "Big"})
    cloud.api("POST", "/v1/topics", {"key": "big", "name": "Big"}, key=staging)
    cloud.api("POST", "/v1/subscribers/bulk", {"subscribers": [{"subscriberId": m} for m in members]})
    cloud.api("POST", "/v1/topics/big/subscribers", {"subscribers": members})

    with cloud.configured_as("WorkerFunction"):
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            page, cursor = topics.members_page(DEVELOPMENT, "big", 10, cursor)
            seen += page
            pages += 1
            if cursor is None:
                break
        first, dev_cursor = topics.members_page(DEVELOPMENT, "big", 5)
        assert dev_cursor is not None
        assert topics.members_page("staging", "big", 5, dev_cursor) == ([], None)
        with pytest.raises(topics.BadCursorError):
            topics.members_page(DEVELOPMENT, "big", 5, _cursor_of_kind("subscribers", "m001"))
    assert pages == 3
    assert seen == members
    assert first == members[:5]

    api_page = cloud.api("GET", "/v1/topics/big/subscribers", query={"limit": "20"})[2]
    assert api_page["data"] == members[:20]
    rest = cloud.api("GET", "/v1/topics/big/subscribers", query={"limit": "20", "cursor": api_page["next"]})[
        2
    ]
    assert rest == {"data": members[20:], "next": None}


# --- integrations ------------------------------------------------------------------------------


def test_integrations_one_active_per_channel_and_secrets_masked(cloud: Cloud, staging: str) -> None:
    status, _, body = cloud.api(
        "POST",
        "/v1/integrations",
        {
            "providerId": "ses",
            "channel": "email",
            "identifier": "ses-main",
            "credentials": {
                "from": "no-reply@example.com",
                "senderName": "eu-west-1",
                "configurationSetName": "abcdefgh12345678",
            },
        },
    )
    assert status == 201
    assert body["data"]["credentials"] == {
        "from": "no-reply@example.com",
        "senderName": "eu-west-1",
        "configurationSetName": "****5678",
    }
    assert body["data"]["active"] is True
    cloud.api(
        "POST",
        "/v1/integrations",
        {
            "providerId": "ses",
            "channel": "email",
            "identifier": "sg",
            "credentials": {"configurationSetName": "short"},
        },
    )
    cloud.api("POST", "/v1/integrations", {"providerId": "sns", "channel": "sms", "active": False})

    listed = {i["identifier"]: i for i in cloud.api("GET", "/v1/integrations")[2]["data"]}

    assert listed["ses-main"]["active"] is False
    assert listed["sg"]["active"] is True
    assert listed["sg"]["credentials"] == {"configurationSetName": "****"}
    assert "abcdefgh" not in str(listed)
    sms = next(i for i in listed.values() if i["channel"] == "sms")
    assert sms["active"] is False and sms["identifier"].startswith("sns-")
    assert [i["identifier"] for i in cloud.api("GET", "/v1/integrations/active")[2]["data"]] == ["sg"]
    with cloud.configured_as("WorkerFunction"):
        email = integrations.active_for(DEVELOPMENT, "email")
        assert integrations.active_for(DEVELOPMENT, "sms") is None
        assert set(integrations.all_active(DEVELOPMENT)) == {"email"}
        assert integrations.all_active("staging") == {}
    assert email is not None and email["credentials"] == {"configurationSetName": "short"}
    assert cloud.api("GET", "/v1/integrations", key=staging)[2] == {"data": []}


def test_integration_validation_names_the_field(cloud: Cloud) -> None:
    assert_field_error(
        cloud.api("POST", "/v1/integrations", {"providerId": "x", "channel": "fax", "credentials": {}}),
        400,
        "channel",
    )
    assert_field_error(cloud.api("POST", "/v1/integrations", {"channel": "sms"}), 400, "providerId")
    body = {"providerId": "sns", "channel": "sms", "identifier": "sns-1"}
    assert cloud.api("POST", "/v1/integrations", body)[0] == 201
    assert_field_error(cloud.api("POST", "/v1/integrations", body), 409, "identifier")


# --- helpers -----------------------------------------------------------------------------------


def _table(cloud: Cloud) -> str:
    from clarion.config import settings

    return settings().table_name


def _cursor_of_kind(kind: str, after: str) -> str:
    from clarion.store import paging

    return paging.encode_cursor(kind, after)


def test_ids_in_paths_arrive_percent_encoded_and_are_decoded(cloud: Cloud) -> None:
    cloud.api("POST", "/v1/subscribers", {"subscriberId": "ada+news@example.com", "firstName": "Ada"})
    cloud.api("POST", "/v1/tenants", {"identifier": "acme@eu", "name": "Acme"})

    subscriber = cloud.api("GET", "/v1/subscribers/ada%2Bnews%40example.com")
    tenant = cloud.api("GET", "/v1/tenants/acme%40eu")

    assert subscriber[2]["data"]["subscriberId"] == "ada+news@example.com"
    assert tenant[2]["data"]["identifier"] == "acme@eu"

"""SuprSend beyond `/trigger/`'s basics: identities as a string or an array (and push objects,
Web Push, inbox), the `/event/` route (profile edits and tracked events that start workflows),
cancel by `cancellation_key` on `POST /v1/workflow_run/cancel/`, and SuprSend's own texts."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.conftest import Cloud

WEB_PUSH = {"endpoint": "https://push.example.com/sub/1", "keys": {"p256dh": "k", "auth": "a"}}


def post(cloud: Cloud, path: str, body: Any, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    return cloud.api("POST", path, raw_body=json.dumps(body), **kwargs)


def subscriber(cloud: Cloud, subscriber_id: str) -> dict[str, Any]:
    status, _, body = cloud.api("GET", f"/v1/subscribers/{subscriber_id}")
    assert status == 200, body
    return dict(body["data"])


def channels(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["providerId"]: c["credentials"] for c in view["channels"]}


def profile_save(distinct_id: str, *operations: dict[str, Any]) -> dict[str, Any]:
    """What @suprsend/node-sdk's `user.get_instance(id)` ... `.save()` posts (src/subscriber.js)."""
    return {
        "$schema": "2",
        "$insert_id": "0b7c9f5e-7a42-4d7e-9a55-3c1f0b6c2d11",
        "$time": 1_767_225_600_000,
        "env": "development",
        "distinct_id": distinct_id,
        "$user_operations": list(operations),
        "properties": {"$ss_sdk_version": "@suprsend/node-sdk/1.15.1"},
    }


def test_trigger_identities_may_be_strings_objects_or_arrays(cloud: Cloud) -> None:
    status, _, body = post(
        cloud,
        "/trigger/",
        {
            "workflow": "welcome",
            "recipients": [
                {
                    "distinct_id": "str-ada",
                    "$email": "ada@example.com",
                    "$sms": "+15555550100",
                    "$androidpush": {"token": "and-1", "provider": "fcm"},
                    "$iospush": "ios-1",
                    "$webpush": WEB_PUSH,
                    "$inbox": "inbox-ada",
                    "$slack": {"incoming_webhook": {"url": "https://hooks.slack.com/services/T/B/X"}},
                    "$ms_teams": {
                        "tenant_id": "t",
                        "service_url": "https://smba.trafficmanager.net/x",
                        "user_id": "u",
                    },
                    "$preferred_language": "fr",
                }
            ],
            "data": {},
        },
    )
    assert status == 202, body
    cloud.drain()
    ada = subscriber(cloud, "str-ada")
    assert (ada["email"], ada["phone"], ada["locale"]) == ("ada@example.com", "+15555550100", "fr")
    assert channels(ada) == {
        "inbox": {"inboxIds": ["inbox-ada"]},
        "fcm": {"deviceTokens": ["and-1"]},
        "apns": {"deviceTokens": ["ios-1"]},
        "webpush": {"subscriptions": [WEB_PUSH]},
        "slack": {"webhookUrl": "https://hooks.slack.com/services/T/B/X"},
        "msteams": {"tenantId": "t", "serviceUrl": "https://smba.trafficmanager.net/x", "userId": "u"},
    }
    assert "$inbox" not in json.dumps(ada) and "$webpush" not in json.dumps(ada)


def test_trigger_identity_errors_name_the_field(cloud: Cloud) -> None:
    _, _, body = post(
        cloud,
        "/trigger/",
        [
            {"workflow": "welcome", "recipients": [{"distinct_id": "x", "$email": ""}], "data": {}},
            {
                "workflow": "welcome",
                "recipients": [{"distinct_id": "x", "$androidpush": {"token": "t", "provider": "apns"}}],
                "data": {},
            },
            {
                "workflow": "welcome",
                "recipients": [{"distinct_id": "x", "$email": ["a@x.io"] * 11}],
                "data": {},
            },
        ],
    )
    messages = [r["error"]["message"] for r in body["records"]]
    assert "recipients.0" in messages[0] and "$email" in messages[0]
    assert "$androidpush" in messages[1] and "provider" in messages[1]
    assert "$email" in messages[2] and "10" in messages[2]


def test_unknown_workflow_says_workflow_not_found(cloud: Cloud) -> None:
    _, _, bulk = post(cloud, "/trigger/", [{"workflow": "nope", "recipients": ["a"], "data": {}}])
    assert bulk["records"][0]["error"] == {"message": "workflow not found", "type": "not_found"}
    status, _, single = post(cloud, "/trigger/", {"workflow": "nope", "recipients": ["a"], "data": {}})
    assert status == 404
    assert single["message"] == "workflow 'nope' not found"
    assert single["error"] == {"message": "workflow not found", "type": "not_found"}


def test_empty_bulk_is_a_400_in_suprsends_shape(cloud: Cloud) -> None:
    for path in ("/trigger/", "/event/"):
        status, _, body = post(cloud, path, [])
        assert status == 400
        assert body["status"] == "fail"
        assert body["error"]["type"] == "bad_request"
        assert "non-empty array" in body["message"]


def test_profile_save_sets_appends_removes_and_unsets(cloud: Cloud) -> None:
    first = profile_save(
        "pro-1",
        {"$set": {"name": "Ada", "plan": "free", "$timezone": "Europe/Paris"}},
        {"$set_once": {"signup": "2026-01-01"}},
        {"$append": {"$email": "ada@example.com"}},
        {"$append": {"$androidpush": "tok-a", "$id_provider": "fcm"}},
        {"$append": {"$androidpush": "tok-b", "$id_provider": "fcm"}},
        {"$append": {"$webpush": WEB_PUSH, "$id_provider": "vapid"}},
        {"$append": {"$inbox": "in-1"}},
        {"$append": {"tags": "a"}},
        {"$add": {"logins": 2}},
    )
    status, _, body = post(cloud, "/event/", first)
    assert (status, body["status"]) == (202, "success"), body
    view = subscriber(cloud, "pro-1")
    assert view["email"] == "ada@example.com" and view["timezone"] == "Europe/Paris"
    assert view["data"] == {"name": "Ada", "plan": "free", "signup": "2026-01-01", "tags": ["a"], "logins": 2}
    assert channels(view) == {
        "fcm": {"deviceTokens": ["tok-a", "tok-b"]},
        "webpush": {"subscriptions": [WEB_PUSH]},
        "inbox": {"inboxIds": ["in-1"]},
    }
    second = profile_save(
        "pro-1",
        {"$set": {"plan": "pro"}},
        {"$set_once": {"signup": "later"}},
        {"$remove": {"$androidpush": "tok-a", "$id_provider": "fcm"}},
        {"$remove": {"tags": "a"}},
        {"$add": {"logins": 1}},
        {"$unset": ["name", "$webpush", "$inbox", "$email"]},
    )
    assert post(cloud, "/event/", second)[0] == 202
    view = subscriber(cloud, "pro-1")
    assert view["email"] is None
    assert view["data"] == {"plan": "pro", "signup": "2026-01-01", "tags": [], "logins": 3}
    assert channels(view) == {"fcm": {"deviceTokens": ["tok-b"]}}


def test_profile_refusals_name_the_field(cloud: Cloud) -> None:
    status, _, body = post(cloud, "/event/", profile_save("bad-1", {"$set": {"$email": "a@b.c"}}))
    assert status == 400 and body["status"] == "fail"
    assert body["message"].startswith("$user_operations.0.$set.$email:")
    _, _, body = post(
        cloud,
        "/event/",
        [
            profile_save("bad-2", {"$set": {"$secret": 1}}),
            profile_save("bad-3", {"$frobnicate": {}}),
            profile_save("bad-4", {"$add": {"n": "x"}}),
            profile_save("ok-5", {"$set": {"n": 1}}),
        ],
    )
    records = body["records"]
    assert [r["status_code"] for r in records] == [400, 400, 400, 202]
    assert "$user_operations.0.$set.$secret" in records[0]["error"]["message"]
    assert "$user_operations.0.$frobnicate" in records[1]["error"]["message"]
    assert "$user_operations.0.$add.n" in records[2]["error"]["message"]
    assert cloud.api("GET", "/v1/subscribers/bad-2")[0] == 404
    assert subscriber(cloud, "ok-5")["data"] == {"n": 1}


def test_tracked_event_starts_the_workflows_that_declare_it(cloud: Cloud) -> None:
    for workflow_id in ("paid-receipt", "paid-thanks"):
        created = cloud.api(
            "POST",
            "/v1/workflows",
            {
                "workflowId": workflow_id,
                "triggerEvent": "order_paid",
                "steps": [
                    {
                        "stepId": "inbox",
                        "type": "in_app",
                        "content": {"body": f"{workflow_id} {{{{ payload.total }}}}"},
                    }
                ],
            },
        )
        assert created[0] == 201 and created[2]["data"]["triggerEvent"] == "order_paid"
    event = {
        "$insert_id": "1f6e7c1a-0000-4000-8000-000000000001",
        "$time": 1_767_225_600_000,
        "event": "order_paid",
        "env": "development",
        "distinct_id": "buyer-1",
        "properties": {"total": 42, "$ss_sdk_version": "@suprsend/node-sdk/1.15.1"},
    }
    status, headers, body = post(cloud, "/event/", event)
    assert status == 202, body
    assert body["message_id"] == event["$insert_id"]
    assert sorted(w["workflow"] for w in body["workflows"]) == ["paid-receipt", "paid-thanks"]
    cloud.drain()
    feed = cloud.api("GET", "/v1/subscribers/buyer-1/notifications/feed")[2]["data"]
    assert sorted(m["content"]["body"] for m in feed) == ["paid-receipt 42", "paid-thanks 42"]
    assert cloud.api("GET", headers["Location"])[2]["data"]["counts"] == {"completed": 2}
    status, _, body = post(cloud, "/event/", {**event, "event": "nobody_listens"})
    assert (status, body["workflows"]) == (202, [])


def cancel_workflow(cloud: Cloud) -> None:
    cloud.api(
        "POST",
        "/v1/workflows",
        {
            "workflowId": "reminder",
            "steps": [
                {"stepId": "wait", "type": "delay", "content": {"amount": 3600, "unit": "seconds"}},
                {"stepId": "nudge", "type": "in_app", "content": {"body": "come back"}},
            ],
        },
    )


def test_cancel_by_cancellation_key_cancels_only_that_keys_pending_runs(cloud: Cloud) -> None:
    cancel_workflow(cloud)
    keyed = {"workflow": "reminder", "recipients": ["c-1", "c-2"], "data": {}, "cancellation_key": "cart-9"}
    other = {"workflow": "reminder", "recipients": ["c-3"], "data": {}, "cancellation_key": "cart-10"}
    _, _, body = post(cloud, "/trigger/", [keyed, keyed | {"recipients": ["c-4"]}, other])
    ids = [r["message_id"] for r in body["records"]]
    cloud.drain()
    status, _, answer = post(cloud, "/v1/workflow_run/cancel/", {"cancellation_key": "cart-9"})
    assert status == 200
    assert sorted(answer["execution_ids"]) == sorted(ids[:2])
    assert post(cloud, "/v1/workflow_run/cancel/", {"cancellation_key": "cart-9"})[2] == {"execution_ids": []}
    steps = {
        r["subscriberId"]: {s["stepId"]: s["status"] for s in r["steps"]}
        for transaction in ids
        for r in cloud.api("GET", f"/v1/events/trigger/{transaction}")[2]["data"]["recipients"]
    }
    assert steps == {
        "c-1": {"wait": "cancelled"},
        "c-2": {"wait": "cancelled"},
        "c-4": {"wait": "cancelled"},
        "c-3": {"wait": "pending"},
    }
    narrowed = post(cloud, "/v1/workflow_run/cancel/", {"cancellation_key": "cart-10", "recipients": ["c-1"]})
    assert narrowed[2] == {"execution_ids": []}
    by_id = post(cloud, "/v1/workflow_run/cancel/", {"execution_id": ids[2], "workflow_slug": "reminder"})
    assert by_id[2] == {"execution_ids": [ids[2]]}


def test_cancel_refusals_name_the_field(cloud: Cloud) -> None:
    for body, field in (
        ({}, "body"),
        ({"tenant_id": "acme"}, "tenant_id"),
        ({"idempotency_key": "k"}, "idempotency_key"),
        ({"cancellation_key": "k", "colour": "red"}, "colour"),
        ({"cancellation_key": ""}, "cancellation_key"),
    ):
        status, _, answer = post(cloud, "/v1/workflow_run/cancel/", body)
        assert status == 400, (body, answer)
        assert answer["status"] == "fail"
        assert answer["message"].startswith(f"{field}:"), answer

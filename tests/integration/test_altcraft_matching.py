"""Altcraft's profile matching through the real ApiFunction and WorkerFunction on moto: every path
that writes a subscriber indexes it, a changed value stops matching, environments never cross,
and matching reads are batched lookups, never a scan."""

from __future__ import annotations

from typing import Any

from clarion.store import environments

from tests.integration.conftest import Cloud
from tests.integration.test_suprsend_profiles import profile_save

START_BATCH = "/api/v1.1/campaigns/triggers/start_batch"
START_BATCH_TASK = "/api/v1.1/campaigns/triggers/start_batch_task"


def welcome_trigger_id(cloud: Cloud) -> int:
    return int(cloud.api("GET", "/v1/workflows/welcome")[2]["data"]["triggerId"])


def start_batch(cloud: Cloud, data: list[dict[str, Any]], **fields: Any) -> list[Any]:
    from clarion_cli.seed import DEFAULT_API_KEY

    trigger_id = fields.pop("trigger_id", None) or welcome_trigger_id(cloud)
    body = {"token": DEFAULT_API_KEY, "trigger_id": trigger_id, "data": data, **fields}
    status, _, answer = cloud.api("POST", START_BATCH, body, key=None)
    assert status == 200, answer
    assert answer["error"] == 0, answer
    return list(answer["result"])


def test_every_subscriber_write_path_indexes_it(cloud: Cloud) -> None:
    assert cloud.api("PATCH", "/v1/environment", {"matchFields": ["Custom_ID"]})[0] == 200
    # the API: one subscriber, a bulk, an update
    assert (
        cloud.api("POST", "/v1/subscribers", {"subscriberId": "api-1", "email": "api@example.com"})[0] == 201
    )
    bulk = {"subscribers": [{"subscriberId": "bulk-1", "phone": "+1 555 0100", "data": {"Custom_ID": "B1"}}]}
    assert cloud.api("POST", "/v1/subscribers/bulk", bulk)[0] in (200, 201)
    assert cloud.api("PUT", "/v1/subscribers/api-1", {"data": {"Custom_ID": "A1"}})[0] == 200
    # the worker: a trigger's inline profile
    inline = {"name": "welcome", "to": {"subscriberId": "inline-1", "email": "Inline@Example.com"}}
    assert cloud.api("POST", "/v1/events/trigger", inline)[0] == 201
    cloud.drain()
    # SuprSend's profile edits
    saved = profile_save("ss-1", {"$append": {"$email": "ss@example.com"}}, {"$set": {"Custom_ID": "S1"}})
    assert cloud.api("POST", "/event/", saved, raw_body=None)[0] == 202

    by_email = start_batch(
        cloud, [{"email": e} for e in ("api@example.com", "inline@example.com", "ss@example.com")]
    )
    assert by_email == [{"profile_id": "api-1"}, {"profile_id": "inline-1"}, {"profile_id": "ss-1"}]
    assert start_batch(cloud, [{"phone": "+15550100"}], matching="phone") == [{"profile_id": "bulk-1"}]
    custom = start_batch(
        cloud,
        [{"field_value": v} for v in ("A1", "B1", "S1")],
        matching="custom",
        field_name="Custom_ID",
    )
    assert custom == [{"profile_id": "api-1"}, {"profile_id": "bulk-1"}, {"profile_id": "ss-1"}]


def test_a_changed_value_no_longer_matches_and_the_new_one_does(cloud: Cloud) -> None:
    cloud.api("POST", "/v1/subscribers", {"subscriberId": "mover", "email": "old@example.com"})
    cloud.api("PUT", "/v1/subscribers/mover", {"email": "new@example.com"})

    old, new = start_batch(cloud, [{"email": "old@example.com"}, {"email": "new@example.com"}])

    assert old["error"] == 404 and old["error_text"] == "Profile not found"
    assert new == {"profile_id": "mover"}
    cloud.api("DELETE", "/v1/subscribers/mover")
    assert start_batch(cloud, [{"email": "new@example.com"}])[0]["error"] == 404


def test_another_environments_subscriber_is_never_matched(cloud: Cloud) -> None:
    other_key = environments.new_api_key()
    with cloud.configured_as("ApiFunction"):
        environments.create_environment("other-env", other_key)
    cloud.api(
        "POST", "/v1/subscribers", {"subscriberId": "theirs", "email": "shared@example.com"}, key=other_key
    )

    assert start_batch(cloud, [{"email": "shared@example.com"}])[0]["error"] == 404
    cloud.api("POST", "/v1/subscribers", {"subscriberId": "ours", "email": "shared@example.com"})
    assert start_batch(cloud, [{"email": "shared@example.com"}]) == [{"profile_id": "ours"}]


def test_matching_is_lookups_never_a_scan_or_query(cloud: Cloud) -> None:
    """The matching reads of a request are GetItem / BatchGetItem only (the index), whatever the field."""
    cloud.api("PATCH", "/v1/environment", {"matchFields": ["Custom_ID"]})
    cloud.api("POST", "/v1/subscribers", {"subscriberId": "c-1", "data": {"Custom_ID": "X"}})
    calls: list[str] = []

    def record(event_name: str, **_: Any) -> None:
        calls.append(event_name.rsplit(".", 1)[-1])

    from clarion import aws

    trigger_id = welcome_trigger_id(cloud)
    aws.dynamodb().meta.events.register("before-call.dynamodb", record)
    start_batch(
        cloud,
        [{"field_value": "X"}, {"field_value": "Y"}],
        matching="custom",
        field_name="Custom_ID",
        trigger_id=trigger_id,
    )
    assert "Scan" not in calls and "Query" not in calls, calls
    assert calls.count("BatchGetItem") == 2, calls


def test_start_batch_task_matches_in_the_worker_and_reports_the_unmatched(cloud: Cloud) -> None:
    from clarion_cli.seed import DEFAULT_API_KEY

    cloud.api("POST", "/v1/subscribers", {"subscriberId": "t-1", "email": "t1@example.com"})
    body = {
        "token": DEFAULT_API_KEY,
        "id": welcome_trigger_id(cloud),
        "data": [{"email": "t1@example.com"}, {"email": "later@example.com"}],
    }
    status, headers, answer = cloud.api("POST", START_BATCH_TASK, body, key=None)
    assert status == 200 and answer["error"] == 0, answer
    task_id = answer["result"]["task_id"]
    assert headers["Location"] == f"/v1/events/trigger/bulk/{task_id}"
    # matched when the worker runs, not when the request was answered
    cloud.api("POST", "/v1/subscribers", {"subscriberId": "t-2", "email": "later@example.com"})
    cloud.drain()
    view = cloud.api("GET", f"/v1/events/trigger/bulk/{task_id}")[2]["data"]
    assert view["status"] == "completed" and view["counts"] == {"completed": 2}, view

    status, _, answer = cloud.api(
        "POST", START_BATCH_TASK, {**body, "data": [{"email": "nobody@example.com"}]}, key=None
    )
    cloud.drain()
    records = cloud.api("GET", f"/v1/events/trigger/bulk/{answer['result']['task_id']}/records")[2]["data"]
    assert records[0]["status"] == "failed" and "nobody@example.com" in records[0]["error"], records

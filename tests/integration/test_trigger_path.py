"""The minimal end-to-end path, in-process: API -> TriggerQueue -> worker -> ResultsQueue -> results."""

from __future__ import annotations

import json

from clarion.store import environments

from tests.integration.conftest import Cloud

WORKFLOW = {
    "workflowId": "order-shipped",
    "name": "Order shipped",
    "steps": [
        {
            "stepId": "inbox",
            "type": "in_app",
            "content": {"body": "Order {{ payload.order }} is on its way, {{ subscriber.firstName }}"},
        }
    ],
}


def test_bulk_with_one_in_app_step_reaches_feed_and_status(cloud: Cloud) -> None:
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    status, headers, body = cloud.api(
        "POST",
        "/v1/events/trigger/bulk",
        {
            "events": [
                {
                    "name": "order-shipped",
                    "to": {"subscriberId": "ada", "firstName": "Ada"},
                    "payload": {"order": "A-1"},
                },
                {"name": "order-shipped", "to": ["bob", "bob"], "payload": {"order": "B-2"}},
            ]
        },
    )
    assert status == 201
    assert [item["status"] for item in body["data"]] == ["processed", "processed"]
    bulk_path = headers["Location"]

    assert cloud.api("GET", bulk_path)[2]["data"]["status"] == "queued"
    cloud.drain()

    view = cloud.api("GET", bulk_path)[2]["data"]
    assert view["status"] == "completed"
    assert view["counts"] == {"completed": 2}
    assert view["completedAt"] is not None
    feed = cloud.api("GET", "/v1/subscribers/ada/notifications/feed")[2]["data"]
    assert [m["content"]["body"] for m in feed] == ["Order A-1 is on its way, Ada"]
    assert len(cloud.api("GET", "/v1/subscribers/bob/notifications/feed")[2]["data"]) == 1


def test_bulk_with_unknown_workflow_and_bad_record_reports_them_and_keeps_others(cloud: Cloud) -> None:
    status, headers, body = cloud.api(
        "POST",
        "/v1/events/trigger/bulk",
        {
            "events": [
                {"name": "welcome", "to": "ada"},
                {"name": "no-such-workflow", "to": "ada", "transactionId": "tx-unknown"},
                {"to": "ada"},
                {"name": "welcome", "to": []},
            ]
        },
    )
    assert status == 201
    items = body["data"]
    assert [i["status"] for i in items] == ["processed", "error", "error", "invalid_recipients"]
    assert items[1]["transactionId"] == "tx-unknown"
    assert items[1]["error"] == ["workflow_not_found"]  # Novu's text; Clarion's in the records
    records = {r["index"]: r for r in cloud.api("GET", headers["Location"] + "/records")[2]["data"]}
    assert records[1]["error"] == "workflow 'no-such-workflow' is not defined"
    assert "name" in items[2]["error"][0]
    assert "to" in items[3]["error"][0]
    assert all(i["transactionId"] for i in items)
    cloud.drain()
    view = cloud.api("GET", headers["Location"])[2]["data"]
    assert view["status"] == "partially_failed"
    assert view["counts"] == {"completed": 1, "error": 2, "invalid_recipients": 1}
    rows = cloud.api("GET", headers["Location"] + "/records", query={"limit": "2"})[2]
    assert [r["index"] for r in rows["data"]] == [0, 1]
    rest = cloud.api("GET", headers["Location"] + "/records", query={"limit": "2", "cursor": rows["next"]})[2]
    assert [r["index"] for r in rest["data"]] == [2, 3]


def test_redelivered_worker_batch_sends_nothing_twice_and_counts_once(cloud: Cloud) -> None:
    _, headers, _ = cloud.api(
        "POST",
        "/v1/events/trigger/bulk",
        {"events": [{"name": "welcome", "to": f"user-{i}"} for i in range(5)]},
    )
    messages = cloud.receive("TriggerQueue")
    event = cloud.sqs_event(messages)
    for _ in range(3):  # SQS delivers at least once: the same batch, three times
        assert cloud.invoke("WorkerFunction", event) == {"batchItemFailures": []}
    for m in messages:
        cloud.sqs.delete_message(QueueUrl=cloud.queue_url("TriggerQueue"), ReceiptHandle=m["ReceiptHandle"])
    cloud.drain()
    for i in range(5):
        assert len(cloud.api("GET", f"/v1/subscribers/user-{i}/notifications/feed")[2]["data"]) == 1
    view = cloud.api("GET", headers["Location"])[2]["data"]
    assert view["counts"] == {"completed": 5}
    assert view["status"] == "completed"


def test_unparseable_record_is_an_item_failure_and_neighbours_run(cloud: Cloud) -> None:
    cloud.api("POST", "/v1/events/trigger/bulk", {"events": [{"name": "welcome", "to": "ada"}]})
    cloud.sqs.send_message(
        QueueUrl=cloud.queue_url("TriggerQueue"), MessageBody='{"not": "a trigger record"}'
    )
    messages = cloud.receive("TriggerQueue")
    assert len(messages) == 2
    answer = cloud.invoke("WorkerFunction", cloud.sqs_event(messages))
    poison = next(m for m in messages if "not" in json.loads(m["Body"]))
    assert answer == {"batchItemFailures": [{"itemIdentifier": poison["MessageId"]}]}
    assert len(cloud.api("GET", "/v1/subscribers/ada/notifications/feed")[2]["data"]) == 1


def test_requests_without_a_valid_key_are_refused(cloud: Cloud) -> None:
    assert cloud.api("GET", "/v1/workflows", key=None)[0] == 401
    status, _, body = cloud.api("GET", "/v1/workflows", key="wrong")
    assert status == 401
    assert set(body) >= {"statusCode", "timestamp", "path", "message"}
    assert cloud.api("GET", "/v1/health", key=None)[0] == 200


def test_another_environments_bulk_is_not_found(cloud: Cloud) -> None:
    _, headers, _ = cloud.api(
        "POST", "/v1/events/trigger/bulk", {"events": [{"name": "welcome", "to": "ada"}]}
    )
    with cloud.configured_as("ApiFunction"):
        environments.create_environment("staging", "staging-key")
    assert cloud.api("GET", headers["Location"], key="staging-key")[0] == 404
    assert cloud.api("GET", headers["Location"])[0] == 200


def test_whole_request_refusals(cloud: Cloud) -> None:
    too_many = {"events": [{"name": "welcome", "to": "ada"}] * 101}
    assert cloud.api("POST", "/v1/events/trigger/bulk", too_many)[0] == 422
    status, _, body = cloud.api("POST", "/v1/events/trigger/bulk", raw_body="{not json")
    assert status == 400
    assert body["statusCode"] == 400
    assert cloud.api("POST", "/v1/events/trigger/bulk", {"nothing": []})[0] == 400
    big = {
        "events": [
            {"name": "welcome", "to": "ada"},
            {"name": "welcome", "to": "ada", "payload": {"x": "y" * 600_000}},
        ]
    }
    status, _, body = cloud.api("POST", "/v1/events/trigger/bulk", big)
    assert status == 413
    assert "events[1]" in body["message"]
    assert cloud.api("GET", "/v1/events/trigger/bulk/nope/records", query={"cursor": "!!"})[0] == 404


def test_single_trigger_answers_like_novu(cloud: Cloud) -> None:
    status, _, body = cloud.api("POST", "/v1/events/trigger", {"name": "welcome", "to": "ada"})
    assert status == 201
    assert body["data"]["status"] == "processed"
    assert cloud.api("POST", "/v1/events/trigger", {"name": "missing", "to": "ada"})[0] == 422
    assert cloud.api("POST", "/v1/events/trigger", {"to": "ada"})[0] == 400


def test_workflow_validation_names_the_field(cloud: Cloud) -> None:
    status, _, body = cloud.api(
        "POST", "/v1/workflows", {"workflowId": "x", "steps": [{"stepId": "a", "type": "fax"}]}
    )
    assert status == 400
    assert any("type" in error["field"] for error in body["errors"])
    assert body["type"] == "bad_request"
    assert cloud.api("POST", "/v1/workflows", {"workflowId": "welcome"})[0] == 409


def test_every_novu_status_value_is_answered_per_record(cloud: Cloud) -> None:
    steps = [{"stepId": "a", "type": "in_app", "content": {"body": "x"}}]
    cloud.api("POST", "/v1/workflows", {"workflowId": "off", "active": False, "steps": steps})
    cloud.api("POST", "/v1/workflows", {"workflowId": "empty", "steps": []})
    cloud.api("POST", "/v1/workflows", {"workflowId": "idle", "steps": [{**steps[0], "active": False}]})
    cloud.api("POST", "/v1/tenants", {"identifier": "acme", "name": "Acme"})
    _, _, body = cloud.api(
        "POST",
        "/v1/events/trigger/bulk",
        {
            "events": [
                {"name": "welcome", "to": "ada", "tenant": "acme"},
                {"name": "off", "to": "ada"},
                {"name": "empty", "to": "ada"},
                {"name": "idle", "to": "ada"},
                {"name": "welcome", "to": "ada", "tenant": "ghost"},
                {"name": "welcome", "to": [{"firstName": "no id"}]},
                {"name": "missing", "to": "ada"},
                {"name": "welcome", "to": "ada", "tenant": {"identifier": "new-co", "name": "New Co"}},
            ]
        },
    )
    assert [item["status"] for item in body["data"]] == [
        "processed",
        "trigger_not_active",
        "no_workflow_steps_defined",
        "no_workflow_active_steps_defined",
        "no_tenant_found",
        "invalid_recipients",
        "error",
        "processed",
    ]
    assert all(item["acknowledged"] is True and item["transactionId"] for item in body["data"])
    assert all(item.get("error") for item in body["data"] if item["status"] != "processed")
    cloud.drain()
    assert cloud.api("GET", "/v1/tenants/new-co")[2]["data"]["name"] == "New Co"  # created from inline data


def test_feed_messages_are_marked_read_and_seen(cloud: Cloud) -> None:
    cloud.api("POST", "/v1/events/trigger/bulk", {"events": [{"name": "welcome", "to": "reader"}] * 2})
    cloud.drain()
    first, second = cloud.api("GET", "/v1/subscribers/reader/notifications/feed")[2]["data"]
    assert (first["read"], first["seen"]) == (False, False)
    status, _, body = cloud.api(
        "POST",
        "/v1/subscribers/reader/messages/mark-as",
        {"messageId": first["id"], "mark": {"seen": True, "read": True}},
    )
    assert status == 200
    assert [(m["id"], m["read"], m["seen"]) for m in body["data"]] == [(first["id"], True, True)]
    feed = {m["id"]: m for m in cloud.api("GET", "/v1/subscribers/reader/notifications/feed")[2]["data"]}
    assert (feed[first["id"]]["read"], feed[second["id"]]["read"]) == (True, False)
    assert (
        cloud.api(
            "POST",
            "/v1/subscribers/someone-else/messages/mark-as",
            {"messageId": second["id"], "mark": {"read": True}},
        )[0]
        == 404
    )
    assert (
        cloud.api(
            "POST",
            "/v1/subscribers/reader/messages/mark-as",
            {"messageId": "not-an-id", "mark": {"read": True}},
        )[0]
        == 404
    )

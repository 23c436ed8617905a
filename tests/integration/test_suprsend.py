"""SuprSend's `POST /trigger/`: 202 / 207, identities onto subscribers, transient recipients,
$idempotency_key, attachments, HMAC signatures."""

from __future__ import annotations

import base64
import json
import time
from email.utils import formatdate
from typing import Any

from clarion.api.auth import SignedRequest, sign
from clarion_cli.seed import DEFAULT_API_KEY

from tests.integration.conftest import Cloud


def post(cloud: Cloud, body: Any, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    return cloud.api("POST", "/trigger/", raw_body=json.dumps(body), **kwargs)


def record(workflow: str = "welcome", distinct_id: str = "ada", **extra: Any) -> dict[str, Any]:
    return {"workflow": workflow, "recipients": [distinct_id], "data": {"n": 1}, **extra}


def test_single_trigger_is_202_and_its_message_id_resolves(cloud: Cloud) -> None:
    status, headers, body = post(cloud, record())
    assert status == 202
    assert body["status"] == "success"
    assert headers["Location"].startswith("/v1/events/trigger/bulk/")
    cloud.drain()
    view = cloud.api("GET", f"/v1/events/trigger/{body['message_id']}")[2]["data"]
    assert view["status"] == "completed"


def test_bulk_is_207_with_one_record_per_item_in_order(cloud: Cloud) -> None:
    status, headers, body = post(
        cloud, [record(), record("nope"), {"recipients": ["x"]}, record(distinct_id="bob")]
    )
    assert status == 207
    assert body["status"] == "success"
    records = body["records"]
    assert [r["status"] for r in records] == ["success", "error", "error", "success"]
    assert [r["status_code"] for r in records] == [202, 404, 400, 202]
    assert records[1]["error"]["type"] == "not_found"
    assert "workflow" in records[2]["error"]["message"]
    cloud.drain()
    view = cloud.api("GET", headers["Location"])[2]["data"]
    assert view["counts"] == {"completed": 2, "error": 2}


def test_unknown_workflow_single_is_404_fail(cloud: Cloud) -> None:
    status, _, body = post(cloud, record("nope"))
    assert status == 404
    assert body["status"] == "fail"
    assert body["error"]["type"] == "not_found"


def test_whole_request_refusals(cloud: Cloud) -> None:
    assert post(cloud, [record()] * 101)[0] == 400
    assert post(cloud, [])[0] == 400
    assert cloud.api("POST", "/trigger/", raw_body="{nope")[0] == 400
    big = [record(data={"blob": "x" * 850_000})]
    status, _, body = post(cloud, big)
    assert status == 413
    assert body["status"] == "fail"
    status, _, body = cloud.api("POST", "/trigger/", raw_body="{}", key="wrong")
    assert status == 401
    assert body["status"] == "fail"


def test_identities_are_stored_and_transient_recipients_are_not(cloud: Cloud) -> None:
    status, _, body = post(
        cloud,
        {
            "workflow": "welcome",
            "recipients": [
                {
                    "distinct_id": "grace",
                    "$email": ["g@example.com"],
                    "$sms": ["+15555550123"],
                    "$timezone": "Europe/Paris",
                    "$slack": [{"incoming_webhook": {"url": "https://hooks.slack.com/services/T/B/X"}}],
                    "$androidpush": ["tok-1"],
                    "plan": "pro",
                },
                {"is_transient": True, "$email": ["anon@example.com"]},
            ],
            "actor": {"distinct_id": "boss", "name": "Boss"},
            "tenant_id": "acme",
        },
    )
    assert status == 202, body
    cloud.drain()
    grace = cloud.api("GET", "/v1/subscribers/grace")[2]["data"]
    assert (grace["email"], grace["phone"], grace["timezone"]) == (
        "g@example.com",
        "+15555550123",
        "Europe/Paris",
    )
    assert grace["data"] == {"plan": "pro"}
    providers = {c["providerId"] for c in grace["channels"]}
    assert providers == {"slack", "fcm"}
    listed = [
        s["subscriberId"] for s in cloud.api("GET", "/v1/subscribers", query={"limit": "100"})[2]["data"]
    ]
    assert not [s for s in listed if s.startswith("transient-")]
    assert "boss" in listed
    view = cloud.api("GET", f"/v1/events/trigger/{body['message_id']}")[2]["data"]
    assert len(view["recipients"]) == 2  # the transient one was delivered to


def test_repeated_idempotency_key_is_accepted_and_not_run_again(cloud: Cloud) -> None:
    first = post(cloud, record(**{"$idempotency_key": "order-77"}))
    again = post(cloud, record(**{"$idempotency_key": "order-77"}))
    assert first[0] == again[0] == 202
    assert first[2]["message_id"] == again[2]["message_id"] == "order-77"
    cloud.drain()
    assert len(cloud.api("GET", "/v1/subscribers/ada/notifications/feed")[2]["data"]) == 1


def test_attachments_are_checked_per_record(cloud: Cloud) -> None:
    small = base64.b64encode(b"%PDF" * 10).decode()
    large = base64.b64encode(b"x" * 60_000).decode()
    _, _, body = post(
        cloud,
        [
            record(data={"$attachments": [{"url": "https://example.com/a.pdf", "filename": "a.pdf"}]}),
            record(data={"$attachments": [{"data": small, "filename": "s.pdf"}]}),
            record(data={"$attachments": [{"data": large}]}),
            record(data={"$attachments": [{"url": "file:///etc/passwd"}]}),
        ],
    )
    assert [r["status"] for r in body["records"]] == ["success", "success", "error", "error"]
    assert "50 KB" in body["records"][2]["error"]["message"]


def signed(
    cloud: Cloud, body: bytes, date: str, secret: str = DEFAULT_API_KEY
) -> tuple[int, dict[str, str], Any]:
    content_type = "application/json; charset=utf-8"
    request = SignedRequest("POST", ("/trigger/",), "", body, content_type, date)
    authorization = f"development:{sign(secret, request, '/trigger/')}"
    return cloud.api(
        "POST",
        "/trigger/",
        raw_body=body.decode(),
        key=None,
        headers={"Authorization": authorization, "Date": date, "Content-Type": content_type},
    )


def test_hmac_signature_with_a_fresh_date_is_accepted(cloud: Cloud) -> None:
    body = json.dumps(record()).encode()
    assert signed(cloud, body, formatdate(usegmt=True))[0] == 202
    assert signed(cloud, body, formatdate(usegmt=True), secret="not-the-secret")[0] == 401
    assert signed(cloud, body, formatdate(timeval=0, usegmt=True))[0] == 401  # 1970: outside five minutes
    tampered = json.dumps(record(distinct_id="mallory")).encode()
    # A different Date than the first request's: the same signature twice is a replay.
    status = signed(cloud, body, formatdate(time.time() - 30, usegmt=True))[0]
    request = SignedRequest(
        "POST", ("/trigger/",), "", body, "application/json; charset=utf-8", formatdate(usegmt=True)
    )
    assert status == 202
    replayed_on_other_body = cloud.api(
        "POST",
        "/trigger/",
        raw_body=tampered.decode(),
        key=None,
        headers={
            "Authorization": f"development:{sign(DEFAULT_API_KEY, request, '/trigger/')}",
            "Date": request.date or "",
            "Content-Type": request.content_type,
        },
    )
    assert replayed_on_other_body[0] == 401


def test_channels_limit_which_steps_reach_a_recipient(cloud: Cloud) -> None:
    cloud.api(
        "POST",
        "/v1/workflows",
        {
            "workflowId": "two",
            "steps": [
                {"stepId": "inbox", "type": "in_app", "content": {"body": "hi"}},
                {"stepId": "mail", "type": "email", "content": {"subject": "s", "body": "b"}},
            ],
        },
    )
    _, _, body = post(
        cloud,
        {
            "workflow": "two",
            "recipients": [
                {"distinct_id": "only-email", "$email": ["o@example.com"], "$channels": ["email"]},
                {"distinct_id": "only-inbox", "$channels": ["inbox"]},
            ],
            "$idempotency_key": "chan-1",
        },
    )
    assert body["status"] == "success"
    cloud.drain()
    view = cloud.api("GET", "/v1/events/trigger/chan-1")[2]["data"]
    statuses = {(r["subscriberId"], s["stepId"]): s["status"] for r in view["recipients"] for s in r["steps"]}
    assert statuses[("only-email", "inbox")] == "skipped"
    assert statuses[("only-inbox", "inbox")] == "sent"
    assert statuses[("only-inbox", "mail")] == "skipped"
    assert statuses[("only-email", "mail")] != "skipped"  # attempted (no email integration here: failed)

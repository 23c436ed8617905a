"""Altcraft's bulk trigger launch against the local stack, driven as an Altcraft client drives it:
plain HTTP, the token in the body (or Bearer), JSON or XML, profiles matched by a field."""

from __future__ import annotations

import base64
import email
import uuid
from email import policy
from typing import Any
from xml.etree import ElementTree

import pytest
import requests

from tests.e2e.conftest import API_KEY, RunningStack
from tests.e2e.test_local_stack import wait_for

START_BATCH = "/api/v1.1/campaigns/triggers/start_batch"
START_BATCH_TASK = "/api/v1.1/campaigns/triggers/start_batch_task"


def post(stack: RunningStack, path: str, body: dict[str, Any], **headers: str) -> requests.Response:
    """As Altcraft's clients call: no Authorization unless given, the token in the body."""
    return requests.post(stack.url + path, json=body, headers=headers, timeout=60)


def post_xml(stack: RunningStack, path: str, text: str | bytes) -> requests.Response:
    return requests.post(stack.url + path, data=text, headers={"Content-Type": "application/xml"}, timeout=60)


def campaign(stack: RunningStack, steps: list[dict[str, Any]] | None = None) -> tuple[str, int]:
    """A workflow (a trigger campaign) whose in-app body reads the content both ways."""
    workflow_id = f"altcraft-{uuid.uuid4().hex[:8]}"
    body = "Hi {apicontent.name}, order {{ payload.order }}"
    created = stack.call(
        "POST",
        "/v1/workflows",
        json={
            "workflowId": workflow_id,
            "steps": steps or [{"stepId": "inbox", "type": "in_app", "content": {"body": body}}],
        },
    )
    assert created.status_code == 201, created.text
    return workflow_id, created.json()["data"]["triggerId"]


def subscriber(stack: RunningStack, **fields: Any) -> str:
    subscriber_id = f"ac-{uuid.uuid4().hex[:10]}"
    answer = stack.call("POST", "/v1/subscribers", json={"subscriberId": subscriber_id, **fields})
    assert answer.status_code in (200, 201), answer.text
    return subscriber_id


def feed_bodies(stack: RunningStack, subscriber_id: str) -> list[str]:
    feed = stack.call("GET", f"/v1/subscribers/{subscriber_id}/notifications/feed").json()["data"]
    return [m["content"]["body"] for m in feed]


def delivered(stack: RunningStack, subscriber_id: str, expected: str) -> None:
    assert wait_for(lambda: feed_bodies(stack, subscriber_id) == [expected]), subscriber_id


def test_start_batch_by_email_answers_in_order_and_names_the_unmatched(stack: RunningStack) -> None:
    _, trigger_id = campaign(stack)
    tag = uuid.uuid4().hex[:6]
    ada = subscriber(stack, email=f"Ada-{tag}@Example.com")
    bob = subscriber(stack, email=f"bob-{tag}@example.com")
    answer = post(
        stack,
        START_BATCH,
        {
            "token": API_KEY,
            "trigger_id": trigger_id,
            "format": "json",
            "content": {"name": "friend", "order": "A-1"},
            "data": [
                {"email": f"ada-{tag}@example.com"},
                {"email": f"nobody-{tag}@example.com"},
                {"email": f"bob-{tag}@example.com"},
            ],
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["error"] == 0 and body["error_text"] == "Successful operation"
    assert body["result"][0] == {"profile_id": ada}
    assert body["result"][1]["error"] == 404 and body["result"][1]["error_text"] == "Profile not found"
    assert f"nobody-{tag}@example.com" in body["result"][1]["error_debug"]
    assert body["result"][2] == {"profile_id": bob}
    delivered(stack, ada, "Hi friend, order A-1")
    delivered(stack, bob, "Hi friend, order A-1")
    status = wait_for(
        lambda: (
            (v := stack.call("GET", answer.headers["Location"]).json()["data"])["status"]
            == "partially_failed"
            and v
        )
    )
    assert status["counts"] == {"completed": 2, "error": 1}


def test_start_batch_by_phone_and_by_profile_id_with_a_bearer_token(stack: RunningStack) -> None:
    _, trigger_id = campaign(stack)
    number = f"+4915{uuid.uuid4().int % 10**8:08d}"
    carol = subscriber(stack, phone=number)
    dave = subscriber(stack)
    by_phone = post(
        stack,
        START_BATCH,
        {
            "trigger_id": trigger_id,
            "matching": "phone",
            "content": {"name": "C", "order": "P"},
            "data": [{"phone": f"{number[:4]} {number[4:]}"}],
        },
        Authorization=f"Bearer {API_KEY}",
    )
    assert by_phone.status_code == 200, by_phone.text
    assert by_phone.json()["result"] == [{"profile_id": carol}]
    by_id = post(
        stack,
        START_BATCH,
        {
            "token": API_KEY,
            "trigger_id": trigger_id,
            "matching": "profile_id",
            "content": {"name": "D", "order": "I"},
            "data": [{"profile_id": dave}, {"profile_id": "ac-missing"}],
        },
    )
    assert by_id.status_code == 200, by_id.text
    assert by_id.json()["result"][0] == {"profile_id": dave}
    assert by_id.json()["result"][1]["error"] == 404
    delivered(stack, carol, "Hi C, order P")
    delivered(stack, dave, "Hi D, order I")


def test_custom_field_matching_needs_a_declared_field_and_back_fills_it(stack: RunningStack) -> None:
    _, trigger_id = campaign(stack)
    field = f"Custom_{uuid.uuid4().hex[:6]}"
    before = subscriber(stack, data={field: "003"})  # stored before the field is declared
    request = {
        "token": API_KEY,
        "trigger_id": trigger_id,
        "matching": "custom",
        "field_name": field,
        "content": {"name": "E", "order": "C"},
        "data": [{"field_value": "003"}, {"field_value": "002"}, {"field_value": "004"}],
    }
    undeclared = post(stack, START_BATCH, request)
    assert undeclared.status_code == 400
    assert undeclared.json()["error"] == 400
    assert field in undeclared.json()["error_debug"] and "matchFields" in undeclared.json()["error_debug"]

    current = stack.call("GET", "/v1/environment").json()["data"]["matchFields"]
    declared = stack.call("PATCH", "/v1/environment", json={"matchFields": [*current, field]})
    assert declared.status_code == 200, declared.text
    assert field in declared.json()["data"]["matchFields"]
    after = subscriber(stack, data={field: "002"})  # indexed as it is written

    answer = post(stack, START_BATCH, request)
    assert answer.status_code == 200, answer.text
    result = answer.json()["result"]
    assert result[:2] == [{"profile_id": before}, {"profile_id": after}]
    assert result[2]["error"] == 404
    delivered(stack, before, "Hi E, order C")
    delivered(stack, after, "Hi E, order C")


def test_unknown_settings_field_is_refused_naming_it(stack: RunningStack) -> None:
    answer = stack.call("PATCH", "/v1/environment", json={"matchFeilds": ["x"]})
    assert answer.status_code == 400
    assert "matchFeilds" in answer.text
    assert stack.call("PATCH", "/v1/environment", json={"matchFields": ["bad#name"]}).status_code == 400


def test_xml_in_xml_out(stack: RunningStack) -> None:
    _, trigger_id = campaign(stack)
    tag = uuid.uuid4().hex[:6]
    erin = subscriber(stack, email=f"erin-{tag}@example.com")
    text = (
        f"<xml><token>{API_KEY}</token><trigger_id>{trigger_id}</trigger_id><format>xml</format>"
        f"<matching>email</matching><content><name>X</name><order>9</order></content>"
        f"<data><email>erin-{tag}@example.com</email></data><data><email>none-{tag}@example.com</email></data></xml>"
    )
    answer = post_xml(stack, START_BATCH, text)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/xml")
    root = ElementTree.fromstring(answer.text)
    assert root.tag == "xml"
    assert root.findtext("error") == "0" and root.findtext("error_text") == "Successful operation"
    results = root.findall("result")
    assert [r.findtext("profile_id") for r in results] == [erin, None]
    assert results[1].findtext("error") == "404"
    delivered(stack, erin, "Hi X, order 9")


def test_entity_expansion_bomb_is_refused_400_in_altcraft_envelope(stack: RunningStack) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        f"<xml><token>{API_KEY}</token><trigger_id>1</trigger_id><data><email>&lol3;</email></data></xml>"
    )
    answer = post_xml(stack, START_BATCH, bomb)
    assert answer.status_code == 400
    root = ElementTree.fromstring(answer.text)
    assert root.findtext("error") == "400" and root.findtext("error_text") == "Invalid request"
    assert "DTD" in (root.findtext("error_debug") or "")
    external = f'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><token>{API_KEY}</token></xml>'
    assert post_xml(stack, START_BATCH, external).status_code == 400


def test_oversized_body_is_refused_with_the_documented_error(stack: RunningStack) -> None:
    """Over the route's limit (5 MB: what a Lambda receives whole) Altcraft's documented 400. Over
    10 MB API Gateway itself would refuse with a 413 it cannot customise: the template's CloudFront
    function answers first (its Content-Length, before the body is read), as here, where the local
    stack runs that same function, in JSON or in XML for an XML request."""
    padding = "x" * (5 * 1024 * 1024 + 1024)
    answer = post(
        stack,
        START_BATCH,
        {"token": API_KEY, "trigger_id": 1, "content": {"p": padding}, "data": [{"email": "a@example.com"}]},
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "error": 400,
        "error_text": "Invalid request",
        "error_debug": "http: request body too large",
    }
    eleven = requests.post(
        stack.url + START_BATCH,
        data=b"x" * (11 * 1024 * 1024),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert eleven.status_code == 400
    assert eleven.json() == {
        "error": 400,
        "error_text": "Invalid request",
        "error_debug": "http: request body too large",
    }
    eleven_xml = requests.post(
        stack.url + START_BATCH_TASK,
        data=b"<xml>" + b"x" * (11 * 1024 * 1024) + b"</xml>",
        headers={"Content-Type": "application/xml"},
        timeout=60,
    )
    assert eleven_xml.status_code == 400
    assert eleven_xml.headers["Content-Type"] == "application/xml"
    root = ElementTree.fromstring(eleven_xml.text)
    assert root.findtext("error") == "400" and root.findtext("error_text") == "Invalid request"
    assert root.findtext("error_debug") == "http: request body too large"


def test_missing_or_wrong_token_is_401_in_altcraft_envelope(stack: RunningStack) -> None:
    missing = post(stack, START_BATCH, {"trigger_id": 1, "data": [{"email": "a@example.com"}]})
    assert missing.status_code == 401
    assert missing.json() == {"error": 401, "error_text": "API token required"}
    wrong = post(stack, START_BATCH, {"token": "nope", "trigger_id": 1, "data": [{"email": "a@example.com"}]})
    assert wrong.status_code == 401 and wrong.json()["error"] == 401
    wrong_xml = post_xml(stack, START_BATCH_TASK, "<xml><token>nope</token><id>1</id></xml>")
    assert wrong_xml.status_code == 401
    assert ElementTree.fromstring(wrong_xml.text).findtext("error") == "401"


def test_start_batch_task_answers_a_task_id_whose_status_completes(stack: RunningStack) -> None:
    _, trigger_id = campaign(stack)
    tag = uuid.uuid4().hex[:6]
    fay = subscriber(stack, email=f"fay-{tag}@example.com")
    gus = subscriber(stack, email=f"gus-{tag}@example.com")
    answer = post(
        stack,
        START_BATCH_TASK,
        {
            "token": API_KEY,
            "id": trigger_id,
            "content": {"name": "T", "order": "7"},
            "custom_data": {"crm": "42"},
            "data": [{"email": f"fay-{tag}@example.com"}, {"email": f"gus-{tag}@example.com"}],
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["error"] == 0
    task_id = body["result"]["task_id"]
    status = wait_for(
        lambda: (
            (v := stack.call("GET", f"/v1/events/trigger/bulk/{task_id}").json()["data"])["status"]
            == "completed"
            and v
        )
    )
    assert status["counts"] == {"completed": 2}
    delivered(stack, fay, "Hi T, order 7")
    delivered(stack, gus, "Hi T, order 7")

    unmatched = post(
        stack,
        START_BATCH_TASK,
        {
            "token": API_KEY,
            "id": trigger_id,
            "data": [{"email": f"fay-{tag}@example.com"}, {"email": f"x-{tag}@x.io"}],
        },
    )
    task = unmatched.json()["result"]["task_id"]
    wait_for(
        lambda: (
            stack.call("GET", f"/v1/events/trigger/bulk/{task}").json()["data"]["status"]
            == "partially_failed"
        )
    )
    records = stack.call("GET", f"/v1/events/trigger/bulk/{task}/records").json()["data"]
    assert [r["status"] for r in records] == ["completed", "failed"]
    assert f"x-{tag}@x.io" in records[1]["error"]


def test_attach_becomes_an_email_attachment(stack: RunningStack) -> None:
    ses: Any = stack.client("sesv2")
    if "clarion.example" not in [i["IdentityName"] for i in ses.list_email_identities()["EmailIdentities"]]:
        ses.create_email_identity(EmailIdentity="clarion.example")
    integration = {"providerId": "ses", "channel": "email", "credentials": {"from": "hi@clarion.example"}}
    assert stack.call("POST", "/v1/integrations", json=integration).status_code in (201, 409)
    tag = uuid.uuid4().hex[:6]
    subject = f"Receipt {tag}"
    _, trigger_id = campaign(
        stack,
        [
            {
                "stepId": "mail",
                "type": "email",
                "content": {"subject": subject, "body": "<p>{apicontent.name}</p>"},
            }
        ],
    )
    hal = subscriber(stack, email=f"hal-{tag}@example.com")
    answer = post(
        stack,
        START_BATCH,
        {
            "token": API_KEY,
            "trigger_id": trigger_id,
            "content": {"name": "Hal"},
            "attach": [{"name": "receipt.txt", "content": base64.b64encode(b"paid in full").decode()}],
            "data": [{"email": f"hal-{tag}@example.com"}],
        },
    )
    assert answer.json()["result"] == [{"profile_id": hal}], answer.text

    def raw_mail() -> list[str]:
        models = requests.get(
            f"{stack.endpoint}/moto-api/data.json", timeout=180
        ).json()  # all of moto: slow late in a session
        return [
            m["raw_data"]
            for m in models["ses"].get("RawMessage", [])
            if f"Subject: {subject}" in m["raw_data"]
        ]

    raws = wait_for(raw_mail, timeout=60)
    message = email.message_from_string(raws[0], policy=policy.default)
    attached = {p.get_filename(): p.get_payload(decode=True) for p in message.iter_attachments()}
    assert attached == {"receipt.txt": b"paid in full"}


@pytest.mark.parametrize("path", [START_BATCH, START_BATCH_TASK])
def test_bad_bodies_are_400_in_altcraft_envelope(stack: RunningStack, path: str) -> None:
    for body in ({"token": API_KEY}, {"token": API_KEY, "trigger_id": 1, "id": 1, "data": []}):
        answer = post(stack, path, body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == 400 and answer.json()["error_debug"]
    not_xml = post_xml(stack, path, "<xml><token>")
    assert not_xml.status_code == 400


def test_cli_declares_match_fields_and_back_fills_them(stack: RunningStack) -> None:
    from tests.e2e.test_keys_cli import clarion

    _, trigger_id = campaign(stack)
    field = f"Cli_{uuid.uuid4().hex[:6]}"
    member = subscriber(stack, data={field: 77})
    current = stack.call("GET", "/v1/environment").json()["data"]["matchFields"]
    output = clarion(stack, "env", "match-fields", "development", *current, field)
    assert "back-filled" in output and f"data.{field}" in output, output
    assert field in stack.call("GET", "/v1/environment").json()["data"]["matchFields"]
    answer = post(
        stack,
        START_BATCH,
        {
            "token": API_KEY,
            "trigger_id": trigger_id,
            "matching": "custom",
            "field_name": field,
            "content": {"name": "M", "order": "77"},
            "data": [{"field_value": 77}],
        },
    )
    assert answer.json()["result"] == [{"profile_id": member}], answer.text
    delivered(stack, member, "Hi M, order 77")
    shown = clarion(stack, "env", "match-fields", "development")
    assert f"data.{field}" in shown

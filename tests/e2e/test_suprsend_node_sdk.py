"""@suprsend/node-sdk 1.x (pinned in tests/e2e/sdk/node/package.json), unmodified, against the
local stack over HTTP with its HMAC signature: single and bulk triggers with string identities,
a user profile saved through `/event/`, a tracked event that starts the workflow declaring it, and
a trigger cancelled by its `cancellation_key` during a delay. Plus SuprSend's 400 for an empty
bulk (the SDK never sends one: it answers an empty bulk itself)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ROOT
from tests.e2e.conftest import API_KEY, RunningStack

NODE_DIR = Path(__file__).resolve().parent / "sdk" / "node"
WORKSPACE = "development"  # the seeded environment: workspace key = environment id, secret = API key
TEMPLATE = ("--template", str(ROOT / "template.yaml"))
REQUIRED = bool(os.environ.get("CLARION_REQUIRE_SDKS"))

pytestmark = pytest.mark.skipif(
    (not REQUIRED and shutil.which("node") is None)
    or not (NODE_DIR / "node_modules" / "@suprsend" / "node-sdk").is_dir(),
    reason="install the Node SDKs: npm ci --prefix tests/e2e/sdk/node",
)


def node(stack: RunningStack, data: dict[str, Any], secret: str = API_KEY) -> Any:
    env = {
        **os.environ,
        "CLARION_URL": stack.url,
        "CLARION_API_KEY": secret,
        "CLARION_INPUT": json.dumps(data),
    }
    done = subprocess.run(
        ["node", "suprsend.mjs"],
        cwd=NODE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["ok"], out
    return out["result"]


def bearer(key: str = API_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def eventually(check: Callable[[], Any], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def transaction(stack: RunningStack, transaction_id: str, key: str = API_KEY) -> dict[str, Any]:
    answer = stack.call("GET", f"/v1/events/trigger/{transaction_id}", headers=bearer(key))
    return dict(answer.json()["data"]) if answer.status_code == 200 else {}


def steps(view: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (r["subscriberId"], s["stepId"]): s["status"] for r in view.get("recipients", []) for s in r["steps"]
    }


def feed(stack: RunningStack, subscriber_id: str, key: str = API_KEY) -> list[str]:
    answer = stack.call("GET", f"/v1/subscribers/{subscriber_id}/notifications/feed", headers=bearer(key))
    return [m["content"]["body"] for m in answer.json()["data"]]


def new_environment(stack: RunningStack, name: str) -> str:
    """A new environment through the CLI; its first API key."""
    done = subprocess.run(
        [sys.executable, "-m", "clarion_cli", "env", "create", name, "--endpoint", stack.endpoint, *TEMPLATE],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"},
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    (key,) = re.findall(r"^ck_\S+$", done.stdout, re.MULTILINE)
    return key


def test_single_and_bulk_triggers_with_string_identities(stack: RunningStack) -> None:
    tag = uuid.uuid4().hex[:8]
    single = node(
        stack,
        {
            "workspace": WORKSPACE,
            "action": "trigger",
            "body": {
                "workflow": "welcome",
                "recipients": [
                    {
                        "distinct_id": f"ss-{tag}-ada",
                        "$email": "ada@example.com",
                        "$sms": "+15555550100",
                        "$inbox": "in-1",
                    }
                ],
                "data": {"n": 1},
            },
            "options": {"idempotency_key": f"ss-{tag}-one"},
        },
    )
    assert (single["success"], single["status_code"]) == (True, 202), single
    assert json.loads(single["message"]) == {"message_id": f"ss-{tag}-one", "status": "success"}

    bulk = node(
        stack,
        {
            "workspace": WORKSPACE,
            "action": "bulk",
            "requests": [
                {
                    "body": {
                        "workflow": "welcome",
                        "recipients": [{"distinct_id": f"ss-{tag}-bob", "$email": "bob@example.com"}],
                        "data": {},
                    }
                },
                {
                    "body": {
                        "workflow": "welcome",
                        "recipients": [
                            {
                                "distinct_id": f"ss-{tag}-cy",
                                "$whatsapp": "+15555550111",
                                "$androidpush": {"token": "tok-cy", "provider": "fcm"},
                            }
                        ],
                        "data": {},
                    }
                },
            ],
        },
    )
    # the SDK counts any 2xx as every record accepted; the 207's records say so too (below)
    assert (bulk["status"], bulk["total"], bulk["success"], bulk["failure"]) == ("success", 2, 2, 0), bulk

    assert eventually(lambda: transaction(stack, f"ss-{tag}-one").get("status") == "completed")
    ada = stack.call("GET", f"/v1/subscribers/ss-{tag}-ada").json()["data"]
    assert (ada["email"], ada["phone"]) == ("ada@example.com", "+15555550100")
    assert {"providerId": "inbox", "credentials": {"inboxIds": ["in-1"]}} in ada["channels"]
    assert eventually(lambda: stack.call("GET", f"/v1/subscribers/ss-{tag}-cy").status_code == 200)
    cy = stack.call("GET", f"/v1/subscribers/ss-{tag}-cy").json()["data"]
    assert cy["phone"] == "+15555550111"
    assert {"providerId": "fcm", "credentials": {"deviceTokens": ["tok-cy"]}} in cy["channels"]
    assert eventually(lambda: feed(stack, f"ss-{tag}-bob"))


def test_bulk_records_and_empty_bulk_answer_in_suprsends_shape(stack: RunningStack) -> None:
    answer = requests.post(
        stack.url + "/trigger/",
        json=[{"workflow": "no-such-workflow", "recipients": ["x"], "data": {}}],
        headers=bearer(),
        timeout=30,
    )
    assert answer.status_code == 207
    assert answer.json()["records"][0] == {
        "status": "error",
        "status_code": 404,
        "error": {"message": "workflow not found", "type": "not_found"},
    }
    for path in ("/trigger/", "/event/"):
        empty = requests.post(stack.url + path, json=[], headers=bearer(), timeout=30)
        assert empty.status_code == 400, empty.text
        body = empty.json()
        assert body["status"] == "fail" and body["error"]["type"] == "bad_request"
        assert "non-empty array" in body["message"]


def test_user_profile_is_saved_through_the_event_route(stack: RunningStack) -> None:
    distinct_id = f"ss-user-{uuid.uuid4().hex[:8]}"
    web_push = {"endpoint": "https://push.example.com/s/1", "keys": {"p256dh": "k", "auth": "a"}}
    saved = node(
        stack,
        {
            "workspace": WORKSPACE,
            "action": "save",
            "distinct_id": distinct_id,
            "calls": [
                ["set", {"name": "Ada", "plan": "free"}],
                ["set_timezone", "Europe/Paris"],
                ["set_preferred_language", "fr"],
                ["add_email", "ada@example.com"],
                ["add_sms", "+15555550123"],
                ["add_androidpush", "tok-1", "fcm"],
                ["add_iospush", "ios-1", "apns"],
                ["add_webpush", web_push, "vapid"],
                ["add_slack", {"incoming_webhook": {"url": "https://hooks.slack.com/services/T/B/X"}}],
                ["append", "tags", "vip"],
                ["increment", "logins", 2],
            ],
        },
    )
    assert (saved["success"], saved["status_code"]) == (True, 202), saved
    view = stack.call("GET", f"/v1/subscribers/{distinct_id}").json()["data"]
    assert (view["email"], view["phone"], view["timezone"], view["locale"]) == (
        "ada@example.com",
        "+15555550123",
        "Europe/Paris",
        "fr",
    )
    assert view["data"] == {"name": "Ada", "plan": "free", "tags": ["vip"], "logins": 2}
    assert {c["providerId"]: c["credentials"] for c in view["channels"]} == {
        "fcm": {"deviceTokens": ["tok-1"]},
        "apns": {"deviceTokens": ["ios-1"]},
        "webpush": {"subscriptions": [web_push]},
        "slack": {"webhookUrl": "https://hooks.slack.com/services/T/B/X"},
    }
    again = node(
        stack,
        {
            "workspace": WORKSPACE,
            "action": "save",
            "distinct_id": distinct_id,
            "calls": [
                ["remove_androidpush", "tok-1", "fcm"],
                ["unset", ["name", "$webpush"]],
                ["set", "plan", "pro"],
            ],
        },
    )
    assert again["status_code"] == 202
    view = stack.call("GET", f"/v1/subscribers/{distinct_id}").json()["data"]
    assert view["data"] == {"plan": "pro", "tags": ["vip"], "logins": 2}
    assert {c["providerId"] for c in view["channels"]} == {"apns", "slack"}


def test_tracked_event_starts_the_workflow_that_declares_it(stack: RunningStack) -> None:
    # the SDK's track_event schema wants a workspace key of at least 20 characters
    workspace = f"suprsend-node-{uuid.uuid4().hex[:10]}"
    secret = new_environment(stack, workspace)
    created = stack.call(
        "POST",
        "/v1/workflows",
        headers=bearer(secret),
        json={
            "workflowId": "order-confirmation",
            "triggerEvent": "order_placed",
            "steps": [
                {"stepId": "inbox", "type": "in_app", "content": {"body": "order {{ payload.order }}"}}
            ],
        },
    )
    assert created.status_code == 201, created.text
    tracked = node(
        stack,
        {
            "workspace": workspace,
            "action": "track",
            "distinct_id": "buyer",
            "event": "order_placed",
            "properties": {"order": "A-7"},
        },
        secret=secret,
    )
    assert (tracked["success"], tracked["status_code"]) == (True, 202), tracked
    assert eventually(lambda: feed(stack, "buyer", secret)) == ["order A-7"]
    unrelated = node(
        stack,
        {
            "workspace": workspace,
            "action": "track",
            "distinct_id": "buyer",
            "event": "page_viewed",
            "properties": {},
        },
        secret=secret,
    )
    assert unrelated["status_code"] == 202
    time.sleep(1)
    assert feed(stack, "buyer", secret) == ["order A-7"]


def test_trigger_cancelled_by_its_cancellation_key_during_a_delay_never_delivers(stack: RunningStack) -> None:
    tag = uuid.uuid4().hex[:8]
    workflow = f"reminder-{tag}"
    created = stack.call(
        "POST",
        "/v1/workflows",
        json={
            "workflowId": workflow,
            "steps": [
                # long enough that both are still pending when the cancel comes on a loaded box
                {"stepId": "wait", "type": "delay", "content": {"amount": 15, "unit": "seconds"}},
                {"stepId": "nudge", "type": "in_app", "content": {"body": "come back"}},
            ],
        },
    )
    assert created.status_code == 201, created.text

    def trigger(user: str, cancellation_key: str) -> str:
        result = node(
            stack,
            {
                "workspace": WORKSPACE,
                "action": "trigger",
                "body": {
                    "workflow": workflow,
                    "recipients": [{"distinct_id": user, "$email": f"{user}@example.com"}],
                    "data": {},
                },
                "options": {"cancellation_key": cancellation_key},
            },
        )
        assert result["status_code"] == 202, result
        return str(json.loads(result["message"])["message_id"])

    cancelled_id = trigger(f"gone-{tag}", f"cart-{tag}")
    kept_id = trigger(f"kept-{tag}", f"other-{tag}")
    for transaction_id, user in ((cancelled_id, f"gone-{tag}"), (kept_id, f"kept-{tag}")):
        assert eventually(
            lambda t=transaction_id, u=user: steps(transaction(stack, t)).get((u, "wait")) == "pending"
        )
    answer = requests.post(
        stack.url + "/v1/workflow_run/cancel/",
        json={"cancellation_key": f"cart-{tag}"},
        headers=bearer(),
        timeout=30,
    )
    assert (answer.status_code, answer.json()) == (200, {"execution_ids": [cancelled_id]})
    assert eventually(lambda: feed(stack, f"kept-{tag}"), 60) == ["come back"]  # the delay has passed
    time.sleep(1)
    assert feed(stack, f"gone-{tag}") == []
    assert steps(transaction(stack, cancelled_id)) == {(f"gone-{tag}", "wait"): "cancelled"}

"""Novu's own Inbox client, `@novu/js` (pinned in tests/e2e/sdk/node), unmodified, against the local
stack: session with and without subscriberHash, list, count, read, archive, preferences; and
over plain HTTP, that another subscriber's or environment's token never sees the notifications."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import API_KEY, RunningStack

pytestmark = pytest.mark.e2e

NODE_DIR = Path(__file__).resolve().parent / "sdk" / "node"
REQUIRED = bool(os.environ.get("CLARION_REQUIRE_SDKS"))
needs_novu_js = pytest.mark.skipif(
    (not REQUIRED and shutil.which("node") is None)
    or not (NODE_DIR / "node_modules" / "@novu" / "js").is_dir(),
    reason="install the Node SDKs: npm ci --prefix tests/e2e/sdk/node",
)

WORKFLOW = {
    "workflowId": "inbox-e2e",
    "name": "Inbox e2e",
    "steps": [
        {
            "stepId": "bell",
            "type": "in_app",
            "content": {
                "subject": "Order {{ payload.order }}",
                "body": "Order {{ payload.order }} shipped",
                "primaryAction": {"label": "Track", "redirect": {"url": "/orders"}},
                "data": {
                    "kind": "order"
                },  # nested values are not rendered (engine.render: top-level strings)
            },
        }
    ],
}


def subscriber_hash(key: str, subscriber_id: str) -> str:
    return hmac.new(key.encode(), subscriber_id.encode(), hashlib.sha256).hexdigest()


def ensure_workflow(stack: RunningStack, key: str = API_KEY, workflow: dict[str, Any] = WORKFLOW) -> None:
    """The workflow, and the local environment's Inbox as the stack seeds it (other tests on the
    same stack, the fuzzer among them, may have changed its settings)."""
    headers = {"Authorization": f"ApiKey {key}"}
    answer = stack.call("POST", "/v1/workflows", json=workflow, headers=headers)
    assert answer.status_code in (201, 409), answer.text
    seeded = {"inbox": {"subscriberHashRequired": False, "allowedOrigins": ["*"]}}
    answer = stack.call("PATCH", "/v1/environment", json=seeded, headers=headers)
    assert answer.status_code == 200, answer.text


def application_identifier(stack: RunningStack, key: str = API_KEY) -> str:
    answer = stack.call("GET", "/v1/environment", headers={"Authorization": f"ApiKey {key}"})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"]["applicationIdentifier"])


def trigger_bulk_and_wait(
    stack: RunningStack, subscriber_id: str, count: int, workflow_id: str = WORKFLOW["workflowId"]
) -> None:
    events = [
        {"name": workflow_id, "to": subscriber_id, "payload": {"order": f"O-{i}"}} for i in range(count)
    ]
    headers = {"Authorization": f"ApiKey {API_KEY}"}
    answer = stack.call("POST", "/v1/events/trigger/bulk", json={"events": events}, headers=headers)
    assert answer.status_code == 201, answer.text
    location = answer.headers["Location"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = stack.call("GET", location, headers=headers).json()["data"]
        if status["status"] in ("completed", "partially_failed"):
            assert status["status"] == "completed", status
            return
        time.sleep(0.2)
    raise AssertionError(f"bulk did not complete: {status}")


def run_novu_js(stack: RunningStack, **fields: Any) -> dict[str, Any]:
    done = subprocess.run(
        ["node", "inbox_novu_js.mjs"],
        cwd=NODE_DIR,
        env={**os.environ, "CLARION_URL": stack.url, "CLARION_INPUT": json.dumps(fields)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@needs_novu_js
def test_novu_js_reads_counts_marks_and_sets_preferences_against_the_stack(stack: RunningStack) -> None:
    ensure_workflow(stack)
    subscriber = f"inbox-{uuid.uuid4().hex[:8]}"
    trigger_bulk_and_wait(stack, subscriber, 3)
    result = run_novu_js(
        stack,
        applicationIdentifier=application_identifier(stack),
        subscriberId=subscriber,
        subscriberHash=subscriber_hash(API_KEY, subscriber),
        workflowId=WORKFLOW["workflowId"],
    )
    assert result.get("error") is None and result["sessionError"] is None, result
    assert result["session"] == {"unread": 3}
    assert result["unreadAtStart"] == 3
    assert len(result["listed"]) == 3 and result["hasMore"] is False
    assert {n["subject"] for n in result["listed"]} == {"Order O-0", "Order O-1", "Order O-2"}
    first = result["listed"][0]
    assert first["body"] == f"{first['subject']} shipped"
    assert first["channelType"] == "in_app" and first["workflow"] == "inbox-e2e"
    assert first["primaryAction"] == {"label": "Track", "isCompleted": False, "redirect": {"url": "/orders"}}
    assert first["data"] == {"kind": "order"}
    assert result["read"]["isRead"] is True and result["read"]["id"] == first["id"]
    assert result["unreadAfterRead"] == 2
    assert result["archived"]["isArchived"] is True
    assert result["counts"] == [1, 1, 2]
    assert result["archivedIds"] == [result["listed"][1]["id"]]
    levels = {(p["level"], p.get("workflow")) for p in result["preferences"]}
    assert ("global", None) in levels and ("template", "inbox-e2e") in levels
    assert result["updatedPreference"] == {"workflow": "inbox-e2e", "channels": {"in_app": False}}
    assert result["globalPreference"]["email"] is False and result["globalPreference"]["in_app"] is True

    # the preference the client set is the one the engine honours
    trigger_bulk_and_wait(stack, subscriber, 1)
    again = run_novu_js(stack, applicationIdentifier=application_identifier(stack), subscriberId=subscriber)
    assert again["session"] == {"unread": 1}, again  # the 4th never reached the Inbox


@needs_novu_js
def test_novu_js_session_without_hash_in_development_and_wrong_hash_refused(stack: RunningStack) -> None:
    ensure_workflow(stack)
    subscriber = f"inbox-{uuid.uuid4().hex[:8]}"
    trigger_bulk_and_wait(stack, subscriber, 1)
    appid = application_identifier(stack)
    without = run_novu_js(stack, applicationIdentifier=appid, subscriberId=subscriber)
    assert without["sessionError"] is None and without["session"] == {"unread": 1}, without
    wrong = run_novu_js(
        stack,
        applicationIdentifier=appid,
        subscriberId=subscriber,
        subscriberHash=subscriber_hash("nope", subscriber),
    )
    assert wrong["session"] is None
    assert wrong["sessionError"]["status"] == 401, wrong
    assert wrong["sessionError"]["body"]["message"] == "subscriberHash: does not match this subscriber"


def create_environment(stack: RunningStack, name: str) -> str:
    """A second environment through the CLI, as an operator makes one; its first API key."""
    done = subprocess.run(
        [
            str(Path(os.sys.executable).parent / "clarion"),
            "env",
            "create",
            name,
            "--endpoint",
            stack.endpoint,
            "--template",
            str(Path(__file__).resolve().parents[2] / "template.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[-1].startswith("applicationIdentifier (public, for Novu's <Inbox />): app_")
    return lines[-2].strip()


def session_token(stack: RunningStack, key: str, subscriber: str) -> str:
    body = {
        "applicationIdentifier": application_identifier(stack, key),
        "subscriber": {"subscriberId": subscriber},
        "subscriberHash": subscriber_hash(key, subscriber),
    }
    answer = stack.call("POST", "/v1/inbox/session", json=body, headers={"Authorization": ""})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["data"]["token"])


def test_another_subscribers_or_environments_token_never_sees_them_over_http(stack: RunningStack) -> None:
    ensure_workflow(stack)
    ada = f"inbox-{uuid.uuid4().hex[:8]}"
    trigger_bulk_and_wait(stack, ada, 2)
    bearer = {"Authorization": f"Bearer {session_token(stack, API_KEY, ada)}"}
    mine = stack.call("GET", "/v1/inbox/notifications", headers=bearer).json()["data"]
    assert len(mine) == 2

    other_key = create_environment(stack, f"inbox{uuid.uuid4().hex[:6]}")
    for token in (session_token(stack, API_KEY, f"{ada}-bob"), session_token(stack, other_key, ada)):
        headers = {"Authorization": f"Bearer {token}"}
        assert stack.call("GET", "/v1/inbox/notifications", headers=headers).json()["data"] == []
        for method, action in (("PATCH", "read"), ("PATCH", "archive"), ("DELETE", "delete")):
            answer = stack.call(method, f"/v1/inbox/notifications/{mine[0]['id']}/{action}", headers=headers)
            assert answer.status_code == 404, answer.text
    assert (
        stack.call(
            "GET", "/v1/inbox/notifications", headers={"Authorization": "Bearer forged.token"}
        ).status_code
        == 401
    )
    assert (
        stack.call(
            "GET", "/v1/inbox/notifications", headers={"Authorization": f"ApiKey {API_KEY}"}
        ).status_code
        == 401
    )
    assert all(
        not n["isRead"] for n in stack.call("GET", "/v1/inbox/notifications", headers=bearer).json()["data"]
    )


def test_the_stack_prints_the_inbox_application_identifier(stack: RunningStack) -> None:
    assert f"applicationIdentifier '{application_identifier(stack)}'" in stack.banner

"""Issue 11, points 1-4 over HTTP on the local stack, the way the issue reproduced them: a replayed
SuprSend signature (suprsend-py-sdk's own request, sent again byte for byte), `clarion env create`
on an existing environment and on an id that is not one, and key rotation against HMAC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from email.utils import formatdate
from typing import Any

import requests
from clarion.api.auth import SignedRequest, sign
from clarion_cli.template import Template

from tests.conftest import ROOT
from tests.e2e.conftest import RunningStack
from tests.e2e.sdk import suprsend_capture as ss
from tests.e2e.sdk.capture import HOP_BY_HOP, CaptureServer
from tests.e2e.test_keys_cli import new_key
from tests.e2e.test_sdks import needs_suprsend


def clarion(stack: RunningStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "clarion_cli",
            *args,
            "--endpoint",
            stack.endpoint,
            "--template",
            str(ROOT / "template.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"},
        check=False,
    )


def environment_item(stack: RunningStack, environment_id: str) -> dict[str, Any]:
    table = Template(ROOT / "template.yaml").physical_name("ClarionTable")
    dynamodb: Any = stack.client("dynamodb")
    key = {"pk": {"S": f"ENV#{environment_id}"}, "sk": {"S": "ENV"}}
    return dict(dynamodb.get_item(TableName=table, Key=key)["Item"])


def wait_until_completed(stack: RunningStack, transaction_id: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        view = stack.call("GET", f"/v1/events/trigger/{transaction_id}")
        if view.status_code == 200 and view.json()["data"]["status"] == "completed":
            return
        time.sleep(0.2)
    raise AssertionError(f"trigger {transaction_id} did not complete: {view.text}")


@needs_suprsend
def test_a_signed_trigger_sent_three_times_runs_once(stack: RunningStack) -> None:
    from suprsend import Suprsend, WorkflowTriggerRequest

    recipient = f"replay-{uuid.uuid4().hex[:8]}"
    with CaptureServer(upstream=stack.url) as proxy:
        client = Suprsend(ss.WORKSPACE, ss.SECRET, base_url=proxy.url)  # HMAC-signed
        first = client.workflows.trigger(WorkflowTriggerRequest(ss.workflow("welcome", recipient, n=1)))
        (exchange,) = proxy.take()
    assert (first["success"], first["status_code"]) == (True, 202), first
    headers = {name: value for name, value in exchange.headers if name.lower() not in HOP_BY_HOP | {"host"}}
    assert ":" in headers["Authorization"] and headers["Date"]

    replays = [
        requests.post(stack.url + exchange.path, data=exchange.body, headers=headers, timeout=30)
        for _ in range(2)
    ]

    assert [r.status_code for r in replays] == [401, 401]
    for replay in replays:
        body = replay.json()
        assert body["status"] == "fail"
        assert body["error"]["type"] == "unauthorized"
        assert "signature already used" in body["message"]
    wait_until_completed(stack, first["message"])
    time.sleep(1)  # a second run, had one been queued, would have reached the feed by now
    feed = stack.call("GET", f"/v1/subscribers/{recipient}/notifications/feed").json()["data"]
    assert len(feed) == 1, feed


def test_env_create_refuses_an_id_that_could_reach_another_environments_items(stack: RunningStack) -> None:
    result = clarion(stack, "env", "create", "probe#SUB#x")
    assert result.returncode == 2, result.stdout
    assert "environment id" in result.stderr
    result = clarion(stack, "keys", "list", "probe#SUB#x")
    assert result.returncode == 2


def test_env_create_on_an_existing_environment_refuses_and_force_keeps_its_settings(
    stack: RunningStack,
) -> None:
    name = f"exists-{uuid.uuid4().hex[:6]}"
    first = clarion(stack, "env", "create", name)
    assert first.returncode == 0, first.stderr
    key = new_key(first.stdout)
    assert clarion(stack, "env", "limits", name, "--per-second", "5", "--burst", "7").returncode == 0
    before = environment_item(stack, name)

    again = clarion(stack, "env", "create", name)

    assert again.returncode == 1
    assert again.stderr.strip().count("\n") == 0  # one line
    assert "exists" in again.stderr and "--force" in again.stderr
    assert environment_item(stack, name) == before

    forced = clarion(stack, "env", "create", name, "--force")
    assert forced.returncode == 0, forced.stderr
    forced_key = new_key(forced.stdout)
    after = environment_item(stack, name)
    assert (after["ratePerSecond"], after["rateBurst"]) == ({"N": "5"}, {"N": "7"})
    for each in (key, forced_key):
        assert (
            stack.call("GET", "/v1/workflows", headers={"Authorization": f"ApiKey {each}"}).status_code == 200
        )


def test_limits_and_rotation_of_an_environment_that_does_not_exist_are_refused(stack: RunningStack) -> None:
    for args in (
        ("env", "limits", "nowhere-e2e", "--per-second", "1", "--burst", "1"),
        ("keys", "rotate", "nowhere-e2e"),
    ):
        result = clarion(stack, *args)
        assert result.returncode == 1, result.stdout
        assert "no environment" in result.stderr


def signed_workflow(stack: RunningStack, environment_id: str, secret: str) -> int:
    workflow = {
        "workflowId": f"wf-{uuid.uuid4().hex[:8]}",
        "steps": [{"stepId": "a", "type": "in_app", "content": {"body": "x"}}],
    }
    body = json.dumps(workflow).encode()
    date = formatdate(usegmt=True)
    request = SignedRequest("POST", ("/v1/workflows",), "", body, "application/json", date)
    headers = {
        "Authorization": f"{environment_id}:{sign(secret, request, '/v1/workflows')}",
        "Date": date,
        "Content-Type": "application/json",
    }
    return requests.post(stack.url + "/v1/workflows", data=body, headers=headers, timeout=30).status_code


def test_keys_rotate_with_revoke_old_moves_hmac_to_the_new_key(stack: RunningStack) -> None:
    """The environment's signing keys are not cached yet when it rotates (a container that has
    cached them sees the change within auth_cache_seconds, as it does for ApiKey)."""
    name = f"rotate-{uuid.uuid4().hex[:6]}"
    old = new_key(clarion(stack, "env", "create", name).stdout)
    rotated = clarion(stack, "keys", "rotate", name, "--revoke-old")
    assert rotated.returncode == 0, rotated.stderr
    new = new_key(rotated.stdout)

    assert signed_workflow(stack, name, old) == 401
    assert signed_workflow(stack, name, new) == 201


def test_keys_revoke_of_the_only_key_stops_its_signatures(stack: RunningStack) -> None:
    """The issue's probe: revoke an environment's only key, then sign with it."""
    import hashlib

    name = f"revoke-{uuid.uuid4().hex[:6]}"
    key = new_key(clarion(stack, "env", "create", name).stdout)
    revoked = clarion(stack, "keys", "revoke", name, hashlib.sha256(key.encode()).hexdigest()[:12])
    assert revoked.returncode == 0, revoked.stderr

    assert signed_workflow(stack, name, key) == 401
    assert stack.call("GET", "/v1/workflows", headers={"Authorization": f"ApiKey {key}"}).status_code == 401

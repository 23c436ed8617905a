"""Environments and keys through the CLI, against the running stack's emulator."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import ROOT
from tests.e2e.conftest import RunningStack


def clarion(stack: RunningStack, *args: str) -> str:
    environment = {**os.environ, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}
    result = subprocess.run(
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
        env=environment,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def new_key(output: str) -> str:
    (key,) = re.findall(r"^ck_\S+$", output, re.MULTILINE)
    return key


def test_created_environment_is_isolated_and_its_keys_rotate_and_revoke(stack: RunningStack) -> None:
    first = new_key(clarion(stack, "env", "create", "staging-cli"))
    own = {"Authorization": f"ApiKey {first}"}
    created = stack.call(
        "POST",
        "/v1/workflows",
        headers=own,
        json={
            "workflowId": "staging-only",
            "steps": [{"stepId": "a", "type": "in_app", "content": {"body": "x"}}],
        },
    )
    assert created.status_code == 201
    assert stack.call("GET", "/v1/workflows/staging-only").status_code == 404  # the development key
    assert stack.call("GET", "/v1/workflows/staging-only", headers=own).status_code == 200
    bulk = stack.call("POST", "/v1/events/trigger/bulk", json={"events": [{"name": "welcome", "to": "ada"}]})
    assert stack.call("GET", bulk.headers["Location"], headers=own).status_code == 404

    second = new_key(clarion(stack, "keys", "rotate", "staging-cli"))
    assert (
        stack.call("GET", "/v1/workflows", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    )
    listed = clarion(stack, "keys", "list", "staging-cli").split()
    assert len([word for word in listed if len(word) == 16]) == 2

    third = new_key(clarion(stack, "keys", "rotate", "staging-cli"))
    import hashlib

    prefix = hashlib.sha256(third.encode()).hexdigest()[:12]
    assert "revoked" in clarion(stack, "keys", "revoke", "staging-cli", prefix)
    assert stack.call("GET", "/v1/workflows", headers={"Authorization": f"ApiKey {third}"}).status_code == 401
    clarion(stack, "env", "limits", "staging-cli", "--per-second", "1", "--burst", "3")

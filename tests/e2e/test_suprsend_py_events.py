"""suprsend-py-sdk 0.20, unmodified, against the local stack: `user.get_instance(id)` ... `.save()`
(`POST /event/`), `track_event` (`POST /v2/event/`) and bulk events (`POST /v2/bulk/event/`),
with Bearer auth and with its HMAC signature."""

from __future__ import annotations

import importlib.util
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import API_KEY, RunningStack
from tests.e2e.test_suprsend_node_sdk import new_environment

pytestmark = pytest.mark.skipif(
    not os.environ.get("CLARION_REQUIRE_SDKS") and importlib.util.find_spec("suprsend") is None,
    reason="install the Python SDKs: .venv/bin/pip install -r tests/e2e/sdk/requirements.txt",
)


def clients(url: str, workspace: str, secret: str) -> dict[str, Any]:
    from suprsend import Suprsend

    return {
        "bearer": Suprsend.with_workspace_api_key(workspace, secret, base_url=url),
        "hmac": Suprsend(workspace, secret, base_url=url),
    }


def eventually(check: Callable[[], Any], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.25)
    return value


@pytest.mark.parametrize("auth", ["bearer", "hmac"])
def test_user_save_edits_the_profile(stack: RunningStack, auth: str) -> None:
    client = clients(stack.url, "development", API_KEY)[auth]
    distinct_id = f"py-{auth}-{uuid.uuid4().hex[:8]}"
    user = client.user.get_instance(distinct_id)
    user.set({"name": "Grace"})
    user.add_email("grace@example.com")
    user.add_iospush("ios-9", provider="apns")
    user.set_locale("en-GB")
    answer = user.save()
    assert (answer["success"], answer["status_code"]) == (True, 202), answer
    view = stack.call("GET", f"/v1/subscribers/{distinct_id}").json()["data"]
    assert (view["email"], view["locale"], view["data"]) == ("grace@example.com", "en-GB", {"name": "Grace"})
    assert view["channels"] == [{"providerId": "apns", "credentials": {"deviceTokens": ["ios-9"]}}]


def test_track_event_and_bulk_events_start_the_declared_workflow(stack: RunningStack) -> None:
    from suprsend import Event

    workspace = f"suprsend-py-{uuid.uuid4().hex[:12]}"  # the SDK wants >= 20 characters
    secret = new_environment(stack, workspace)
    headers = {"Authorization": f"Bearer {secret}"}
    created = stack.call(
        "POST",
        "/v1/workflows",
        headers=headers,
        json={
            "workflowId": "shipped",
            "triggerEvent": "order_shipped",
            "steps": [
                {"stepId": "inbox", "type": "in_app", "content": {"body": "shipped {{ payload.order }}"}}
            ],
        },
    )
    assert created.status_code == 201, created.text
    client = clients(stack.url, workspace, secret)["hmac"]
    single = client.track_event(Event("py-buyer", "order_shipped", {"order": "A-1"}))
    assert (single["success"], single["status_code"]) == (True, 202), single
    assert [w["workflow"] for w in single["raw_response"]["workflows"]] == ["shipped"]
    events = client.bulk_events.new_instance()
    events.append(Event("py-buyer", "order_shipped", {"order": "A-2"}), Event("py-buyer", "unheard_of", {}))
    bulk = vars(events.trigger())
    assert (bulk["status"], bulk["total"], bulk["success"], bulk["failure"]) == ("success", 2, 2, 0), bulk

    def feed() -> list[str]:
        answer = stack.call("GET", "/v1/subscribers/py-buyer/notifications/feed", headers=headers)
        return sorted(m["content"]["body"] for m in answer.json()["data"])

    assert eventually(lambda: len(feed()) == 2)
    assert feed() == ["shipped A-1", "shipped A-2"]

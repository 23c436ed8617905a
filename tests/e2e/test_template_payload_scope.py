"""Novu v1 templates read payload fields at the top level (`Hello {{firstName}}`): a workflow
written that way, triggered with Novu's Python SDK over HTTP on the local stack, renders them;
the named scopes (`subscriber`, `payload`, ...) win where a payload field has their name."""

from __future__ import annotations

import importlib.util
import uuid
from typing import Any

import pytest

from tests import workflows as wf
from tests.e2e.conftest import API_KEY, RunningStack
from tests.e2e.test_local_stack import wait_for

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("novu_py") is None, reason="novu-py is a dev extra: pip install -e '.[dev]'"
)


def feed(stack: RunningStack, subscriber_id: str) -> list[dict[str, Any]]:
    answer = stack.call("GET", f"/v1/subscribers/{subscriber_id}/notifications/feed")
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()["data"]
    return rows


def test_a_novu_sdk_trigger_renders_payload_fields_at_the_top_level(stack: RunningStack) -> None:
    from novu_py import Novu
    from novu_py.utils import RetryConfig

    workflow_id = f"top-level-{uuid.uuid4().hex[:8]}"
    body = "Hello {{firstName}}, {{ order.total }} | {{ subscriber.firstName }} | {{ payload.subscriber }}"
    created = stack.call(
        "POST",
        "/v1/workflows",
        json=wf.workflow(
            workflow_id,
            wf.in_app(
                "inbox",
                body,
            ),
            name="Top level",
        ),
    )
    assert created.status_code == 201, created.text
    subscriber_id = f"ada-{uuid.uuid4().hex[:8]}"

    novu = Novu(secret_key=API_KEY, server_url=stack.url, retry_config=RetryConfig("none", None, False))
    answer = novu.trigger(
        trigger_event_request_dto={
            "workflow_id": workflow_id,
            "to": {"subscriber_id": subscriber_id, "first_name": "Stored Ada"},
            "payload": {"firstName": "Ada", "order": {"total": "12.50"}, "subscriber": "not the subscriber"},
        }
    )
    assert answer.result.status.value == "processed"

    rows = wait_for(lambda: feed(stack, subscriber_id))
    assert [row["content"]["body"] for row in rows] == ["Hello Ada, 12.50 | Stored Ada | not the subscriber"]

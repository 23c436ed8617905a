"""Novu's and SuprSend's own texts over HTTP on the local stack (issue 14), with the official SDKs
where they can send the request: an empty bulk is a 400 in each dialect's shape, an unknown
workflow says `workflow_not_found`, 101 events say class-validator's words, and SuprSend's
`POST /trigger/` replays an answer for an `Idempotency-Key` as Novu's routes do."""

from __future__ import annotations

import importlib.util
import os
import time
import uuid
from typing import Any

import pytest
import requests

from tests.e2e.conftest import API_KEY, RunningStack

REQUIRED = bool(os.environ.get("CLARION_REQUIRE_SDKS"))
needs_novu_py = pytest.mark.skipif(
    not REQUIRED and importlib.util.find_spec("novu_py") is None,
    reason="install the Python SDKs: .venv/bin/pip install -r tests/e2e/sdk/requirements.txt",
)
BEARER = {"Authorization": f"Bearer {API_KEY}"}


def novu_py_client(url: str) -> Any:
    from novu_py import Novu
    from novu_py.utils import RetryConfig

    return Novu(secret_key=API_KEY, server_url=url, retry_config=RetryConfig("none", None, False))


@needs_novu_py
def test_novu_py_empty_bulk_raises_payload_validation_error(stack: RunningStack) -> None:
    from novu_py import models

    with pytest.raises(models.PayloadValidationExceptionDto) as raised:
        novu_py_client(stack.url).trigger_bulk(bulk_trigger_event_dto={"events": []})
    data = raised.value.data
    assert (data.status_code, data.type) == (400, "bad_request")
    assert [(e.field, e.message) for e in data.errors] == [("events", "events should not be empty")]


@needs_novu_py
def test_novu_py_bulk_of_101_raises_validation_error_in_class_validator_words(stack: RunningStack) -> None:
    from novu_py import models

    events = [{"workflow_id": "welcome", "to": "novu-py-101"}] * 101
    with pytest.raises(models.ValidationErrorDto) as raised:
        novu_py_client(stack.url).trigger_bulk(bulk_trigger_event_dto={"events": events})
    data = raised.value.data
    assert data.status_code == 422
    assert data.errors["events"].messages[0] == "events must contain no more than 100 elements"
    assert data.message == "events: at most 100 events per request, got 101"


@needs_novu_py
def test_novu_py_unknown_workflow_says_workflow_not_found(stack: RunningStack) -> None:
    from novu_py import models

    client = novu_py_client(stack.url)
    answer = client.trigger_bulk(
        bulk_trigger_event_dto={"events": [{"workflow_id": "no-such-workflow", "to": "novu-py-nf"}]}
    )
    (item,) = [r.model_dump(by_alias=True, mode="json") for r in answer.result]
    assert (item["status"], item["error"]) == ("error", ["workflow_not_found"])
    with pytest.raises(models.ValidationErrorDto) as raised:
        client.trigger(trigger_event_request_dto={"workflow_id": "no-such-workflow", "to": "novu-py-nf"})
    assert raised.value.data.message == "workflow_not_found"
    assert raised.value.data.errors["name"].messages == ["workflow 'no-such-workflow' is not defined"]


def test_novu_bulk_item_says_novus_text_and_the_status_says_clarions(stack: RunningStack) -> None:
    transaction_id = f"nf-{uuid.uuid4().hex[:12]}"
    event = {"name": "no-such-workflow", "to": "x", "transactionId": transaction_id}
    answer = stack.call("POST", "/v1/events/trigger/bulk", json={"events": [event]})
    assert answer.status_code == 201
    assert answer.json()["data"] == [
        {
            "acknowledged": True,
            "status": "error",
            "error": ["workflow_not_found"],
            "transactionId": transaction_id,
        }
    ]
    (row,) = stack.call("GET", answer.headers["Location"] + "/records").json()["data"]
    assert (row["status"], row["error"]) == ("error", "workflow 'no-such-workflow' is not defined")


@pytest.mark.parametrize("path", ["/trigger/", "/event/", "/v2/event/", "/v2/bulk/event/"])
def test_suprsend_empty_bulk_is_a_400_in_suprsends_shape(stack: RunningStack, path: str) -> None:
    answer = requests.post(stack.url + path, json=[], headers=BEARER, timeout=30)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert (body["status"], body["error"]["type"]) == ("fail", "bad_request")
    assert body["message"] == body["error"]["message"]
    assert "non-empty array" in body["message"]


def test_suprsend_trigger_replays_its_answer_for_an_idempotency_key(stack: RunningStack) -> None:
    tag = uuid.uuid4().hex[:8]
    records = [
        {"workflow": "welcome", "recipients": [f"ss-idem-{tag}"], "data": {"n": 1}},
        {"workflow": "no-such-workflow", "recipients": [f"ss-idem-{tag}"], "data": {}},
    ]
    headers = {**BEARER, "Idempotency-Key": f"ss-{tag}"}
    first = requests.post(stack.url + "/trigger/", json=records, headers=headers, timeout=30)
    again = requests.post(stack.url + "/trigger/", json=records, headers=headers, timeout=30)
    assert first.status_code == again.status_code == 207, first.text
    assert again.json() == first.json()
    assert [r["status"] for r in first.json()["records"]] == ["success", "error"]
    assert again.headers["Idempotency-Replay"] == "true"
    assert "Idempotency-Replay" not in first.headers
    assert again.headers["Location"] == first.headers["Location"]
    other = requests.post(stack.url + "/trigger/", json=records[:1], headers=headers, timeout=30)
    assert other.status_code == 422
    assert other.json()["status"] == "fail"
    assert (
        other.json()["message"] == f"Idempotency-Key: key 'ss-{tag}' was already used with a different body"
    )

    def settled() -> dict[str, Any]:
        return dict(stack.call("GET", first.headers["Location"]).json()["data"])

    deadline = time.monotonic() + 30
    while settled()["status"] in ("queued", "processing") and time.monotonic() < deadline:
        time.sleep(0.25)
    assert settled()["counts"] == {"completed": 1, "error": 1}
    feed = stack.call("GET", f"/v1/subscribers/ss-idem-{tag}/notifications/feed").json()["data"]
    assert len(feed) == 1

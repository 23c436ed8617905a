"""`Idempotency-Key`: replay, conflict on another body, 409 while in progress."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clarion.api import idempotency
from clarion.api.errors import ApiError

from tests.integration.conftest import Cloud

ROUTE = "POST /v1/events/trigger/bulk"
BODY = {"events": [{"name": "welcome", "to": "ada"}, {"name": "nope", "to": "ada"}]}


def post(cloud: Cloud, body: Any, key: str) -> tuple[int, dict[str, str], Any]:
    return cloud.api(
        "POST", "/v1/events/trigger/bulk", raw_body=json.dumps(body), headers={"Idempotency-Key": key}
    )


def test_same_key_and_body_replays_the_first_answer_without_running_again(cloud: Cloud) -> None:
    status, headers, first = post(cloud, BODY, "k-1")
    assert status == 201
    assert "Idempotency-Replay" not in headers
    status, replay_headers, again = post(cloud, BODY, "k-1")
    assert status == 201
    assert again == first
    assert replay_headers["Idempotency-Replay"] == "true"
    assert replay_headers["Location"] == headers["Location"]
    assert len(cloud.receive("TriggerQueue", 20)) == 1  # only the first request enqueued


def test_same_key_with_another_body_is_422_and_keys_are_per_environment(cloud: Cloud) -> None:
    assert post(cloud, BODY, "k-2")[0] == 201
    status, _, body = post(cloud, {"events": [{"name": "welcome", "to": "bob"}]}, "k-2")
    assert status == 422
    assert "Idempotency-Key" in body["message"]
    from clarion.store import environments

    with cloud.configured_as("ApiFunction"):
        environments.create_environment("staging", "staging-key")
    status, headers, _ = cloud.api(
        "POST",
        "/v1/events/trigger/bulk",
        raw_body=json.dumps(BODY),
        key="staging-key",
        headers={"Idempotency-Key": "k-2"},
    )
    assert status == 201
    assert "Idempotency-Replay" not in headers


def test_duplicate_while_the_first_runs_is_409_with_retry_after(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def nested() -> Any:  # the duplicate arrives while the first request is still running
        with pytest.raises(ApiError) as conflict:
            idempotency.replayable("development", "k-3", "{}", None, nested, route=ROUTE)
        seen["error"] = conflict.value
        raise RuntimeError("first request crashed")

    with cloud.configured_as("ApiFunction"), pytest.raises(RuntimeError):
        idempotency.replayable("development", "k-3", "{}", None, nested, route=ROUTE)
    assert isinstance(seen["error"], idempotency.InProgressError)

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise seen["error"]

    monkeypatch.setattr(idempotency, "replayable", busy)
    status, headers, body = post(cloud, BODY, "k-3")
    assert status == 409
    assert headers["Retry-After"] == "1"
    assert body["statusCode"] == 409

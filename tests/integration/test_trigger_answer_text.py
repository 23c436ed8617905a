"""The Novu trigger routes render their answers themselves (api.events), as the resolver renders
a dict body: compact JSON through Powertools' encoder. The text a client reads is the same on a
first answer and on its Idempotency-Key replay, for the bulk, the single trigger and the broadcast."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clarion_cli.in_process import api_request
from clarion_cli.lambda_events import api_gateway_answer

from tests.integration.conftest import Cloud

BULK = {"events": [{"name": "welcome", "to": "ada"}, {"name": "nope", "to": ["bob", "carol"]}]}
ROUTES = [
    ("/v1/events/trigger/bulk", BULK),
    ("/v1/events/trigger", {"name": "welcome", "to": {"subscriberId": "ada", "firstName": "Ada ü"}}),
    ("/v1/events/trigger/broadcast", {"name": "welcome", "payload": {"note": "\u00e9t\u00e9 ☀"}}),
]


def answer_text(
    cloud: Cloud, path: str, body: Any, key: str | None = None
) -> tuple[int, dict[str, str], str]:
    headers = {"Idempotency-Key": key} if key else {}
    status, answer_headers, payload = api_gateway_answer(
        cloud.invoke("ApiFunction", api_request("POST", path, raw_body=json.dumps(body), headers=headers))
    )
    return status, answer_headers, payload.decode()


def rendered_as_the_resolver_would(text: str) -> str:
    return json.dumps(json.loads(text), separators=(",", ":"))


@pytest.mark.parametrize(("path", "body"), ROUTES)
def test_an_answer_is_compact_json_and_its_replay_is_the_same_text(
    cloud: Cloud, path: str, body: dict[str, Any]
) -> None:
    status, headers, first = answer_text(cloud, path, body, key=f"text-{path}")
    replay_status, replay_headers, again = answer_text(cloud, path, body, key=f"text-{path}")

    assert status == replay_status == 201
    assert headers["Content-Type"] == "application/json"
    assert first == rendered_as_the_resolver_would(first)
    assert again == first
    assert replay_headers["Idempotency-Replay"] == "true"


def test_a_bulk_answer_without_a_key_is_one_item_per_event_in_order(cloud: Cloud) -> None:
    status, headers, text = answer_text(cloud, "/v1/events/trigger/bulk", BULK)

    assert status == 201
    assert text == rendered_as_the_resolver_would(text)
    items = json.loads(text)["data"]
    assert [item["status"] for item in items] == ["processed", "error"]
    assert items[1]["error"] == ["workflow_not_found"]
    assert headers["Location"].startswith("/v1/events/trigger/bulk/")

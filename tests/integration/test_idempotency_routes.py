"""An Idempotency-Key belongs to the method and route it was first used on (issue 11, point 10):
the same key on another route is a 422 naming that route, never a replay of another answer."""

from __future__ import annotations

import json

from tests.integration.conftest import Cloud

TRIGGER, BULK, BROADCAST = "/v1/events/trigger", "/v1/events/trigger/bulk", "/v1/events/trigger/broadcast"
BODY = json.dumps({"name": "welcome", "to": "s0", "payload": {"n": 1}})


def post(cloud: Cloud, path: str, key: str, body: str = BODY) -> tuple[int, dict[str, str], dict]:
    return cloud.api("POST", path, raw_body=body, headers={"Idempotency-Key": key})


def feed_size(cloud: Cloud, subscriber_id: str) -> int:
    return len(cloud.api("GET", f"/v1/subscribers/{subscriber_id}/notifications/feed")[2]["data"])


def test_key_used_on_trigger_is_refused_on_broadcast_with_the_same_body(cloud: Cloud) -> None:
    for subscriber_id in ("s0", "s1", "s2"):
        assert cloud.api("POST", "/v1/subscribers", {"subscriberId": subscriber_id})[0] == 201
    status, headers, first = post(cloud, TRIGGER, "K")
    assert status == 201 and "Idempotency-Replay" not in headers

    status, headers, refused = post(cloud, BROADCAST, "K")
    assert status == 422
    assert "Idempotency-Replay" not in headers
    assert refused["message"].startswith("Idempotency-Key: ")
    assert f"already used on POST {TRIGGER};" in refused["message"]
    assert f"cannot be used on POST {BROADCAST}" in refused["message"]
    assert refused["errors"]["Idempotency-Key"]["value"] == "K"
    assert (
        cloud.api(
            "POST",
            BULK,
            raw_body=json.dumps({"events": [json.loads(BODY)]}),
            headers={"Idempotency-Key": "K"},
        )[0]
        == 422
    )

    again = post(cloud, TRIGGER, "K")  # on its own route the key still replays
    assert again[0] == 201 and again[1]["Idempotency-Replay"] == "true" and again[2] == first

    cloud.drain()
    assert [feed_size(cloud, s) for s in ("s0", "s1", "s2")] == [1, 0, 0]  # no broadcast happened

    status, headers, broadcast = post(cloud, BROADCAST, "K-broadcast")
    assert status == 201 and "Idempotency-Replay" not in headers
    assert broadcast["data"]["transactionId"] != first["data"]["transactionId"]
    cloud.drain()
    assert [feed_size(cloud, s) for s in ("s0", "s1", "s2")] == [2, 1, 1]


def test_key_reused_with_another_body_on_its_route_says_so(cloud: Cloud) -> None:
    assert post(cloud, TRIGGER, "K2")[0] == 201
    status, _, body = post(cloud, TRIGGER, "K2", json.dumps({"name": "welcome", "to": "s9"}))
    assert status == 422
    assert body["message"] == "Idempotency-Key: key 'K2' was already used with a different body"

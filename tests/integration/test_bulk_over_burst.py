"""A bulk larger than the environment's burst can never pass the rate limit (issue 11, point 13):
it is a 422 in the dialect's shape naming the burst and the bulk's size, with no Retry-After."""

from __future__ import annotations

import json

from clarion.store import environments

from tests.integration.conftest import Cloud


def events(n: int) -> list[dict[str, object]]:
    return [{"name": "welcome", "to": f"u{i}"} for i in range(n)]


def limit_burst(cloud: Cloud, burst: int) -> None:
    with cloud.configured_as("ApiFunction"):
        environments.set_rate_limit("development", environments.RateLimit(per_second=1000, burst=burst))


def test_novu_bulk_over_the_burst_is_422_naming_burst_and_size_without_retry_after(cloud: Cloud) -> None:
    limit_burst(cloud, 40)
    status, headers, body = cloud.api("POST", "/v1/events/trigger/bulk", {"events": events(41)})
    assert status == 422
    assert "Retry-After" not in headers
    assert body["statusCode"] == 422
    assert "a bulk of 41 records exceeds this environment's burst of 40" in body["message"]
    assert body["errors"]["body"]["value"] == 41
    assert cloud.receive("TriggerQueue", 50) == []  # nothing enqueued
    assert (
        cloud.api("POST", "/v1/events/trigger/bulk", {"events": events(40)})[0] == 201
    )  # at the burst: fine


def test_suprsend_bulk_over_the_burst_is_422_in_suprsends_shape(cloud: Cloud) -> None:
    limit_burst(cloud, 3)
    records = [{"workflow": "welcome", "recipients": [f"u{i}"]} for i in range(4)]
    status, headers, body = cloud.api("POST", "/trigger/", raw_body=json.dumps(records))
    assert status == 422
    assert "Retry-After" not in headers
    assert body["status"] == "fail"
    assert body["error"]["type"] == "bulk_exceeds_burst"
    assert "a bulk of 4 records exceeds this environment's burst of 3" in body["message"]

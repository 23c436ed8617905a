"""Per-environment token bucket: a bulk of N costs N; 429 with Retry-After; limits per environment."""

from __future__ import annotations

from clarion.clock import ControlledClock
from clarion.model.packed import records_of
from clarion.store import environments

from tests.integration.conftest import Cloud


def bulk(n: int, start: int = 0) -> dict[str, object]:
    return {"events": [{"name": "welcome", "to": f"u{start + i}"} for i in range(n)]}


def test_bulk_costs_one_token_per_record_and_refusal_says_when_to_retry(
    cloud: Cloud, controlled: ControlledClock
) -> None:
    # On a clock that stands still: no token comes back between the requests, however slow they are.
    with cloud.configured_as("ApiFunction"):
        environments.set_rate_limit("development", environments.RateLimit(per_second=1, burst=30))
    status, headers, _ = cloud.api("POST", "/v1/events/trigger/bulk", bulk(20))
    assert status == 201
    assert headers["RateLimit-Limit"] == "30"
    assert headers["RateLimit-Remaining"] == "10"
    status, headers, _ = cloud.api("POST", "/v1/events/trigger/bulk", bulk(10, 20))
    assert status == 201
    assert headers["RateLimit-Remaining"] == "0"
    status, headers, body = cloud.api("POST", "/v1/events/trigger/bulk", bulk(1, 30))
    assert status == 429
    assert body["statusCode"] == 429
    assert int(headers["Retry-After"]) >= 1
    status, headers, _ = cloud.api("POST", "/v1/events/trigger/bulk", bulk(31))
    assert status == 422  # larger than the burst: it can never pass, so not a 429 (issue 11, point 13)
    assert "burst" in _["message"]
    queued = [
        r for m in cloud.receive("TriggerQueue", 40) for r in records_of(m["Body"])
    ]  # packed, model.packed
    assert len(queued) == 30  # refused requests enqueued nothing


def test_each_environment_has_its_own_bucket_and_limits(cloud: Cloud, controlled: ControlledClock) -> None:
    with cloud.configured_as("ApiFunction"):
        environments.set_rate_limit("development", environments.RateLimit(per_second=1, burst=5))
        environments.create_environment("staging", "staging-key")
    assert cloud.api("POST", "/v1/events/trigger/bulk", bulk(5))[0] == 201
    assert cloud.api("POST", "/v1/events/trigger/bulk", bulk(1))[0] == 429
    status, headers, _ = cloud.api("POST", "/v1/events/trigger/bulk", bulk(50), key="staging-key")
    assert status == 201
    assert headers["RateLimit-Limit"] == "2000"  # the default


def test_bucket_refills_over_time(cloud: Cloud, controlled: ControlledClock) -> None:
    with cloud.configured_as("ApiFunction"):
        environments.set_rate_limit("development", environments.RateLimit(per_second=10, burst=10))
    assert cloud.api("POST", "/v1/events/trigger/bulk", bulk(10))[0] == 201
    assert cloud.api("POST", "/v1/events/trigger/bulk", bulk(1))[0] == 429
    controlled.advance(0.5)  # half a second: five tokens back
    status, headers, _ = cloud.api("POST", "/v1/events/trigger/bulk", bulk(5))
    assert status == 201
    assert headers["RateLimit-Remaining"] == "0"
    controlled.advance(2.0)
    assert cloud.api("POST", "/v1/events/trigger/bulk", bulk(10))[0] == 201


def test_a_request_that_loses_a_race_for_the_bucket_is_not_refused(cloud: Cloud) -> None:
    from clarion.store import rate_buckets

    with cloud.configured_as("ApiFunction"):
        now = 1_000_000_000
        assert rate_buckets.take("development", now, 100, 10_000).allowed  # the bucket was idle
        rate_buckets._busy_hint["development"] = False  # another container still believes it idle
        second = rate_buckets.take("development", now, 100, 10_000)
        assert second.allowed and second.tat_us == now + 200
        rate_buckets._busy_hint["development"] = True  # and one that believes it busy, once idle again
        third = rate_buckets.take("development", now + 1_000, 100, 10_000)
        assert third.allowed and third.tat_us == now + 1_100
        assert not rate_buckets.take("development", now + 1_000, 9_950, 10_000).allowed  # beyond the burst

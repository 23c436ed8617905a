"""Rate limiting per environment: a token bucket (GCRA) where a bulk of N records costs N.
Answers carry `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`; a refusal is a 429
with `Retry-After`. A bulk larger than the burst can never pass: it is a 422 saying so, with no
`Retry-After`, since a retry would fail the same way."""

from __future__ import annotations

import math

from clarion import clock
from clarion.api.errors import TooManyRequestsError, UnprocessableError
from clarion.model.refusal import RefusalType
from clarion.store import environments, rate_buckets

_MICROS = 1_000_000


class BulkExceedsBurstError(UnprocessableError):
    error_type = RefusalType.BULK_EXCEEDS_BURST

    def __init__(self, size: int, burst: int) -> None:
        message = (
            f"a bulk of {size} records exceeds this environment's burst of {burst} and can never "
            f"be accepted; send at most {burst} records per request"
        )
        super().__init__(message, {"body": {"messages": [message], "value": size}})


def take(environment_id: str, cost: int) -> dict[str, str]:
    """Spend `cost` tokens or raise TooManyRequestsError; returns the headers to answer with."""
    limit = environments.rate_limit(environment_id)
    interval = _MICROS // limit.per_second
    tolerance = limit.burst * interval
    if cost > limit.burst:
        raise BulkExceedsBurstError(cost, limit.burst)
    now = clock.now_microseconds()
    shards = rate_buckets.shards_for(limit.per_second, limit.burst)
    taken = rate_buckets.take(environment_id, now, cost * interval, tolerance, shards=shards)
    if not taken.allowed:
        wait = taken.wait_us
        retry_after = str(max(math.ceil(wait / _MICROS), 1))
        raise TooManyRequestsError(
            f"rate limit of {limit.per_second} records/s exceeded; retry in {retry_after} s",
            headers=_answer_headers(limit.burst, taken, now, interval, tolerance)
            | {"Retry-After": retry_after},
        )
    return _answer_headers(limit.burst, taken, now, interval, tolerance)


def _answer_headers(
    burst: int, taken: rate_buckets.Taken, now: int, interval: int, tolerance: int
) -> dict[str, str]:
    """One bucket: its own state. Sharded: the room left in all shards (rate_buckets' tolerance)."""
    if taken.remaining_us is None:
        return _headers(burst, remaining(taken.tat_us, now, interval, tolerance), taken.tat_us - now)
    left = max(taken.remaining_us // interval, 0)
    return _headers(burst, left, tolerance - taken.remaining_us)


def remaining(tat: int, now: int, interval: int, tolerance: int) -> int:
    """Tokens left: how many more could be taken right now."""
    return max((tolerance - max(tat - now, 0)) // interval, 0)


def _headers(limit: int, left: int, until_full_us: int) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(left),
        "RateLimit-Reset": str(max(math.ceil(until_full_us / _MICROS), 0)),
    }

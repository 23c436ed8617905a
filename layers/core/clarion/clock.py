"""Time in one place, so tests can reason about it.

Every reading of the wall clock (and every wait between retries) goes through here. A test
holds the clock still with `controlled()` and moves it with `advance()`: nothing sleeps, and
nothing patches a module's `time`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass
class ControlledClock:
    """A clock that stands still until it is moved (`advance`, or a `sleep` on it)."""

    at: float

    def advance(self, seconds: float) -> None:
        self.at += seconds


_controlled: ControlledClock | None = None


def now() -> float:
    """Epoch seconds now, with the fraction."""
    return _controlled.at if _controlled is not None else time.time()


def now_seconds() -> int:
    """Epoch seconds now."""
    return int(now())


def now_microseconds() -> int:
    """Epoch microseconds now."""
    if _controlled is not None:
        return int(_controlled.at * 1_000_000)
    return time.time_ns() // 1000


def now_iso() -> str:
    moment = datetime.fromtimestamp(now(), UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def expires_in_days(days: int) -> int:
    """Epoch seconds `days` from now: the value DynamoDB TTL reads."""
    return now_seconds() + days * 86_400


def milliseconds_since(iso: str) -> float:
    """Milliseconds from an instant written by now_iso until now (never negative)."""
    then = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return max(0.0, (datetime.fromtimestamp(now(), UTC) - then).total_seconds() * 1000)


def sleep(seconds: float) -> None:
    """Wait (a backoff between retries); on a controlled clock, move it instead."""
    if _controlled is not None:
        _controlled.advance(seconds)
        return
    time.sleep(seconds)


@contextmanager
def controlled(at: float | None = None) -> Iterator[ControlledClock]:
    """Hold the clock at `at` (epoch seconds; now by default) until the block ends."""
    global _controlled
    previous = _controlled
    _controlled = ControlledClock(time.time() if at is None else at)
    try:
        yield _controlled
    finally:
        _controlled = previous


def epoch_seconds(iso: str) -> float:
    """Epoch seconds of an instant written by now_iso."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()

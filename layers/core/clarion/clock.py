"""Time in one place, so tests can reason about it."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_seconds() -> int:
    """Epoch seconds now."""
    return int(time.time())


def expires_in_days(days: int) -> int:
    """Epoch seconds `days` from now: the value DynamoDB TTL reads."""
    return int(time.time()) + days * 86_400


def milliseconds_since(iso: str) -> float:
    """Milliseconds from an instant written by now_iso until now (never negative)."""
    then = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return max(0.0, (datetime.now(UTC) - then).total_seconds() * 1000)


def epoch_seconds(iso: str) -> float:
    """Epoch seconds of an instant written by now_iso."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()

"""How long a delay or a digest window lasts: pure, no AWS."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

# A month is 30 days, as a window length (Novu's months unit).
UNIT_SECONDS = {
    "seconds": 1,
    "minutes": 60,
    "hours": 3600,
    "days": 86_400,
    "weeks": 7 * 86_400,
    "months": 30 * 86_400,
}
MAX_DELAY_SECONDS = 366 * 86_400  # a delay or a digest window: a year at most


def wait_seconds(step_id: str, content: dict[str, Any], now: float, kind: str = "delay") -> int:
    """`{"amount": 5, "unit": "minutes"}` (the amount may have been a template), or a delay's
    `{"until": "2030-01-01T09:00:00Z"}`: the seconds from `now` (0 once that time has passed)."""
    if kind == "delay" and "until" in content:
        text = str(content["until"]).strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            raise ValueError(
                f"delay '{step_id}' needs content.until as an ISO 8601 date, got {text!r}"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return _bounded(step_id, max(moment.timestamp() - now, 0), kind)
    unit = content.get("unit", "seconds")
    try:
        amount = float(content.get("amount", 0))
    except (TypeError, ValueError, OverflowError):
        amount = math.nan
    if not math.isfinite(amount) or amount < 0 or unit not in UNIT_SECONDS:
        raise ValueError(
            f"{kind} '{step_id}' needs content.amount, a number >= 0, and a unit of {list(UNIT_SECONDS)}"
        )
    return _bounded(step_id, amount * UNIT_SECONDS[unit], kind)


def _bounded(step_id: str, seconds: float, kind: str) -> int:
    if seconds > MAX_DELAY_SECONDS:
        raise ValueError(f"{kind} '{step_id}' is longer than {MAX_DELAY_SECONDS // 86_400} days")
    return int(seconds)

"""How long a delay or a digest window lasts: pure, no AWS."""

from __future__ import annotations

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
        return max(int(moment.timestamp() - now), 0)
    unit = content.get("unit", "seconds")
    try:
        amount = float(content.get("amount", 0))
    except (TypeError, ValueError):
        amount = -1
    if amount < 0 or unit not in UNIT_SECONDS:
        raise ValueError(f"{kind} '{step_id}' needs content.amount >= 0 and a unit of {list(UNIT_SECONDS)}")
    return int(amount * UNIT_SECONDS[unit])

"""The one place the Sequenzy routes hand workflow triggers to intake (a request's events, a
confirmation email, the triggers released when a subscriber confirms)."""

from __future__ import annotations

from clarion.dialects.sequenzy import Trigger, parse_trigger
from clarion.intake import accept_request
from clarion.model import Verdict

__all__ = ["Trigger", "start"]


def start(environment_id: str, triggers: list[Trigger]) -> tuple[list[Verdict], str | None]:
    """Each trigger's verdict, in order, and the bulk they were accepted as (None if none). The
    route has taken the request's tokens already (a confirmation's release takes none)."""
    if not triggers:
        return [], None
    accepted = accept_request(environment_id, triggers, parse_trigger, cost=0)
    return accepted.verdicts, accepted.bulk_id

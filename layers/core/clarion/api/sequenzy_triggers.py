"""The one place the Sequenzy routes hand workflow triggers to intake (a request's events, a
confirmation email, the triggers released when a subscriber confirms). Kept to one function so
that it can move onto intake's single entry point unchanged for its callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clarion.ids import generated_transaction_id
from clarion.intake import accept_request
from clarion.intake.accept import Candidate
from clarion.model import RecordOutcome, SubscriberProfile, TriggerRecord


@dataclass(frozen=True)
class Trigger:
    """Run `workflow_id` for one subscriber with `payload`; under `transaction_id` when given
    (claimed once per environment: a repeat is refused as reused), else a generated one."""

    workflow_id: str
    subscriber_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    transaction_id: str | None = None


def start(environment_id: str, triggers: list[Trigger]) -> tuple[list[RecordOutcome], str | None]:
    """Each trigger's verdict, in order, and the bulk they were accepted as (None if none). The
    route has taken the request's tokens already (a confirmation's release takes none)."""
    if not triggers:
        return [], None

    def parse(raw: Any, *, environment_id: str, bulk_id: str, index: int, accepted_at: str) -> Candidate:
        trigger: Trigger = raw
        return TriggerRecord(
            environment_id=environment_id,
            bulk_id=bulk_id,
            index=index,
            transaction_id=trigger.transaction_id or generated_transaction_id(bulk_id, index),
            workflow_id=trigger.workflow_id,
            recipients=[SubscriberProfile(subscriber_id=trigger.subscriber_id)],
            payload=trigger.payload,
            accepted_at=accepted_at,
        )

    accepted = accept_request(environment_id, triggers, parse, cost=0)
    return accepted.verdicts, accepted.bulk_id

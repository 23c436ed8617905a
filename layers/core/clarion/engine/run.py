"""Run one trigger record: every active step for every recipient, each side effect exactly once."""

from __future__ import annotations

from typing import Any

from clarion.channels import in_app
from clarion.clock import now_iso
from clarion.engine.render import TemplateError, render_content
from clarion.model import (
    RecordOutcome,
    RecordStatus,
    Step,
    StepOutcome,
    StepType,
    SubscriberProfile,
    TopicRef,
    TriggerRecord,
)
from clarion.store import subscribers, workflows


def run(record: TriggerRecord) -> RecordOutcome:
    workflow = workflows.get(record.environment_id, record.workflow_id)
    if workflow is None:
        return _outcome(record, RecordStatus.FAILED, f"workflow '{record.workflow_id}' no longer exists")
    if any(isinstance(r, TopicRef) for r in record.recipients):
        return _outcome(record, RecordStatus.FAILED, "topic recipients are not supported yet")
    profiles = [r for r in record.recipients if isinstance(r, SubscriberProfile)]
    now = now_iso()
    stored = subscribers.resolve(
        record.environment_id, profiles + ([record.actor] if record.actor else []), now
    )
    actor = stored.get(record.actor.subscriber_id) if record.actor else None
    steps: list[StepOutcome] = []
    for profile in profiles:
        subscriber = stored[profile.subscriber_id]
        scope = {
            "payload": record.payload,
            "subscriber": subscriber,
            "tenant": record.tenant or {},
            "actor": actor or {},
        }
        steps += [_run_step(record, step, subscriber["subscriberId"], scope, now) for step in workflow.steps]
    failed = [s for s in steps if s.status == "failed"]
    status = RecordStatus.FAILED if failed else RecordStatus.COMPLETED
    return _outcome(record, status, failed[0].detail if failed else None, steps)


def _run_step(
    record: TriggerRecord, step: Step, subscriber_id: str, scope: dict[str, Any], now: str
) -> StepOutcome:
    def outcome(status: str, detail: str | None = None) -> StepOutcome:
        return StepOutcome(subscriber_id=subscriber_id, step_id=step.step_id, status=status, detail=detail)

    if not step.active:
        return outcome("skipped", "step is not active")
    if step.type is not StepType.IN_APP:
        return outcome("failed", f"step type '{step.type.value}' is not supported yet")
    try:
        content = render_content(step.content, scope)
    except TemplateError as error:
        return outcome("failed", f"template error in {error}")
    message = {
        "transactionId": record.transaction_id,
        "subscriberId": subscriber_id,
        "workflowId": record.workflow_id,
        "stepId": step.step_id,
        "channel": step.type.value,
        "content": content,
        "payload": record.payload,
        "read": False,
        "seen": False,
        "createdAt": now,
    }
    sent = in_app.deliver(record.environment_id, record.transaction_id, subscriber_id, step.step_id, message)
    return outcome("sent" if sent else "duplicate")


def _outcome(
    record: TriggerRecord, status: RecordStatus, error: str | None, steps: list[StepOutcome] | None = None
) -> RecordOutcome:
    return RecordOutcome(
        environment_id=record.environment_id,
        bulk_id=record.bulk_id,
        index=record.index,
        transaction_id=record.transaction_id,
        workflow_id=record.workflow_id,
        status=status,
        error=error,
        steps=steps or [],
    )

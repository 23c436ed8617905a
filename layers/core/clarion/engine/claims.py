"""A step item claimed once per (transaction, recipient, step) before its side effect, and
settled after it (store.messages): what makes a redelivered record send nothing twice."""

from __future__ import annotations

from typing import Any

from clarion.engine.render import TemplateError, TemplateLimitError
from clarion.engine.scope import StepContext
from clarion.model import Step, StepOutcome, StepStatus, TriggerRecord
from clarion.store import items, messages

MAX_MESSAGE_BYTES = 380 * 1024  # a step item's document; the rest of the 400 KB is keys and indexes


def fields(record: TriggerRecord, step: Step, subscriber_id: str, created_at: str) -> dict[str, Any]:
    """What every step item says about itself."""
    return {
        "transactionId": record.transaction_id,
        "subscriberId": subscriber_id,
        "workflowId": record.workflow_id,
        "stepId": step.step_id,
        "channel": step.type.value,
        "createdAt": created_at,
    }


def claim(
    context: StepContext, step: Step, subscriber_id: str, message: dict[str, Any]
) -> dict[str, Any] | None:
    """Write the step item if it does not exist; the existing one if it does."""
    record = context.record
    body = fields(record, step, subscriber_id, context.now) | message
    return messages.claim(record.environment_id, record.transaction_id, subscriber_id, step.step_id, body)


def settle(
    context: StepContext, step: Step, subscriber_id: str, message: dict[str, Any], expected: StepStatus
) -> bool:
    """Replace the step item if its status is still `expected`."""
    record = context.record
    body = fields(record, step, subscriber_id, context.now) | message
    return messages.settle(
        record.environment_id, record.transaction_id, subscriber_id, step.step_id, body, expected
    )


def outcome(
    step: Step, subscriber_id: str, status: StepStatus | str, detail: str | None = None
) -> StepOutcome:
    return StepOutcome(
        subscriber_id=subscriber_id, step_id=step.step_id, status=StepStatus(status), detail=detail
    )


def existing_outcome(step: Step, subscriber_id: str, existing: dict[str, Any]) -> StepOutcome:
    """The outcome an earlier run of the step recorded."""
    return outcome(step, subscriber_id, existing["status"], existing.get("detail"))


def record_skip(context: StepContext, step: Step, subscriber_id: str, reason: str) -> StepOutcome:
    existing = claim(context, step, subscriber_id, {"status": StepStatus.SKIPPED, "detail": reason})
    if existing is not None:
        return existing_outcome(step, subscriber_id, existing)
    return outcome(step, subscriber_id, StepStatus.SKIPPED, reason)


def record_failure(context: StepContext, step: Step, subscriber_id: str, detail: str) -> StepOutcome:
    """A step that fails before any side effect: its row says why (a redelivery finds that row)."""
    existing = claim(context, step, subscriber_id, {"status": StepStatus.FAILED, "detail": detail})
    if existing is not None:
        return existing_outcome(step, subscriber_id, existing)
    return outcome(step, subscriber_id, StepStatus.FAILED, detail)


def template_detail(error: TemplateError) -> str:
    if isinstance(error, TemplateLimitError):
        return f"template limit reached in {error}"
    return f"template error in {error}"


def oversize(context: StepContext, step: Step, subscriber_id: str, message: dict[str, Any]) -> str | None:
    """Why this message cannot be stored: a DynamoDB item holds 400 KB, keys and indexes included."""
    document = fields(context.record, step, subscriber_id, context.now) | message
    size = len(items.json_value(document)["S"].encode())  # as store.messages writes it
    if size <= MAX_MESSAGE_BYTES:
        return None
    return (
        f"rendered message is {size // 1024} KB, over the {MAX_MESSAGE_BYTES // 1024} KB a message "
        "may hold (DynamoDB's item limit is 400 KB); not sent"
    )

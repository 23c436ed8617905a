"""Delay steps: how long, the pending step item, the continuation that comes back for it, and
what a continuation checks when it arrives (SQS delays a message 15 minutes at most, so a
longer wait arrives early and waits again)."""

from __future__ import annotations

from typing import Any

from clarion import clock
from clarion.engine.claims import claim, existing_outcome, fields, outcome, record_failure, template_detail
from clarion.engine.parts import MAX_SQS_DELAY, Parts
from clarion.engine.render import TemplateError, render_content
from clarion.engine.scope import StepContext
from clarion.engine.timing import wait_seconds
from clarion.model import (
    Continuation,
    Step,
    StepOutcome,
    StepStatus,
    SubscriberProfile,
    TriggerRecord,
    Workflow,
)
from clarion.store import messages


def delay_seconds(step_id: str, content: dict[str, Any], kind: str = "delay") -> int:
    """`{"amount": 5, "unit": "minutes"}` or `{"until": <date>}`; the amount may be a template."""
    return wait_seconds(step_id, content, clock.now(), kind)


def schedule(
    context: StepContext, step: Step, index: int, subscriber: dict[str, Any], scope: dict[str, Any]
) -> StepOutcome:
    """The step item `pending` until the delay ends, and a continuation for the steps after it."""
    subscriber_id = subscriber["subscriberId"]
    try:
        seconds = delay_seconds(step.step_id, render_content(step.content, scope))
    except TemplateError as error:
        return record_failure(context, step, subscriber_id, template_detail(error))
    except ValueError as error:
        return record_failure(context, step, subscriber_id, str(error))
    resume_at = clock.now_seconds() + seconds
    existing = claim(context, step, subscriber_id, {"status": StepStatus.PENDING, "resumeAt": resume_at})
    if existing is not None and existing["status"] != StepStatus.PENDING:
        return existing_outcome(step, subscriber_id, existing)
    resume_at = existing.get("resumeAt", resume_at) if existing else resume_at
    continuation = Continuation(
        kind="delay", subscriber_id=subscriber_id, step_index=index + 1, not_before=resume_at
    )
    come_back(context, continuation, subscriber_id)
    return outcome(step, subscriber_id, StepStatus.PENDING, f"resumes at {resume_at}")


def come_back(context: StepContext, continuation: Continuation, subscriber_id: str) -> None:
    """Enqueue a continuation for one recipient, delayed until its not_before (15 minutes at most:
    it waits again when it arrives early)."""
    profile = next(
        (
            r
            for r in context.record.recipients
            if isinstance(r, SubscriberProfile) and r.subscriber_id == subscriber_id
        ),
        None,
    )
    context.parts.add(
        context.record,
        continuation,
        min(max((continuation.not_before or 0) - clock.now_seconds(), 0), MAX_SQS_DELAY),
        recipients=[profile or SubscriberProfile(subscriber_id=subscriber_id)],
    )


def waits_more(record: TriggerRecord, continuation: Continuation, parts: Parts) -> bool:
    """A continuation that arrived before its not_before goes back to wait (True)."""
    remaining = (continuation.not_before or 0) - clock.now_seconds()
    if remaining > 0:
        parts.wait(record, continuation, remaining)
        return True
    return False


def pending_delay(record: TriggerRecord, workflow: Workflow, continuation: Continuation) -> Step | None:
    """The delay step this continuation resumes, if its item is still `pending` (not cancelled,
    not resumed by an earlier delivery of this part)."""
    delay_step = workflow.steps[continuation.step_index - 1]
    subscriber_id = continuation.subscriber_id or ""
    stored = messages.get(record.environment_id, record.transaction_id, subscriber_id, delay_step.step_id)
    if (stored or {}).get("status") != StepStatus.PENDING:
        return None
    return delay_step


def mark_resumed(record: TriggerRecord, delay_step: Step, subscriber_id: str) -> None:
    done = fields(record, delay_step, subscriber_id, clock.now_iso()) | {"status": StepStatus.RESUMED}
    messages.settle(
        record.environment_id,
        record.transaction_id,
        subscriber_id,
        delay_step.step_id,
        done,
        StepStatus.PENDING,
    )

"""The step loop: every step of the workflow for one subscriber, in order, from `start`. A
condition, preference or channel filter skips a step; a delay or a digest ends the loop (a
continuation runs the rest later); a failed step halts it when the step says so."""

from __future__ import annotations

from typing import Any

from clarion import clock
from clarion.engine import delays, digest, recipients
from clarion.engine.claims import record_skip
from clarion.engine.conditions import skip_reason
from clarion.engine.delivery import deliver
from clarion.engine.parts import Parts
from clarion.engine.recipients import Known
from clarion.engine.scope import StepContext
from clarion.model import StepOutcome, StepStatus, StepType, SubscriberProfile, TriggerRecord, Workflow


def run_for(
    record: TriggerRecord,
    workflow: Workflow,
    profiles: list[SubscriberProfile],
    start: int,
    parts: Parts,
    known: Known,
    step_scope: dict[str, Any] | None = None,
) -> list[StepOutcome]:
    """The steps from `start` for each of these subscribers."""
    now = clock.now_iso()
    recipients.resolve(record, profiles, known, now)
    context = StepContext(
        record,
        workflow,
        parts,
        now,
        recipients.actor_document(record, known),
        recipients.upsert_inline_tenant(record, now),
        step_scope,
    )
    outcomes: list[StepOutcome] = []
    for profile in profiles:
        subscriber = recipients.subscriber_document(profile, known)
        outcomes += run_steps(context, subscriber, start, profile.only_channels)
    return outcomes


def run_steps(
    context: StepContext, subscriber: dict[str, Any], start: int, only_channels: list[str] | None = None
) -> list[StepOutcome]:
    conditions = context.conditions_scope(subscriber)
    scope = context.template_scope(subscriber)
    subscriber_id = subscriber["subscriberId"]
    outcomes: list[StepOutcome] = []
    for index in range(start, len(context.workflow.steps)):
        step = context.workflow.steps[index]
        reason = skip_reason(step, context.workflow, subscriber, conditions, only_channels)
        if reason is not None:
            outcomes.append(record_skip(context, step, subscriber_id, reason))
            continue
        if step.type is StepType.DELAY:
            outcomes.append(delays.schedule(context, step, index, subscriber, scope))
            break
        if step.type is StepType.DIGEST:  # the window's owner runs the rest, once, later
            outcomes.append(digest.collect(context, step, index, subscriber, scope))
            break
        outcome = deliver(context, step, subscriber, scope)
        outcomes.append(outcome)
        if outcome.status == StepStatus.FAILED and step.on_failure == "halt":
            break
    return outcomes

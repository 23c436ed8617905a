"""Run one trigger record (or a part of one): every step for every recipient, in order, each side
effect claimed exactly once in the transaction's partition (engine.claims, store.messages).

A record's own run reports its outcome. Parts report nothing: a delay resumes one recipient
later (engine.delays), a digest window's owner sends the digest when the window ends
(engine.digest), a topic page or a page of the environment's subscribers (a broadcast) fans out
into a part of at most 100 of them (engine.recipients), and a fanout part runs the workflow for
its members. Parts travel back through the TriggerQueue (engine.parts). Each continuation kind
has one handler in `_CONTINUATIONS`."""

from __future__ import annotations

from collections.abc import Callable

from clarion.engine import delays, digest, matching, recipients
from clarion.engine.parts import Parts
from clarion.engine.recipients import Known
from clarion.engine.steps import run_for
from clarion.model import Continuation, RecordOutcome, RecordStatus, StepStatus, TriggerRecord, Workflow
from clarion.store import workflows


def run(record: TriggerRecord, parts: Parts, known: Known) -> RecordOutcome | None:
    """The record's outcome, or None for a part."""
    workflow = workflows.get(record.environment_id, record.workflow_id)
    if workflow is None:
        return RecordOutcome.of(
            record, RecordStatus.FAILED, f"workflow '{record.workflow_id}' no longer exists"
        )
    if record.continuation is None:
        return matching.matched(record, lambda own: _run_record(own, workflow, parts, known))
    _CONTINUATIONS[record.continuation.kind](record, workflow, record.continuation, parts, known)
    return None


def _run_record(record: TriggerRecord, workflow: Workflow, parts: Parts, known: Known) -> RecordOutcome:
    direct = recipients.expand(record, parts)
    steps = run_for(record, workflow, direct, 0, parts, known)
    failed = [s for s in steps if s.status == StepStatus.FAILED]
    status = RecordStatus.FAILED if failed else RecordStatus.COMPLETED
    return RecordOutcome.of(record, status, failed[0].detail if failed else None, steps=steps)


def _resume_delay(
    record: TriggerRecord, workflow: Workflow, continuation: Continuation, parts: Parts, known: Known
) -> None:
    """A delay's continuation: wait more (SQS delays are 15 minutes at most), or run the rest."""
    if delays.waits_more(record, continuation, parts):
        return
    delay_step = delays.pending_delay(record, workflow, continuation)
    if delay_step is None:
        return  # cancelled, or resumed by an earlier delivery of this part
    run_for(record, workflow, recipients.named(record), continuation.step_index, parts, known)
    delays.mark_resumed(record, delay_step, continuation.subscriber_id or "")


def _send_digest(
    record: TriggerRecord, workflow: Workflow, continuation: Continuation, parts: Parts, known: Known
) -> None:
    """The window's end: close it, read what it collected, run the rest once for its owner."""
    if delays.waits_more(record, continuation, parts):
        return
    window = digest.close_window(record, continuation)
    if window is None:
        return  # cancelled, or sent by an earlier delivery of this part
    profiles = recipients.named(record)
    run_for(record, workflow, profiles, continuation.step_index, parts, known, window.step_scope())
    digest.mark_sent(record, window)


def _expand_topic(
    record: TriggerRecord, workflow: Workflow, continuation: Continuation, parts: Parts, known: Known
) -> None:
    recipients.expand_topic_page(record, continuation, parts)


def _expand_broadcast(
    record: TriggerRecord, workflow: Workflow, continuation: Continuation, parts: Parts, known: Known
) -> None:
    recipients.expand_subscribers_page(record, continuation, parts)


def _fan_out(
    record: TriggerRecord, workflow: Workflow, continuation: Continuation, parts: Parts, known: Known
) -> None:
    run_for(record, workflow, recipients.named(record), 0, parts, known)


_CONTINUATIONS: dict[str, Callable[[TriggerRecord, Workflow, Continuation, Parts, Known], None]] = {
    "delay": _resume_delay,
    "digest": _send_digest,
    "topic": _expand_topic,
    "broadcast": _expand_broadcast,
    "fanout": _fan_out,
}

"""Digest steps (store.digests): a run reaching a digest step claims its step item as `digested`
(with its payload and window), then joins the window's bucket with one conditional UpdateItem
and stops. The run whose join opened the window owns it: its step item becomes `pending` and a
`digest` continuation comes back at the window's end, closes the bucket, reads the collected
payloads and runs the remaining steps once, with `step.digest = {events, count}` in scope
(Novu's `step.events` and `step.total_count` too); then the item is `resumed`. Every other
run's step stays `digested`. Cancelling the owner's transaction cancels the whole digest
(engine.cancel)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from clarion import clock
from clarion.engine.claims import claim, existing_outcome, outcome, settle, template_detail
from clarion.engine.conditions import lookup
from clarion.engine.delays import come_back, delay_seconds
from clarion.engine.render import TemplateError, render_content
from clarion.engine.scope import StepContext
from clarion.model import Continuation, Step, StepOutcome, StepStatus, TriggerRecord
from clarion.store import digests, messages

_DIGESTING = (StepStatus.DIGESTED, StepStatus.PENDING)


def collect(
    context: StepContext, step: Step, index: int, subscriber: dict[str, Any], scope: dict[str, Any]
) -> StepOutcome:
    """Join the subscriber's open window: the step item first (it keeps the payload and the window
    chosen, so a redelivery joins the same one), then one UpdateItem on the bucket. The run that
    opened the window schedules its end; every other run stops here."""
    record = context.record
    subscriber_id = subscriber["subscriberId"]
    try:
        content = render_content(step.content, scope)
        length = delay_seconds(step.step_id, content, kind="digest")
    except TemplateError as error:  # nothing claimed: the record's error says why
        return outcome(step, subscriber_id, StepStatus.FAILED, template_detail(error))
    except ValueError as error:
        return outcome(step, subscriber_id, StepStatus.FAILED, str(error))
    bucket = digests.Bucket.at(
        record.environment_id,
        record.workflow_id,
        subscriber_id,
        step.step_id,
        digest_key(content.get("digestKey"), scope),
        length,
        clock.now_seconds(),
    )
    item: dict[str, Any] = {
        "status": StepStatus.DIGESTED,
        "detail": _collected(bucket),
        "payload": record.payload,
        "digest": bucket.to_doc(),
    }
    existing = claim(context, step, subscriber_id, item)
    if existing is not None:
        if existing["status"] not in _DIGESTING or "digest" not in existing:
            return existing_outcome(step, subscriber_id, existing)
        item = existing
        bucket = digests.Bucket.from_doc(
            record.environment_id, record.workflow_id, subscriber_id, step.step_id, existing["digest"]
        )
    joined = digests.join(bucket, record.transaction_id)
    while joined is None:  # that window has closed: the next one, written down before joining it
        bucket = bucket.following(clock.now_seconds())
        moved = item | {"digest": bucket.to_doc(), "detail": _collected(bucket)}
        settle(context, step, subscriber_id, moved, expected=StepStatus(item["status"]))
        item = moved
        joined = digests.join(bucket, record.transaction_id)
    if joined.owner != record.transaction_id:
        return outcome(step, subscriber_id, StepStatus.DIGESTED, _collected(bucket))
    detail = f"collects events until {bucket.end}, then sends the digest"
    if item["status"] == StepStatus.DIGESTED:
        pending = item | {"status": StepStatus.PENDING, "detail": detail, "resumeAt": bucket.end}
        settle(context, step, subscriber_id, pending, expected=StepStatus.DIGESTED)
    continuation = Continuation(
        kind="digest",
        subscriber_id=subscriber_id,
        step_index=index + 1,
        not_before=bucket.end,
        step_id=step.step_id,
        digest_key=bucket.key,
        window_start=bucket.start,
    )
    come_back(context, continuation, subscriber_id)  # again on a redelivery: sending is idempotent
    return outcome(step, subscriber_id, StepStatus.PENDING, detail)


def _collected(bucket: digests.Bucket) -> str:
    return f"collected into the digest sent at {bucket.end}"


def digest_key(path: Any, scope: dict[str, Any]) -> str:
    """The value at `digestKey` (`payload.postId`; a bare `postId` is read from the payload, as
    Novu does), as text; "" without a key or a value."""
    if not isinstance(path, str) or not path.strip():
        return ""
    path = path.strip()
    root = scope if path.split(".", 1)[0] in scope else scope["payload"]
    value = lookup(root, path)
    if value is None or not isinstance(value, str | int | float | bool | list | dict):
        return ""  # absent: the events without a value share one bucket
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class ClosedWindow:
    """A digest window at its end, as its owner's continuation finds it."""

    bucket: digests.Bucket
    owned: dict[str, Any]  # the owner's step item
    events: list[dict[str, Any]]

    def step_scope(self) -> dict[str, Any]:
        return {
            "digest": {"events": self.events, "count": len(self.events)},
            "events": self.events,  # Novu's names
            "total_count": len(self.events),
        }


def close_window(record: TriggerRecord, continuation: Continuation) -> ClosedWindow | None:
    """Close the window this continuation owns and read what it collected; None if the owner's
    step is no longer pending (cancelled, or sent by an earlier delivery of this part)."""
    start = continuation.window_start or 0
    bucket = digests.Bucket(
        record.environment_id,
        record.workflow_id,
        continuation.subscriber_id or "",
        continuation.step_id or "",
        continuation.digest_key or "",
        start,
        (continuation.not_before or start) - start,
    )
    owned = digests.step_item(bucket, record.transaction_id)
    if owned is None or owned["status"] != StepStatus.PENDING:
        return None
    return ClosedWindow(bucket, owned, digests.payloads(bucket, digests.close(bucket)))


def mark_sent(record: TriggerRecord, window: ClosedWindow) -> None:
    done = window.owned | {
        "status": StepStatus.RESUMED,
        "detail": f"sent a digest of {len(window.events)} events",
    }
    messages.settle(
        record.environment_id,
        record.transaction_id,
        window.bucket.subscriber_id,
        window.bucket.step_id,
        done,
        StepStatus.PENDING,
    )

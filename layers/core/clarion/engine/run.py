"""Run one trigger record (or a part of one): every step for every recipient, in order, each side
effect claimed exactly once in the transaction's partition (store.messages).

A record's own run reports its outcome. Parts report nothing: a delay resumes one recipient
later, a digest window's owner sends the digest when the window ends, a topic page or a page of
the environment's subscribers (a broadcast) fans out into a part of at most 100 of them, and a
fanout part runs the workflow for its members. Parts travel back through the TriggerQueue
(`later`).

Digest (store.digests): a run reaching a digest step claims its step item as `digested` (with
its payload and window), then joins the window's bucket with one conditional UpdateItem and
stops. The run whose join opened the window owns it: its step item becomes `pending` and a
`digest` continuation comes back at the window's end, closes the bucket, reads the collected
payloads and runs the remaining steps once, with `step.digest = {events, count}` in scope
(Novu's `step.events` and `step.total_count` too); then the item is `resumed`. Every other
run's step stays `digested`. Cancelling the owner's transaction cancels the whole digest
(engine.cancel)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from clarion.channels import dispatch
from clarion.channels.delivery import Delivery, OutboundPolicy
from clarion.clock import now_iso
from clarion.config import settings
from clarion.engine.conditions import lookup, skip_reason
from clarion.engine.render import TemplateError, TemplateLimitError, render_content
from clarion.engine.timing import wait_seconds
from clarion.model import (
    Continuation,
    RecordOutcome,
    RecordStatus,
    Step,
    StepOutcome,
    StepType,
    SubscriberProfile,
    TopicRef,
    TriggerRecord,
    Workflow,
)
from clarion.model.trigger import AllSubscribers
from clarion.observability import count_delivery
from clarion.store import (
    digests,
    environments,
    integrations,
    items,
    messages,
    subscribers,
    tenants,
    topics,
    workflows,
)

TOPIC_PAGE = 100
BROADCAST_PAGE = 100
MAX_SQS_DELAY = 900
MAX_MESSAGE_BYTES = 380 * 1024  # a step item's document; the rest of the 400 KB is keys and indexes
_DELIVERY_ATTEMPTS = 3
_BACKOFF_SECONDS = 0.2


@dataclass
class Later:
    """What a record leaves for its batch: parts to enqueue on the TriggerQueue after the batch
    (each with its SQS delay), and the batch's subscribers as resolved so far (shared by its
    records, so a batch of ten reads and writes them once)."""

    parts: list[tuple[TriggerRecord, int]] = field(default_factory=list)
    known: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(
        self, record: TriggerRecord, continuation: Continuation, delay_seconds: int = 0, **changes: Any
    ) -> None:
        self.parts.append(
            (record.model_copy(update={"continuation": continuation, **changes}), delay_seconds)
        )


def prefetch_subscribers(records: list[TriggerRecord], later: Later) -> None:
    """Resolve the subscribers a batch's records name, once for the batch (per environment)."""
    by_environment: dict[str, dict[str, SubscriberProfile]] = {}
    for record in records:
        if record.continuation is None or record.continuation.kind == "fanout":
            named = [r for r in record.recipients if isinstance(r, SubscriberProfile)]
            for profile in named + ([record.actor] if record.actor else []):
                if not profile.transient:
                    by_environment.setdefault(record.environment_id, {})[profile.subscriber_id] = profile
    for environment_id, profiles in by_environment.items():
        later.known.update(subscribers.resolve(environment_id, list(profiles.values()), now_iso()))


def run(record: TriggerRecord, later: Later) -> RecordOutcome | None:
    """The record's outcome, or None for a part."""
    workflow = workflows.get(record.environment_id, record.workflow_id)
    if workflow is None:
        return RecordOutcome.of(
            record, RecordStatus.FAILED, f"workflow '{record.workflow_id}' no longer exists"
        )
    continuation = record.continuation
    if continuation is None:
        return _run_record(record, workflow, later)
    if continuation.kind == "delay":
        _resume(record, workflow, continuation, later)
    elif continuation.kind == "digest":
        _send_digest(record, workflow, continuation, later)
    elif continuation.kind == "topic":
        _expand_topic_page(record, continuation, later)
    elif continuation.kind == "broadcast":
        _expand_subscribers_page(record, continuation, later)
    else:
        _run_for(
            record, workflow, [r for r in record.recipients if isinstance(r, SubscriberProfile)], 0, later
        )
    return None


def _run_record(record: TriggerRecord, workflow: Workflow, later: Later) -> RecordOutcome:
    for topic in (r for r in record.recipients if isinstance(r, TopicRef)):
        later.add(record, Continuation(kind="topic", topic_key=topic.topic_key))
    if any(isinstance(r, AllSubscribers) for r in record.recipients):
        later.add(record, Continuation(kind="broadcast"))
    direct = [r for r in record.recipients if isinstance(r, SubscriberProfile)]
    steps = _run_for(record, workflow, direct, 0, later)
    failed = [s for s in steps if s.status == "failed"]
    status = RecordStatus.FAILED if failed else RecordStatus.COMPLETED
    return RecordOutcome.of(record, status, failed[0].detail if failed else None, steps=steps)


def _run_for(
    record: TriggerRecord,
    workflow: Workflow,
    profiles: list[SubscriberProfile],
    start: int,
    later: Later,
    step_scope: dict[str, Any] | None = None,
) -> list[StepOutcome]:
    now = now_iso()
    stored = later.known
    wanted = [p for p in profiles + ([record.actor] if record.actor else []) if not p.transient]
    missing = [p for p in wanted if p.subscriber_id not in stored]
    if missing:
        stored.update(subscribers.resolve(record.environment_id, missing, now))
    context = _Context(record, workflow, later, now, _actor(record, stored), _tenant(record, now), step_scope)
    outcomes: list[StepOutcome] = []
    for profile in profiles:
        subscriber = stored.get(profile.subscriber_id) or _transient(profile)
        outcomes += _run_steps(context, subscriber, start, profile.only_channels)
    return outcomes


@dataclass
class _Context:
    record: TriggerRecord
    workflow: Workflow
    later: Later
    now: str
    actor: dict[str, Any]
    tenant: dict[str, Any]
    step: dict[str, Any] | None = None  # what an earlier step hands on (`step.digest`)
    _policy: OutboundPolicy | None = None

    def integration(self, channel: str) -> dict[str, Any] | None:
        return integrations.for_record(self.record.environment_id, channel, self.record.accepted_at)

    def policy(self) -> OutboundPolicy:
        if self._policy is None:
            allow = environments.allows_loopback_urls(self.record.environment_id)
            self._policy = OutboundPolicy(allow_loopback=allow, stack_endpoints=settings().stack_endpoints())
        return self._policy


def _run_steps(
    context: _Context, subscriber: dict[str, Any], start: int, only_channels: list[str] | None = None
) -> list[StepOutcome]:
    record = context.record
    scope = {
        "payload": record.payload,
        "subscriber": subscriber,
        "tenant": context.tenant,
        "actor": context.actor,
    }
    if context.step is not None:
        scope["step"] = context.step
    outcomes: list[StepOutcome] = []
    for index in range(start, len(context.workflow.steps)):
        step = context.workflow.steps[index]
        reason = skip_reason(step, context.workflow, subscriber, scope, only_channels)
        if reason is not None:
            outcomes.append(_record_skip(context, step, subscriber, reason))
            continue
        if step.type is StepType.DELAY:
            outcomes.append(_schedule_delay(context, step, index, subscriber, scope))
            break
        if step.type is StepType.DIGEST:  # the window's owner runs the rest, once, later
            outcomes.append(_collect_digest(context, step, index, subscriber, scope))
            break
        outcome = _deliver(context, step, subscriber, scope)
        outcomes.append(outcome)
        if outcome.status == "failed" and step.on_failure == "halt":
            break
    return outcomes


def _fields(record: TriggerRecord, step: Step, subscriber_id: str, created_at: str) -> dict[str, Any]:
    """What every step item says about itself."""
    return {
        "transactionId": record.transaction_id,
        "subscriberId": subscriber_id,
        "workflowId": record.workflow_id,
        "stepId": step.step_id,
        "channel": step.type.value,
        "createdAt": created_at,
    }


def _claim(
    context: _Context, step: Step, subscriber_id: str, message: dict[str, Any]
) -> dict[str, Any] | None:
    record = context.record
    body = _fields(record, step, subscriber_id, context.now) | message
    return messages.claim(record.environment_id, record.transaction_id, subscriber_id, step.step_id, body)


def _settle(
    context: _Context, step: Step, subscriber_id: str, message: dict[str, Any], expected: str
) -> bool:
    record = context.record
    body = _fields(record, step, subscriber_id, context.now) | message
    return messages.settle(
        record.environment_id, record.transaction_id, subscriber_id, step.step_id, body, expected
    )


def _step_outcome(step: Step, subscriber_id: str, status: str, detail: str | None = None) -> StepOutcome:
    return StepOutcome(subscriber_id=subscriber_id, step_id=step.step_id, status=status, detail=detail)


def _record_skip(context: _Context, step: Step, subscriber: dict[str, Any], reason: str) -> StepOutcome:
    existing = _claim(context, step, subscriber["subscriberId"], {"status": "skipped", "detail": reason})
    if existing is not None:
        return _step_outcome(step, subscriber["subscriberId"], existing["status"], existing.get("detail"))
    return _step_outcome(step, subscriber["subscriberId"], "skipped", reason)


def _deliver(context: _Context, step: Step, subscriber: dict[str, Any], scope: dict[str, Any]) -> StepOutcome:
    subscriber_id = subscriber["subscriberId"]
    try:
        content = render_content(step.content, scope)
    except TemplateError as error:
        return _record_failure(context, step, subscriber_id, _template_detail(error))
    if step.type is StepType.IN_APP:
        message = {
            "status": "sent",
            "content": content,
            "payload": context.record.payload,
            "read": False,
            "seen": False,
        }
        if too_large := _oversize(context, step, subscriber_id, message):
            return _record_failure(context, step, subscriber_id, too_large)
        existing = _claim(context, step, subscriber_id, message)
        if existing is None:
            count_delivery(step.type.value, "clarion", "sent", context.record.accepted_at)
        return _step_outcome(step, subscriber_id, existing["status"] if existing else "sent")
    if too_large := _oversize(context, step, subscriber_id, {"status": "sending", "content": content}):
        return _record_failure(context, step, subscriber_id, too_large)  # before anything is sent
    existing = _claim(context, step, subscriber_id, {"status": "sending"})
    if existing is not None:
        return _after_redelivery(context, step, subscriber_id, existing)
    delivery = _send_with_retries(context, step, content, subscriber)
    settled = {
        "status": delivery.status,
        "detail": delivery.detail,
        "provider": delivery.provider_id,
        "providerMessageIds": list(delivery.message_ids),
        "content": content,
        "sentAt": now_iso(),
    }
    _settle(context, step, subscriber_id, settled, expected="sending")
    count_delivery(step.type.value, delivery.provider_id, delivery.status, context.record.accepted_at)
    return _step_outcome(step, subscriber_id, delivery.status, delivery.detail)


def _record_failure(context: _Context, step: Step, subscriber_id: str, detail: str) -> StepOutcome:
    """A step that fails before any side effect: its row says why (a redelivery finds that row)."""
    existing = _claim(context, step, subscriber_id, {"status": "failed", "detail": detail})
    if existing is not None:
        return _step_outcome(step, subscriber_id, existing["status"], existing.get("detail"))
    return _step_outcome(step, subscriber_id, "failed", detail)


def _template_detail(error: TemplateError) -> str:
    if isinstance(error, TemplateLimitError):
        return f"template limit reached in {error}"
    return f"template error in {error}"


def _oversize(context: _Context, step: Step, subscriber_id: str, message: dict[str, Any]) -> str | None:
    """Why this message cannot be stored: a DynamoDB item holds 400 KB, keys and indexes included."""
    document = _fields(context.record, step, subscriber_id, context.now) | message
    size = len(items.json_value(document)["S"].encode())  # as store.messages writes it
    if size <= MAX_MESSAGE_BYTES:
        return None
    return (
        f"rendered message is {size // 1024} KB, over the {MAX_MESSAGE_BYTES // 1024} KB a message "
        "may hold (DynamoDB's item limit is 400 KB); not sent"
    )


def _after_redelivery(
    context: _Context, step: Step, subscriber_id: str, existing: dict[str, Any]
) -> StepOutcome:
    """The step was claimed before. If the earlier worker stopped between the provider's answer
    and recording it, the outcome is unknown: it is recorded as failed, never sent again."""
    if existing["status"] != "sending":
        return _step_outcome(step, subscriber_id, existing["status"], existing.get("detail"))
    detail = "delivery outcome unknown: the worker stopped while sending; not sent again"
    _settle(context, step, subscriber_id, {"status": "failed", "detail": detail}, expected="sending")
    return _step_outcome(step, subscriber_id, "failed", detail)


def _send_with_retries(
    context: _Context, step: Step, content: dict[str, Any], subscriber: dict[str, Any]
) -> Delivery:
    record = context.record
    for attempt in range(_DELIVERY_ATTEMPTS):
        delivery = dispatch.send(
            step.type.value,
            content,
            subscriber,
            context.integration(step.type.value),
            record.overrides,
            context.policy(),
            transaction_id=record.transaction_id,
            payload=record.payload,
        )
        if delivery.status == "sent" or not delivery.retryable:
            return delivery
        if attempt < _DELIVERY_ATTEMPTS - 1:
            time.sleep(_BACKOFF_SECONDS * 2**attempt)
    return delivery


def delay_seconds(step_id: str, content: dict[str, Any], kind: str = "delay") -> int:
    """`{"amount": 5, "unit": "minutes"}` or `{"until": <date>}`; the amount may be a template."""
    return wait_seconds(step_id, content, time.time(), kind)


def _schedule_delay(
    context: _Context, step: Step, index: int, subscriber: dict[str, Any], scope: dict[str, Any]
) -> StepOutcome:
    subscriber_id = subscriber["subscriberId"]
    try:
        seconds = delay_seconds(step.step_id, render_content(step.content, scope))
    except TemplateError as error:
        return _record_failure(context, step, subscriber_id, _template_detail(error))
    except ValueError as error:
        return _record_failure(context, step, subscriber_id, str(error))
    resume_at = int(time.time()) + seconds
    existing = _claim(context, step, subscriber_id, {"status": "pending", "resumeAt": resume_at})
    if existing is not None and existing["status"] != "pending":
        return _step_outcome(step, subscriber_id, existing["status"], existing.get("detail"))
    resume_at = existing.get("resumeAt", resume_at) if existing else resume_at
    continuation = Continuation(
        kind="delay", subscriber_id=subscriber_id, step_index=index + 1, not_before=resume_at
    )
    _come_back(context, continuation, subscriber_id)
    return _step_outcome(step, subscriber_id, "pending", f"resumes at {resume_at}")


def _come_back(context: _Context, continuation: Continuation, subscriber_id: str) -> None:
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
    context.later.add(
        context.record,
        continuation,
        min(max((continuation.not_before or 0) - int(time.time()), 0), MAX_SQS_DELAY),
        recipients=[profile or SubscriberProfile(subscriber_id=subscriber_id)],
    )


def _resume(record: TriggerRecord, workflow: Workflow, continuation: Continuation, later: Later) -> None:
    """A delay's continuation: wait more (SQS delays are 15 minutes at most), or run the rest."""
    remaining = (continuation.not_before or 0) - int(time.time())
    if remaining > 0:
        later.add(record, continuation, min(remaining, MAX_SQS_DELAY))
        return
    delay_step = workflow.steps[continuation.step_index - 1]
    subscriber_id = continuation.subscriber_id or ""
    items = {
        (m["subscriberId"], m["stepId"]): m
        for m in messages.for_transaction(record.environment_id, record.transaction_id)
    }
    if items.get((subscriber_id, delay_step.step_id), {}).get("status") != "pending":
        return  # cancelled, or resumed by an earlier delivery of this part
    profiles = [r for r in record.recipients if isinstance(r, SubscriberProfile)]
    _run_for(record, workflow, profiles, continuation.step_index, later)
    done = _fields(record, delay_step, subscriber_id, now_iso()) | {"status": "resumed"}
    messages.settle(
        record.environment_id, record.transaction_id, subscriber_id, delay_step.step_id, done, "pending"
    )


_DIGESTING = ("digested", "pending")


def _collect_digest(
    context: _Context, step: Step, index: int, subscriber: dict[str, Any], scope: dict[str, Any]
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
        return _step_outcome(step, subscriber_id, "failed", _template_detail(error))
    except ValueError as error:
        return _step_outcome(step, subscriber_id, "failed", str(error))
    bucket = digests.Bucket.at(
        record.environment_id,
        record.workflow_id,
        subscriber_id,
        step.step_id,
        _digest_key(content.get("digestKey"), scope),
        length,
        int(time.time()),
    )
    item: dict[str, Any] = {
        "status": "digested",
        "detail": _collected(bucket),
        "payload": record.payload,
        "digest": bucket.to_doc(),
    }
    existing = _claim(context, step, subscriber_id, item)
    if existing is not None:
        if existing["status"] not in _DIGESTING or "digest" not in existing:
            return _step_outcome(step, subscriber_id, existing["status"], existing.get("detail"))
        item = existing
        bucket = digests.Bucket.from_doc(
            record.environment_id, record.workflow_id, subscriber_id, step.step_id, existing["digest"]
        )
    joined = digests.join(bucket, record.transaction_id)
    while joined is None:  # that window has closed: the next one, written down before joining it
        bucket = bucket.following(int(time.time()))
        moved = item | {"digest": bucket.to_doc(), "detail": _collected(bucket)}
        _settle(context, step, subscriber_id, moved, expected=item["status"])
        item = moved
        joined = digests.join(bucket, record.transaction_id)
    if joined.owner != record.transaction_id:
        return _step_outcome(step, subscriber_id, "digested", _collected(bucket))
    detail = f"collects events until {bucket.end}, then sends the digest"
    if item["status"] == "digested":
        pending = item | {"status": "pending", "detail": detail, "resumeAt": bucket.end}
        _settle(context, step, subscriber_id, pending, expected="digested")
    continuation = Continuation(
        kind="digest",
        subscriber_id=subscriber_id,
        step_index=index + 1,
        not_before=bucket.end,
        step_id=step.step_id,
        digest_key=bucket.key,
        window_start=bucket.start,
    )
    _come_back(context, continuation, subscriber_id)  # again on a redelivery: sending is idempotent
    return _step_outcome(step, subscriber_id, "pending", detail)


def _collected(bucket: digests.Bucket) -> str:
    return f"collected into the digest sent at {bucket.end}"


def _digest_key(path: Any, scope: dict[str, Any]) -> str:
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


def _send_digest(record: TriggerRecord, workflow: Workflow, continuation: Continuation, later: Later) -> None:
    """The window's end: close it, read what it collected, run the rest once for its owner."""
    remaining = (continuation.not_before or 0) - int(time.time())
    if remaining > 0:
        later.add(record, continuation, min(remaining, MAX_SQS_DELAY))
        return
    subscriber_id = continuation.subscriber_id or ""
    step_id = continuation.step_id or ""
    start = continuation.window_start or 0
    bucket = digests.Bucket(
        record.environment_id,
        record.workflow_id,
        subscriber_id,
        step_id,
        continuation.digest_key or "",
        start,
        (continuation.not_before or start) - start,
    )
    owned = digests.step_item(bucket, record.transaction_id)
    if owned is None or owned["status"] != "pending":
        return  # cancelled, or sent by an earlier delivery of this part
    events = digests.payloads(bucket, digests.close(bucket))
    step = {
        "digest": {"events": events, "count": len(events)},
        "events": events,  # Novu's names
        "total_count": len(events),
    }
    profiles = [r for r in record.recipients if isinstance(r, SubscriberProfile)]
    _run_for(record, workflow, profiles, continuation.step_index, later, step)
    done = owned | {"status": "resumed", "detail": f"sent a digest of {len(events)} events"}
    messages.settle(record.environment_id, record.transaction_id, subscriber_id, step_id, done, "pending")


def _expand_topic_page(record: TriggerRecord, continuation: Continuation, later: Later) -> None:
    """One page of members becomes a fanout part; the next page, another topic continuation."""
    members, cursor = topics.members_page(
        record.environment_id, continuation.topic_key or "", TOPIC_PAGE, continuation.cursor
    )
    _fan_out(record, continuation, members, cursor, later)


def _expand_subscribers_page(record: TriggerRecord, continuation: Continuation, later: Later) -> None:
    """A broadcast: one page of the environment's subscribers (by id) becomes a fanout part, the
    next page another broadcast continuation; the environment is never read at once."""
    found, cursor = subscribers.page(record.environment_id, BROADCAST_PAGE, continuation.cursor)
    _fan_out(record, continuation, [s["subscriberId"] for s in found], cursor, later)


def _fan_out(
    record: TriggerRecord, continuation: Continuation, ids: list[str], cursor: str | None, later: Later
) -> None:
    """A page of subscriber ids (without the actor) as a fanout part; the next page's continuation."""
    actor = record.actor.subscriber_id if record.actor else None
    recipients = [SubscriberProfile(subscriber_id=i) for i in ids if i != actor]
    if recipients:
        later.add(record, Continuation(kind="fanout"), recipients=recipients)
    if cursor:
        later.add(record, continuation.model_copy(update={"cursor": cursor}))


def _actor(record: TriggerRecord, stored: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if record.actor is None:
        return {}
    return stored.get(record.actor.subscriber_id) or _transient(record.actor)


def _tenant(record: TriggerRecord, now: str) -> dict[str, Any]:
    """The tenant in scope: the stored one, updated with inline data when the trigger carries any."""
    if not record.tenant or not record.tenant.get("identifier"):
        return {}
    identifier = str(record.tenant["identifier"])
    if record.continuation is None and (record.tenant.get("name") or record.tenant.get("data")):
        return tenants.upsert(
            record.environment_id, identifier, record.tenant.get("name"), record.tenant.get("data"), now
        )
    return tenants.get(record.environment_id, identifier) or dict(record.tenant)


def _transient(profile: SubscriberProfile) -> dict[str, Any]:
    return {"subscriberId": profile.subscriber_id} | profile.api_fields()

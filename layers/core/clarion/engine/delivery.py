"""A message step for one subscriber: render, claim, deliver through the channel (with retries
for a provider's passing failure), settle. An in-app message is stored, not sent."""

from __future__ import annotations

from typing import Any

from clarion import clock
from clarion.channels import dispatch
from clarion.channels.delivery import Delivery
from clarion.engine.claims import (
    claim,
    existing_outcome,
    outcome,
    oversize,
    record_failure,
    settle,
    template_detail,
)
from clarion.engine.render import TemplateError, render_content
from clarion.engine.scope import StepContext
from clarion.model import Step, StepOutcome, StepStatus, StepType
from clarion.observability import count_delivery

DELIVERY_ATTEMPTS = 3
BACKOFF_SECONDS = 0.2


def deliver(
    context: StepContext, step: Step, subscriber: dict[str, Any], scope: dict[str, Any]
) -> StepOutcome:
    subscriber_id = subscriber["subscriberId"]
    try:
        content = render_content(step.content, scope)
    except TemplateError as error:
        return record_failure(context, step, subscriber_id, template_detail(error))
    if step.type is StepType.IN_APP:
        return _store_in_app(context, step, subscriber_id, content)
    if too_large := oversize(
        context, step, subscriber_id, {"status": StepStatus.SENDING, "content": content}
    ):
        return record_failure(context, step, subscriber_id, too_large)  # before anything is sent
    existing = claim(context, step, subscriber_id, {"status": StepStatus.SENDING})
    if existing is not None:
        return _after_redelivery(context, step, subscriber_id, existing)
    delivery = _send_with_retries(context, step, content, subscriber)
    settled = {
        "status": delivery.status,
        "detail": delivery.detail,
        "provider": delivery.provider_id,
        "providerMessageIds": list(delivery.message_ids),
        "content": content,
        "sentAt": clock.now_iso(),
    }
    settle(context, step, subscriber_id, settled, expected=StepStatus.SENDING)
    count_delivery(step.type.value, delivery.provider_id, delivery.status, context.record.accepted_at)
    return outcome(step, subscriber_id, delivery.status, delivery.detail)


def _store_in_app(
    context: StepContext, step: Step, subscriber_id: str, content: dict[str, Any]
) -> StepOutcome:
    message = {
        "status": StepStatus.SENT,
        "content": content,
        "payload": context.record.payload,
        "read": False,
        "seen": False,
    }
    if too_large := oversize(context, step, subscriber_id, message):
        return record_failure(context, step, subscriber_id, too_large)
    existing = claim(context, step, subscriber_id, message)
    if existing is None:
        count_delivery(step.type.value, "clarion", StepStatus.SENT, context.record.accepted_at)
    return outcome(step, subscriber_id, existing["status"] if existing else StepStatus.SENT)


def _after_redelivery(
    context: StepContext, step: Step, subscriber_id: str, existing: dict[str, Any]
) -> StepOutcome:
    """The step was claimed before. If the earlier worker stopped between the provider's answer
    and recording it, the outcome is unknown: it is recorded as failed, never sent again."""
    if existing["status"] != StepStatus.SENDING:
        return existing_outcome(step, subscriber_id, existing)
    detail = "delivery outcome unknown: the worker stopped while sending; not sent again"
    settle(context, step, subscriber_id, {"status": StepStatus.FAILED, "detail": detail}, StepStatus.SENDING)
    return outcome(step, subscriber_id, StepStatus.FAILED, detail)


def _send_with_retries(
    context: StepContext, step: Step, content: dict[str, Any], subscriber: dict[str, Any]
) -> Delivery:
    record = context.record
    for attempt in range(DELIVERY_ATTEMPTS):
        delivery = dispatch.send(
            step.type.value,
            content,
            subscriber,
            context.integration(step.type.value),
            record.overrides,
            context.policy(),
            transaction_id=record.transaction_id,
            payload=record.payload,
            attachments=record.attachments,
        )
        if delivery.status == StepStatus.SENT or not delivery.retryable:
            return delivery
        if attempt < DELIVERY_ATTEMPTS - 1:
            clock.sleep(BACKOFF_SECONDS * 2**attempt)
    return delivery

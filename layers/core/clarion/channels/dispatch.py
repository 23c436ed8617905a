"""The one entry point the engine calls to deliver a rendered step to one subscriber.

    delivery = dispatch.send(step.type, content, subscriber, integration, record.overrides,
                             policy, transaction_id=record.transaction_id, payload=record.payload,
                             attachments=record.attachments)

`content` is the step's content after rendering; `subscriber` the stored subscriber document
(camelCase); `integration` the environment's active integration for the channel
(`{providerId, channel, credentials, active}`) or None; `overrides` the trigger's overrides
(each channel reads its own section, e.g. overrides.email); `attachments` the record's files for
an email. It never raises for a provider,
network or data problem: the answer is a Delivery. in_app, delay and digest are the engine's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clarion.channels.delivery import Delivery, OutboundPolicy
from clarion.model.step_status import StepStatus
from clarion.model.trigger import Attachment
from clarion.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client  # type: ignore[import-not-found,unused-ignore]
    from mypy_boto3_sns import SNSClient  # type: ignore[import-not-found,unused-ignore]

DELIVERY_STEP_TYPES = frozenset({"email", "sms", "chat", "push", "webhook"})

__all__ = ["DELIVERY_STEP_TYPES", "Clients", "Delivery", "OutboundPolicy", "send"]


@dataclass(frozen=True, slots=True)
class Clients:
    """AWS clients to use instead of the container's (tests, other regions)."""

    sesv2: SESV2Client | None = None
    sns: SNSClient | None = None


def send(
    step_type: str,
    content: Mapping[str, Any],
    subscriber: Mapping[str, Any],
    integration: Mapping[str, Any] | None,
    overrides: Mapping[str, Any],
    policy: OutboundPolicy,
    *,
    transaction_id: str,
    payload: Mapping[str, Any] | None = None,
    attachments: Sequence[Attachment] = (),
    clients: Clients | None = None,
) -> Delivery:
    """Deliver one rendered step. Raises ValueError only for a step type no channel delivers."""
    clients = clients or Clients()
    # Each channel is imported when a step first needs it: a worker that only stores in-app
    # messages never loads the HTTP, TLS and provider code at its cold start.
    from clarion.channels import chat, email, push, sms, webhook

    if step_type == "email":
        delivery = email.send(
            content, subscriber, integration, overrides, clients.sesv2, attachments=attachments, policy=policy
        )
    elif step_type == "sms":
        delivery = sms.send(content, subscriber, integration, overrides, clients.sns)
    elif step_type == "chat":
        delivery = chat.send(content, subscriber, integration, policy)
    elif step_type == "push":
        delivery = push.send(content, subscriber, integration, policy, transaction_id, clients.sns)
    elif step_type == "webhook":
        delivery = webhook.send(content, subscriber, integration, policy, transaction_id, payload)
    else:
        raise ValueError(f"step type '{step_type}' is not delivered by a channel")
    # Ids, provider and a detail that is free of personal data by construction; never content.
    (logger.info if delivery.status == StepStatus.SENT else logger.warning)(
        "delivery",
        extra={
            "transaction_id": transaction_id,
            "step_type": str(step_type),
            "provider": delivery.provider_id,
            "status": delivery.status,
            "retryable": delivery.retryable,
            "detail": delivery.detail,
        },
    )
    return delivery

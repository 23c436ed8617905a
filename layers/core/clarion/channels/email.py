"""Email through Amazon SES v2 (`send_email`, simple content).

Reads content `subject`, `body` (HTML when it holds a tag, text otherwise), optional `html` /
`text`, `from`, `senderName`, `replyTo`; the subscriber's `email` (or SuprSend `$email`); the
integration's credentials `from`, `senderName`, `replyTo`, `configurationSetName`. The trigger's
`overrides.email` (`from`, `senderName`, `replyTo`, `text`) wins over the step, which wins over
the integration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.utils import formataddr
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from clarion import aws
from clarion.channels import targets
from clarion.channels.delivery import Delivery, aws_failure, credentials, inactive, section, text_of

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client  # type: ignore[import-not-found,unused-ignore]

PROVIDER = "ses"
_TAG = re.compile(r"<[A-Za-z!/][^>]*>")


def send(
    content: Mapping[str, Any],
    subscriber: Mapping[str, Any],
    integration: Mapping[str, Any] | None,
    overrides: Mapping[str, Any],
    client: SESV2Client | None = None,
) -> Delivery:
    if inactive(integration):
        return Delivery.failed(PROVIDER, "email integration is not active")
    chosen = targets.provider((integration or {}).get("providerId")) or PROVIDER
    if chosen != PROVIDER:
        return Delivery.failed(chosen, f"email provider '{chosen}' is not supported: use ses")
    recipient = targets.email(subscriber)
    if recipient is None:
        return Delivery.failed(PROVIDER, "subscriber has no email address")
    given, override = credentials(integration), section(overrides, "email")

    def pick(name: str) -> str | None:
        return text_of(override, name) or text_of(content, name) or text_of(given, name)

    sender = pick("from")
    if sender is None:
        return Delivery.failed(
            PROVIDER, "no sender address: set 'from' on the integration, the step or overrides.email"
        )
    subject = text_of(content, "subject")
    if subject is None:
        return Delivery.failed(PROVIDER, "email step has no subject")
    html, text = text_of(content, "html"), text_of(override, "text") or text_of(content, "text")
    body = text_of(content, "body", "content")
    if body is not None and _TAG.search(body):
        html = html or body
    elif body is not None:
        text = text or body
    if html is None and text is None:
        return Delivery.failed(PROVIDER, "email step has no body")
    parts: dict[str, Any] = {}
    if html is not None:
        parts["Html"] = {"Data": html, "Charset": "UTF-8"}
    if text is not None:
        parts["Text"] = {"Data": text, "Charset": "UTF-8"}
    name = pick("senderName")
    request: dict[str, Any] = {
        "FromEmailAddress": formataddr((name, sender)) if name else sender,
        "Destination": {"ToAddresses": [recipient]},
        "Content": {"Simple": {"Subject": {"Data": subject, "Charset": "UTF-8"}, "Body": parts}},
    }
    reply_to = pick("replyTo")
    if reply_to is not None:
        request["ReplyToAddresses"] = [reply_to]
    configuration_set = text_of(given, "configurationSetName")
    if configuration_set is not None:
        request["ConfigurationSetName"] = configuration_set
    try:
        answer = (client or aws.sesv2()).send_email(**request)
    except (ClientError, BotoCoreError) as error:
        return aws_failure(PROVIDER, error)
    return Delivery.sent(PROVIDER, str(answer["MessageId"]))

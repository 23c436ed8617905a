"""Email through Amazon SES v2 (`send_email`: simple content, or raw MIME when it has attachments).

Reads content `subject`, `body` (HTML when it holds a tag, text otherwise), optional `html` /
`text`, `from`, `senderName`, `replyTo`; the subscriber's `email`; the
integration's credentials `from`, `senderName`, `replyTo`, `configurationSetName`. The trigger's
`overrides.email` (`from`, `senderName`, `replyTo`, `text`) wins over the step, which wins over
the integration.

Attachments are the trigger record's (model.trigger.Attachment): `data` (base64) or `url`
(fetched through the outbound checks, so never from a private or metadata address), with
`filename`, `content_type` and `ignore_if_error`. One that cannot be loaded fails the step
(retryable when the fetch may succeed later), or is left out with `ignore_if_error`.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from clarion import aws
from clarion.channels import outbound, targets
from clarion.channels.delivery import (
    Delivery,
    OutboundPolicy,
    aws_failure,
    credentials,
    inactive,
    section,
    text_of,
)
from clarion.model.trigger import Attachment as TriggerAttachment

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client  # type: ignore[import-not-found,unused-ignore]

PROVIDER = "ses"
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # each fetched file
MAX_MESSAGE_BYTES = 40 * 1024 * 1024  # SES's limit for a whole message, attachments included
_TAG = re.compile(r"<[A-Za-z!/][^>]*>")


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def send(
    content: Mapping[str, Any],
    subscriber: Mapping[str, Any],
    integration: Mapping[str, Any] | None,
    overrides: Mapping[str, Any],
    client: SESV2Client | None = None,
    *,
    attachments: Sequence[TriggerAttachment] = (),
    policy: OutboundPolicy | None = None,
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
    name = pick("senderName")
    reply_to = pick("replyTo")
    files = load_attachments(attachments, policy or OutboundPolicy())
    if isinstance(files, Delivery):
        return files
    request: dict[str, Any] = {
        "FromEmailAddress": formataddr((name, sender)) if name else sender,
        "Destination": {"ToAddresses": [recipient]},
    }
    if files:
        try:
            mime = _mime(request["FromEmailAddress"], recipient, reply_to, subject, html, text, files)
        except ValueError as error:  # a line break in a header (subject, file name, address)
            return Delivery.failed(PROVIDER, f"the email cannot be built: {error}")
        if len(mime) > MAX_MESSAGE_BYTES:
            return Delivery.failed(
                PROVIDER, f"the email with its attachments is over SES's {MAX_MESSAGE_BYTES} bytes"
            )
        request["Content"] = {"Raw": {"Data": mime}}
    else:
        parts: dict[str, Any] = {}
        if html is not None:
            parts["Html"] = {"Data": html, "Charset": "UTF-8"}
        if text is not None:
            parts["Text"] = {"Data": text, "Charset": "UTF-8"}
        request["Content"] = {"Simple": {"Subject": {"Data": subject, "Charset": "UTF-8"}, "Body": parts}}
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


def load_attachments(
    given: Sequence[TriggerAttachment], policy: OutboundPolicy
) -> list[Attachment] | Delivery:
    """The files to attach, or the failed delivery that one of them causes."""
    files: list[Attachment] = []
    for number, entry in enumerate(given, start=1):
        filename, content_type = _text(entry.filename), _text(entry.content_type)
        url, data = _text(entry.url), _text(entry.data)
        content, problem, retryable = b"", None, False
        if data is not None:
            try:
                content = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                problem = "data is not base64"
        elif url is not None:
            filename = filename or unquote(urlsplit(url).path.rpartition("/")[2]) or None
            try:
                result, content = outbound.get(
                    url,
                    MAX_ATTACHMENT_BYTES,
                    policy.timeout_seconds,
                    policy.allow_loopback,
                    stack_endpoints=policy.stack_endpoints,
                )
            except outbound.UnsafeUrlError as error:
                problem = error.reason
            else:
                if not result.ok or result.error is not None:  # an answer too long is 200 with an error
                    problem, retryable = result.error or "could not be loaded", result.retryable
        else:
            problem = "give url or data"
        if problem is not None:
            if entry.ignore_if_error:
                continue
            return Delivery.failed(PROVIDER, f"attachment {number}: {problem}", retryable)
        filename = filename or f"attachment-{number}"
        guessed = mimetypes.guess_type(filename)[0]
        files.append(Attachment(filename, content_type or guessed or "application/octet-stream", content))
    return files


def _text(value: str | None) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _mime(
    sender: str,
    recipient: str,
    reply_to: str | None,
    subject: str,
    html: str | None,
    text: str | None,
    files: list[Attachment],
) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, recipient, subject
    if reply_to is not None:
        message["Reply-To"] = reply_to
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    else:
        message.set_content(html or "", subtype="html")
    for file in files:
        maintype, _, subtype = file.content_type.partition("/")
        if not subtype:
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(file.content, maintype=maintype, subtype=subtype, filename=file.filename)
    return message.as_bytes()

"""SMS through Amazon SNS (`publish` to a phone number).

Reads content `body` (or `content`); the subscriber's `phone`, E.164; the
integration's credentials `senderId`, `smsType` (Transactional | Promotional) and
`originationNumber`; `overrides.sms.senderId` / `overrides.sms.from` win over the integration's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from clarion import aws
from clarion.channels import targets
from clarion.channels.delivery import Delivery, aws_failure, credentials, inactive, section, text_of

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient  # type: ignore[import-not-found,unused-ignore]

PROVIDER = "sns"


def send(
    content: Mapping[str, Any],
    subscriber: Mapping[str, Any],
    integration: Mapping[str, Any] | None,
    overrides: Mapping[str, Any],
    client: SNSClient | None = None,
) -> Delivery:
    if inactive(integration):
        return Delivery.failed(PROVIDER, "sms integration is not active")
    chosen = targets.provider((integration or {}).get("providerId")) or PROVIDER
    if chosen != PROVIDER:
        return Delivery.failed(chosen, f"sms provider '{chosen}' is not supported: use sns")
    number = targets.phone(subscriber)
    if number is None:
        return Delivery.failed(PROVIDER, "subscriber has no phone number")
    message = text_of(content, "body", "content")
    if message is None:
        return Delivery.failed(PROVIDER, "sms step has no body")
    given, override = credentials(integration), section(overrides, "sms")
    attributes: dict[str, Any] = {}
    for attribute, value in (
        ("AWS.SNS.SMS.SenderID", text_of(override, "senderId", "from") or text_of(given, "senderId")),
        ("AWS.SNS.SMS.SMSType", text_of(given, "smsType")),
        ("AWS.MM.SMS.OriginationNumber", text_of(given, "originationNumber")),
    ):
        if value is not None:
            attributes[attribute] = {"DataType": "String", "StringValue": value}
    request: dict[str, Any] = {"PhoneNumber": number, "Message": message}
    if attributes:
        request["MessageAttributes"] = attributes
    try:
        answer = (client or aws.sns()).publish(**request)
    except (ClientError, BotoCoreError) as error:
        return aws_failure(PROVIDER, error)
    return Delivery.sent(PROVIDER, str(answer["MessageId"]))

"""Push notifications, by one of two providers (the integration's providerId; default sns):

- `sns`: Amazon SNS mobile push, `publish(TargetArn=<endpoint ARN>, MessageStructure="json")`
  to each platform endpoint in the subscriber's push credentials (`endpointArns`). Optional
  integration credentials `platformApplicationArns` restrict which applications' endpoints
  may be used.
- `push-webhook`: one signed POST to the integration's credentials `webhookUrl` (secret
  `secretKey`) carrying the subscriber's device tokens; the receiver fans out to FCM/APNs/Expo.
  Body: `{transactionId, subscriberId, target: [tokens], title, body, data}`.

Reads content `title`, `body` (or `content`), and `data` (an object passed to the device).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from clarion import aws
from clarion.channels import outbound, signature, targets
from clarion.channels.delivery import (
    Delivery,
    OutboundPolicy,
    aws_failure,
    combine,
    credentials,
    http_delivery,
    inactive,
    text_of,
)

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient  # type: ignore[import-not-found,unused-ignore]

SNS = "sns"
PUSH_WEBHOOK = "push-webhook"


def send(
    content: Mapping[str, Any],
    subscriber: Mapping[str, Any],
    integration: Mapping[str, Any] | None,
    policy: OutboundPolicy,
    transaction_id: str,
    client: SNSClient | None = None,
) -> Delivery:
    chosen = targets.provider((integration or {}).get("providerId")) or SNS
    if inactive(integration):
        return Delivery.failed(chosen, "push integration is not active")
    title, body = text_of(content, "title", "subject"), text_of(content, "body", "content")
    if title is None and body is None:
        return Delivery.failed(chosen, "push step has no title or body")
    given_data = content.get("data")
    data: Mapping[str, Any] = given_data if isinstance(given_data, Mapping) else {}
    if chosen == PUSH_WEBHOOK:
        return _push_webhook(integration, subscriber, title, body, data, policy, transaction_id)
    if chosen == SNS:
        return _sns(integration, subscriber, title, body, data, policy, client)
    return Delivery.failed(chosen, f"push provider '{chosen}' is not supported: use sns or push-webhook")


def _push_webhook(
    integration: Mapping[str, Any] | None,
    subscriber: Mapping[str, Any],
    title: str | None,
    body: str | None,
    data: Mapping[str, Any],
    policy: OutboundPolicy,
    transaction_id: str,
) -> Delivery:
    given = credentials(integration)
    url = text_of(given, "webhookUrl", "url")
    secret = text_of(given, "secretKey", "secret")
    if url is None or secret is None:
        return Delivery.failed(
            PUSH_WEBHOOK, "push-webhook integration needs credentials webhookUrl and secretKey"
        )
    tokens = targets.device_tokens(subscriber, targets.identifier(integration))
    if not tokens:
        return Delivery.failed(PUSH_WEBHOOK, "subscriber has no push device tokens")
    message = {
        "transactionId": transaction_id,
        "subscriberId": subscriber.get("subscriberId"),
        "target": tokens,
        "title": title,
        "body": body,
        "data": dict(data),
    }
    raw = outbound.encode_json(message)
    headers = {signature.HEADER: signature.sign(secret, raw), signature.TRANSACTION_HEADER: transaction_id}
    return http_delivery(PUSH_WEBHOOK, url, raw, headers, policy)


def _sns(
    integration: Mapping[str, Any] | None,
    subscriber: Mapping[str, Any],
    title: str | None,
    body: str | None,
    data: Mapping[str, Any],
    policy: OutboundPolicy,
    client: SNSClient | None,
) -> Delivery:
    endpoints = targets.sns_endpoints(subscriber, targets.identifier(integration))
    allowed = credentials(integration).get("platformApplicationArns")
    if isinstance(allowed, list):
        endpoints = [arn for arn in endpoints if _application(arn) in allowed]
    if not endpoints:
        return Delivery.failed(SNS, "subscriber has no SNS push endpoint (credentials.endpointArns)")
    message = sns_message(title, body, data)
    attempted = endpoints[: policy.max_targets]
    results = []
    for arn in attempted:
        try:
            answer = (client or aws.sns()).publish(TargetArn=arn, Message=message, MessageStructure="json")
        except (ClientError, BotoCoreError) as error:
            results.append(aws_failure(SNS, error))
        else:
            results.append(Delivery.sent(SNS, str(answer["MessageId"])))
    return combine(SNS, "endpoints", results, skipped=len(endpoints) - len(attempted))


def sns_message(title: str | None, body: str | None, data: Mapping[str, Any]) -> str:
    """One message per platform, as MessageStructure=json wants it (each value a JSON string)."""
    alert = {k: v for k, v in (("title", title), ("body", body)) if v is not None}
    strings = {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}  # FCM: strings only
    fcm = json.dumps({"notification": alert, "data": strings})
    apns = json.dumps({**data, "aps": {"alert": alert}})
    return json.dumps({"default": body or title or "", "GCM": fcm, "APNS": apns, "APNS_SANDBOX": apns})


def _application(endpoint_arn: str) -> str:
    """arn:...:endpoint/GCM/app/<id> -> arn:...:app/GCM/app (its platform application)."""
    return endpoint_arn.replace(":endpoint/", ":app/", 1).rsplit("/", 1)[0]

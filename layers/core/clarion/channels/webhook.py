"""The `webhook` step: a signed HTTP POST of the rendered step to the user's own endpoint.

Reads content `url` (else the integration's credentials `url` / `webhookUrl`), `secret` (else
credentials `secretKey` / `secret`; required: nothing goes out unsigned), optional `headers`
(a flat map of extra header names to values) and optional `body` (a JSON object, or a string
holding JSON after rendering). Without `body` it sends
`{transactionId, subscriberId, payload, content}` where content is the rest of the step.
Headers: X-Clarion-Signature (see signature.py) and X-Clarion-Transaction-Id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from clarion.channels import outbound, signature
from clarion.channels.delivery import Delivery, OutboundPolicy, credentials, http_delivery, inactive, text_of

PROVIDER = "webhook"
_OWN_FIELDS = ("url", "secret", "headers", "body")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")
_RESERVED_HEADERS = frozenset({"host", "content-length", "content-type", "transfer-encoding", "connection"})


def send(
    content: Mapping[str, Any],
    subscriber: Mapping[str, Any],
    integration: Mapping[str, Any] | None,
    policy: OutboundPolicy,
    transaction_id: str,
    payload: Mapping[str, Any] | None = None,
) -> Delivery:
    if inactive(integration):
        return Delivery.failed(PROVIDER, "webhook integration is not active")
    given = credentials(integration)
    url = text_of(content, "url") or text_of(given, "url", "webhookUrl")
    if url is None:
        return Delivery.failed(PROVIDER, "webhook step has no url")
    secret = text_of(content, "secret") or text_of(given, "secretKey", "secret")
    if secret is None:
        return Delivery.failed(PROVIDER, "webhook step has no signing secret (credentials.secretKey)")
    extra = content.get("headers") or {}
    if not isinstance(extra, Mapping):
        return Delivery.failed(PROVIDER, "webhook headers must be an object of names to values")
    for name, value in extra.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            return Delivery.failed(PROVIDER, "webhook header name is not valid")
        if name.lower() in _RESERVED_HEADERS or name.lower().startswith("x-clarion-"):
            return Delivery.failed(PROVIDER, f"webhook header '{name}' may not be set")
        if not isinstance(value, str) or "\r" in value or "\n" in value:
            return Delivery.failed(PROVIDER, f"webhook header '{name}' needs a one-line string value")
    body = content.get("body")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return Delivery.failed(PROVIDER, "webhook body is not valid JSON after rendering")
    elif body is None:
        body = {
            "transactionId": transaction_id,
            "subscriberId": subscriber.get("subscriberId"),
            "payload": dict(payload or {}),
            "content": {k: v for k, v in content.items() if k not in _OWN_FIELDS},
        }
    data = outbound.encode_json(body)
    headers = {
        **extra,
        signature.HEADER: signature.sign(secret, data),
        signature.TRANSACTION_HEADER: transaction_id,
    }
    return http_delivery(PROVIDER, url, data, headers, policy)

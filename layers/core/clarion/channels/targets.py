"""Where a stored subscriber keeps its addresses for each channel.

Two shapes are read, whichever dialect wrote the subscriber:
- Novu: `email`, `phone`, and `channels: [{providerId, credentials: {webhookUrl, deviceTokens}}]`;
- SuprSend identities: `$email`, `$sms`, `$androidpush`, `$iospush`, `$slack`, `$ms_teams`
  (each a list or a single value), at the top level or inside `data`.
Clarion's own addition: push credentials may carry SNS `endpointArns` (or one `endpointArn`).
A channel entry tied to an integration (`integrationIdentifier`) is used only with that one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

CHAT_PROVIDERS = frozenset({"slack", "discord", "msteams"})
PUSH_PROVIDERS = frozenset({"fcm", "apns", "expo", "push-webhook", "sns"})
_ALIASES = {"ms_teams": "msteams", "ms-teams": "msteams", "teams": "msteams"}
_SUPRSEND_CHAT = {"$slack": "slack", "$ms_teams": "msteams"}
_SUPRSEND_PUSH = ("$androidpush", "$iospush")
# Only platform endpoints: a subscriber's data must never name a topic to publish to.
SNS_ENDPOINT_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:endpoint/[A-Za-z_]+/[^/\s]+/[^/\s]+$")


def provider(provider_id: Any) -> str:
    name = str(provider_id or "").strip().lower()
    return _ALIASES.get(name, name)


def email(subscriber: Mapping[str, Any]) -> str | None:
    return _first_string(subscriber.get("email"), *_identities(subscriber, "$email"))


def phone(subscriber: Mapping[str, Any]) -> str | None:
    return _first_string(subscriber.get("phone"), *_identities(subscriber, "$sms"))


def chat_webhooks(subscriber: Mapping[str, Any], integration: str | None = None) -> list[tuple[str, str]]:
    """(provider, webhook URL) pairs, in the order given, without repeats."""
    found: list[tuple[str, str]] = []
    for entry in _channels(subscriber, integration):
        name = provider(entry.get("providerId"))
        url = _credentials(entry).get("webhookUrl")
        if name in CHAT_PROVIDERS and isinstance(url, str) and url.strip():
            found.append((name, url.strip()))
    for key, name in _SUPRSEND_CHAT.items():
        for identity in _identities(subscriber, key):
            hook = identity.get("incoming_webhook") if isinstance(identity, Mapping) else None
            url = hook.get("url") if isinstance(hook, Mapping) else None
            if isinstance(url, str) and url.strip():
                found.append((name, url.strip()))
    return list(dict.fromkeys(found))


def device_tokens(subscriber: Mapping[str, Any], integration: str | None = None) -> list[str]:
    """Push device tokens (FCM, APNs, Expo, ...), SNS endpoint ARNs excluded."""
    tokens: list[str] = []
    for entry in _channels(subscriber, integration):
        if provider(entry.get("providerId")) in PUSH_PROVIDERS:
            tokens += _strings(_credentials(entry).get("deviceTokens"))
    for key in _SUPRSEND_PUSH:
        tokens += _strings(_identities(subscriber, key))
    return list(dict.fromkeys(t for t in tokens if not SNS_ENDPOINT_ARN.match(t)))


def sns_endpoints(subscriber: Mapping[str, Any], integration: str | None = None) -> list[str]:
    """SNS platform endpoint ARNs from push credentials (endpointArns, endpointArn, deviceTokens)."""
    arns: list[str] = []
    for entry in _channels(subscriber, integration):
        if provider(entry.get("providerId")) in PUSH_PROVIDERS:
            given = _credentials(entry)
            arns += _strings(given.get("endpointArns")) + _strings(given.get("endpointArn"))
            arns += _strings(given.get("deviceTokens"))
    return list(dict.fromkeys(a for a in arns if SNS_ENDPOINT_ARN.match(a)))


def identifier(integration: Mapping[str, Any] | None) -> str | None:
    value = (integration or {}).get("identifier")
    return value if isinstance(value, str) and value else None


def _channels(subscriber: Mapping[str, Any], integration: str | None) -> Iterator[Mapping[str, Any]]:
    """Novu channel entries; with an integration identifier, those not tied to another one."""
    channels = subscriber.get("channels")
    if isinstance(channels, list):
        for entry in channels:
            if not isinstance(entry, Mapping):
                continue
            tied = entry.get("integrationIdentifier")
            if integration is None or not tied or tied == integration:
                yield entry


def _credentials(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    value = entry.get("credentials")
    return value if isinstance(value, Mapping) else {}


def _identities(subscriber: Mapping[str, Any], key: str) -> list[Any]:
    data = subscriber.get("data")
    value = subscriber.get(key)
    if value is None and isinstance(data, Mapping):
        value = data.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _strings(value: Any) -> list[str]:
    values = value if isinstance(value, list | tuple) else [value]
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def _first_string(*values: Any) -> str | None:
    strings = _strings(list(values))
    return strings[0] if strings else None

"""Where a stored subscriber keeps its addresses for each channel (model.profile): `email`,
`phone`, and `channels: [{providerId, credentials: {webhookUrl, deviceTokens, ...}}]`, whichever
dialect wrote the subscriber (each adapter maps its own identities onto them).
Push credentials may also carry SNS `endpointArns` (or one `endpointArn`).
A channel entry tied to an integration (`integrationIdentifier`) is used only with that one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

CHAT_PROVIDERS = frozenset({"slack", "discord", "msteams"})
PUSH_PROVIDERS = frozenset({"fcm", "apns", "expo", "push-webhook", "sns"})
_ALIASES = {"ms_teams": "msteams", "ms-teams": "msteams", "teams": "msteams"}
# Only platform endpoints: a subscriber's data must never name a topic to publish to.
SNS_ENDPOINT_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:endpoint/[A-Za-z_]+/[^/\s]+/[^/\s]+$")


def provider(provider_id: Any) -> str:
    name = str(provider_id or "").strip().lower()
    return _ALIASES.get(name, name)


def email(subscriber: Mapping[str, Any]) -> str | None:
    return _first_string(subscriber.get("email"))


def phone(subscriber: Mapping[str, Any]) -> str | None:
    return _first_string(subscriber.get("phone"))


def chat_webhooks(subscriber: Mapping[str, Any], integration: str | None = None) -> list[tuple[str, str]]:
    """(provider, webhook URL) pairs, in the order given, without repeats."""
    found: list[tuple[str, str]] = []
    for entry in _channels(subscriber, integration):
        name = provider(entry.get("providerId"))
        url = _credentials(entry).get("webhookUrl")
        if name in CHAT_PROVIDERS and isinstance(url, str) and url.strip():
            found.append((name, url.strip()))
    return list(dict.fromkeys(found))


def device_tokens(subscriber: Mapping[str, Any], integration: str | None = None) -> list[str]:
    """Push device tokens (FCM, APNs, Expo, ...), SNS endpoint ARNs excluded."""
    tokens: list[str] = []
    for entry in _channels(subscriber, integration):
        if provider(entry.get("providerId")) in PUSH_PROVIDERS:
            tokens += _strings(_credentials(entry).get("deviceTokens"))
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


def _strings(value: Any) -> list[str]:
    values = value if isinstance(value, list | tuple) else [value]
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def _first_string(*values: Any) -> str | None:
    strings = _strings(list(values))
    return strings[0] if strings else None

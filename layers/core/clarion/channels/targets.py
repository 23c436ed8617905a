"""Where a stored subscriber keeps its addresses for each channel (model.profile): `email`,
`phone`, and `channels: [{providerId, credentials: {webhookUrl, deviceTokens, ...}}]`, whichever
dialect wrote the subscriber (each adapter maps its own identities onto them).
Push credentials may also carry SNS `endpointArns` (or one `endpointArn`).
A channel entry tied to an integration (`integrationIdentifier`) is used only with that one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from clarion.model.subscriber import ChannelEntry, ChannelIdentities

CHAT_PROVIDERS = frozenset({"slack", "discord", "msteams"})
PUSH_PROVIDERS = frozenset({"fcm", "apns", "expo", "push-webhook", "sns"})
_ALIASES = {"ms_teams": "msteams", "ms-teams": "msteams", "teams": "msteams"}
# Only platform endpoints: a subscriber's data must never name a topic to publish to.
SNS_ENDPOINT_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:endpoint/[A-Za-z_]+/[^/\s]+/[^/\s]+$")


def provider(provider_id: Any) -> str:
    name = str(provider_id or "").strip().lower()
    return _ALIASES.get(name, name)


def email(subscriber: Mapping[str, Any]) -> str | None:
    return ChannelIdentities.of(subscriber).email


def phone(subscriber: Mapping[str, Any]) -> str | None:
    return ChannelIdentities.of(subscriber).phone


def chat_webhooks(subscriber: Mapping[str, Any], integration: str | None = None) -> list[tuple[str, str]]:
    """(provider, webhook URL) pairs, in the order given, without repeats."""
    found = [(provider(name), url) for name, url in ChannelIdentities.of(subscriber).webhooks(integration)]
    return list(dict.fromkeys((name, url) for name, url in found if name in CHAT_PROVIDERS))


def device_tokens(subscriber: Mapping[str, Any], integration: str | None = None) -> list[str]:
    """Push device tokens (FCM, APNs, Expo, ...), SNS endpoint ARNs excluded."""
    tokens = [t for entry in _push_entries(subscriber, integration) for t in entry.strings("deviceTokens")]
    return list(dict.fromkeys(t for t in tokens if not SNS_ENDPOINT_ARN.match(t)))


def sns_endpoints(subscriber: Mapping[str, Any], integration: str | None = None) -> list[str]:
    """SNS platform endpoint ARNs from push credentials (endpointArns, endpointArn, deviceTokens)."""
    arns = [
        arn
        for entry in _push_entries(subscriber, integration)
        for name in ("endpointArns", "endpointArn", "deviceTokens")
        for arn in entry.strings(name)
    ]
    return list(dict.fromkeys(a for a in arns if SNS_ENDPOINT_ARN.match(a)))


def identifier(integration: Mapping[str, Any] | None) -> str | None:
    value = (integration or {}).get("identifier")
    return value if isinstance(value, str) and value else None


def _push_entries(subscriber: Mapping[str, Any], integration: str | None) -> list[ChannelEntry]:
    entries = ChannelIdentities.of(subscriber).usable_with(integration)
    return [e for e in entries if provider(e.provider_id) in PUSH_PROVIDERS]

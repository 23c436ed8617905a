"""Chat through incoming webhooks: Slack, Discord, Microsoft Teams.

The webhook URLs are the subscriber's (`channels[].credentials.webhookUrl` with providerId
slack / discord / msteams, whichever dialect's identities they came from). With an
integration, only its provider's webhooks are used; without one, all of them. Reads content
`body` (or `content` / `text`), optional `title`, and Slack `blocks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clarion.channels import targets
from clarion.channels.delivery import Delivery, OutboundPolicy, combine, http_delivery, inactive, text_of

DISCORD_LIMIT = 2000  # characters of `content`; Discord refuses longer messages


def send(
    content: Mapping[str, Any],
    subscriber: Mapping[str, Any],
    integration: Mapping[str, Any] | None,
    policy: OutboundPolicy,
) -> Delivery:
    wanted = targets.provider((integration or {}).get("providerId")) or None
    if inactive(integration):
        return Delivery.failed(wanted, "chat integration is not active")
    if wanted is not None and wanted not in targets.CHAT_PROVIDERS:
        return Delivery.failed(
            wanted, f"chat provider '{wanted}' is not supported: use slack, discord or msteams webhooks"
        )
    found = targets.chat_webhooks(subscriber, targets.identifier(integration))
    hooks = [(name, url) for name, url in found if wanted in (None, name)]
    if not hooks:
        return Delivery.failed(wanted, f"subscriber has no {wanted or 'chat'} webhook")
    text = text_of(content, "body", "content", "text")
    if text is None:
        return Delivery.failed(wanted or hooks[0][0], "chat step has no body")
    title = text_of(content, "title", "subject")
    attempted = hooks[: policy.max_targets]
    results = [
        http_delivery(name, url, message(name, text, title, content), None, policy) for name, url in attempted
    ]
    names = {name for name, _ in attempted}
    provider_id = wanted or (names.pop() if len(names) == 1 else "chat")
    return combine(provider_id, "webhooks", results, skipped=len(hooks) - len(attempted))


def message(provider: str, text: str, title: str | None, content: Mapping[str, Any]) -> dict[str, Any]:
    """The body each service's incoming webhook expects."""
    if provider == "discord":
        full = f"**{title}**\n{text}" if title else text
        return {"content": full if len(full) <= DISCORD_LIMIT else full[: DISCORD_LIMIT - 1] + "…"}
    if provider == "msteams":
        card: dict[str, Any] = {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": (title or text)[:80],
            "text": text,
        }
        if title:
            card["title"] = title
        return card
    slack: dict[str, Any] = {"text": f"*{title}*\n{text}" if title else text}
    if isinstance(content.get("blocks"), list):
        slack["blocks"] = content["blocks"]
    return slack

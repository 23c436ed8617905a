"""In-app: the message item itself is the delivery (the feed reads it back)."""

from __future__ import annotations

from typing import Any

from clarion.store import messages


def deliver(
    environment_id: str, transaction_id: str, subscriber_id: str, step_id: str, message: dict[str, Any]
) -> bool:
    """Store the message once. False when a redelivery finds it already there."""
    return messages.claim(environment_id, transaction_id, subscriber_id, step_id, message)

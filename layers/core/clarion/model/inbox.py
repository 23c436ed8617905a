"""A stored in-app message with its Inbox state: what store.inbox reads and the Inbox dialect
(dialects.novu_inbox) answers from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Row:
    """A stored in-app message with its Inbox state (store.inbox)."""

    id: str
    message: dict[str, Any]
    read_at: str | None = None
    seen_at: str | None = None
    archived_at: str | None = None
    snoozed_until: str | None = None
    completed: dict[str, bool] = field(default_factory=dict)  # "primary"/"secondary" -> done
    is_read: bool = False
    is_seen: bool = False
    is_archived: bool = False

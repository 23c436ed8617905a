"""The parts a record leaves behind: continuations to enqueue on the TriggerQueue once the batch
has run (a delay's resume, a digest window's end, a topic or broadcast page, a fanout)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clarion.model import Continuation, TriggerRecord

MAX_SQS_DELAY = 900  # seconds: SQS delays a message 15 minutes at most


@dataclass
class Parts:
    """Parts to enqueue after the batch, each with its SQS delay in seconds."""

    items: list[tuple[TriggerRecord, int]] = field(default_factory=list)

    def add(
        self, record: TriggerRecord, continuation: Continuation, delay_seconds: int = 0, **changes: Any
    ) -> None:
        self.items.append(
            (record.model_copy(update={"continuation": continuation, **changes}), delay_seconds)
        )

    def wait(self, record: TriggerRecord, continuation: Continuation, remaining: int) -> None:
        """The same continuation again, `remaining` seconds later (it waits again if that is
        more than SQS can delay)."""
        self.add(record, continuation, min(remaining, MAX_SQS_DELAY))

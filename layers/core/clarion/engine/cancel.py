"""Cancel a transaction: every pending delay of every recipient moves to `cancelled` with a
conditional update, racing fairly with resume (which needs it `pending`)."""

from __future__ import annotations

from clarion.clock import now_iso
from clarion.store import messages


def cancel_pending(environment_id: str, transaction_id: str) -> int:
    """How many pending steps were cancelled."""
    cancelled = 0
    for item in messages.for_transaction(environment_id, transaction_id):
        if item["status"] == "pending":
            update = item | {
                "status": "cancelled",
                "detail": "cancelled by the caller",
                "cancelledAt": now_iso(),
            }
            cancelled += messages.settle(
                environment_id,
                transaction_id,
                item["subscriberId"],
                item["stepId"],
                update,
                expected_status="pending",
            )
    return cancelled

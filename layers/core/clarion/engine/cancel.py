"""Cancel a transaction: every pending delay of every recipient moves to `cancelled` with a
conditional update, racing fairly with resume (which needs it `pending`).

A pending digest step is the owner of a digest window (engine.run). Cancelling it cancels the
whole digest, as in Novu: nothing is sent for any event the window collected, including other
transactions' events that joined it (their step items stay `digested`). The window is closed
too, so events arriving later in it open the next window instead of joining a dead digest.
Cancelling a transaction that only joined another's digest cancels nothing (its event is part
of that digest; cancel the owner's transaction to stop it)."""

from __future__ import annotations

from clarion.clock import now_iso
from clarion.model import StepType
from clarion.store import digests, messages


def cancel_pending(environment_id: str, transaction_id: str) -> int:
    """How many pending steps were cancelled."""
    cancelled = 0
    for item in messages.for_transaction(environment_id, transaction_id):
        if item["status"] != "pending":
            continue
        if item.get("channel") == StepType.DIGEST.value and item.get("digest"):
            # closed first: no event can join a window whose digest is being cancelled
            bucket = digests.Bucket.from_doc(
                environment_id, item["workflowId"], item["subscriberId"], item["stepId"], item["digest"]
            )
            digests.close(bucket, cancelled=True)
        update = item | {"status": "cancelled", "detail": "cancelled by the caller", "cancelledAt": now_iso()}
        cancelled += messages.settle(
            environment_id,
            transaction_id,
            item["subscriberId"],
            item["stepId"],
            update,
            expected_status="pending",
        )
    return cancelled

"""Cancel a transaction: every pending delay of every recipient moves to `cancelled` with a
conditional update, racing fairly with resume (which needs it `pending`).

A pending digest step is the owner of a digest window (engine.digest). Cancelling it cancels the
whole digest, as in Novu: nothing is sent for any event the window collected, including other
transactions' events that joined it (their step items stay `digested`). The window is closed
too, so events arriving later in it open the next window instead of joining a dead digest.
Cancelling a transaction that only joined another's digest cancels nothing (its event is part
of that digest; cancel the owner's transaction to stop it)."""

from __future__ import annotations

from collections.abc import Collection

from clarion.clock import now_iso
from clarion.model import StepStatus, StepType
from clarion.store import cancellations, digests, messages


def cancel_pending(
    environment_id: str,
    transaction_id: str,
    workflow_id: str | None = None,
    subscriber_ids: Collection[str] | None = None,
) -> int:
    """How many pending steps were cancelled (only the workflow's, and only these recipients',
    when given)."""
    cancelled = 0
    for item in messages.for_transaction(environment_id, transaction_id):
        if item["status"] != StepStatus.PENDING:
            continue
        if workflow_id is not None and item.get("workflowId") != workflow_id:
            continue
        if subscriber_ids is not None and item.get("subscriberId") not in subscriber_ids:
            continue
        if item.get("channel") == StepType.DIGEST.value and item.get("digest"):
            # closed first: no event can join a window whose digest is being cancelled
            bucket = digests.Bucket.from_doc(
                environment_id, item["workflowId"], item["subscriberId"], item["stepId"], item["digest"]
            )
            digests.close(bucket, cancelled=True)
        update = item | {
            "status": StepStatus.CANCELLED,
            "detail": "cancelled by the caller",
            "cancelledAt": now_iso(),
        }
        cancelled += messages.settle(
            environment_id,
            transaction_id,
            item["subscriberId"],
            item["stepId"],
            update,
            expected_status=StepStatus.PENDING,
        )
    return cancelled


def cancel_by_key(
    environment_id: str,
    cancellation_key: str,
    workflow_id: str | None = None,
    subscriber_ids: Collection[str] | None = None,
    transaction_id: str | None = None,
) -> list[str]:
    """Cancel the pending steps of every transaction whose trigger carried the cancellation key
    (SuprSend), or only of `transaction_id` if it is one: the transactionIds in which something
    was cancelled."""
    cancelled: list[str] = []
    for pointer in cancellations.transactions(environment_id, cancellation_key):
        if workflow_id is not None and pointer.get("workflowId") != workflow_id:
            continue
        if transaction_id is not None and pointer["transactionId"] != transaction_id:
            continue
        if cancel_pending(environment_id, pointer["transactionId"], workflow_id, subscriber_ids):
            cancelled.append(pointer["transactionId"])
    return cancelled

"""A bulk's status, derived from its counters (pure: no AWS)."""

from __future__ import annotations

from typing import Any

from clarion.model import RecordStatus


def bulk_view(bulk_id: str, header: dict[str, Any]) -> dict[str, Any]:
    """queued -> processing -> completed | partially_failed, with exact counts."""
    total: int = header["total"]
    counts: dict[str, int] = header["counts"]
    finished = sum(count for status, count in counts.items() if status != RecordStatus.QUEUED.value)
    failed = sum(count for status, count in counts.items() if status != RecordStatus.COMPLETED.value)
    done = finished >= total
    if done:
        status = "partially_failed" if failed else "completed"
    elif header.get("startedAt"):
        status = "processing"
    else:
        status = "queued"
    queued = max(total - finished, 0)
    return {
        "bulkId": bulk_id,
        "status": status,
        "total": total,
        "counts": {**counts, **({"queued": queued} if queued else {})},
        "createdAt": header.get("createdAt"),
        "startedAt": header.get("startedAt"),
        "completedAt": header.get("updatedAt") if done else None,
    }


def transaction_view(
    claim: dict[str, Any], row: dict[str, Any] | None, steps: list[dict[str, Any]]
) -> dict[str, Any]:
    """One trigger: its record's status and each recipient's step outcomes."""
    recipients: dict[str, list[dict[str, Any]]] = {}
    for step in steps:
        recipients.setdefault(step["subscriberId"], []).append(
            {name: step.get(name) for name in ("stepId", "channel", "status", "detail", "resumeAt")}
        )
    return {
        "transactionId": claim["transactionId"],
        "bulkId": claim["bulkId"],
        "index": claim["index"],
        "workflowId": (row or {}).get("workflowId", claim.get("workflowId")),
        "createdAt": claim["createdAt"],
        "status": row["status"] if row else RecordStatus.QUEUED.value,
        "error": row.get("error") if row else None,
        "recipients": [{"subscriberId": s, "steps": steps} for s, steps in recipients.items()],
    }

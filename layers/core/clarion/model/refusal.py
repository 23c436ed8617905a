"""Why a record was refused or failed, as the machine-readable `error_type` of its outcome, and
field errors named the way every dialect's answer names them."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any


class RefusalType(StrEnum):
    """A record's `error_type`: one word a caller's code can match on (Novu's where it has one)."""

    VALIDATION_ERROR = "validation_error"
    WORKFLOW_NOT_FOUND = "workflow_not_found"
    TRIGGER_NOT_ACTIVE = "trigger_not_active"
    NO_WORKFLOW_STEPS_DEFINED = "no_workflow_steps_defined"
    NO_WORKFLOW_ACTIVE_STEPS_DEFINED = "no_workflow_active_steps_defined"
    NO_TENANT_FOUND = "no_tenant_found"
    TRANSACTION_ID_REUSED = "transaction_id_reused"
    ENQUEUE_FAILED = "enqueue_failed"
    BULK_EXCEEDS_BURST = "bulk_exceeds_burst"
    PROFILE_NOT_FOUND = "profile_not_found"  # a MatchedProfile recipient (Altcraft) matched nobody
    # Reported by the worker, not at intake: the record failed its last attempt.
    DEAD_LETTERED = "dead_lettered"


VALIDATION_ERROR = RefusalType.VALIDATION_ERROR


def field_errors(errors: Iterable[Any], prefix: tuple[Any, ...] = ()) -> dict[str, Any]:
    """pydantic errors -> {"events.3.name": {"messages": [...], "type": ...}}: every field named."""
    named: dict[str, Any] = {}
    for error in errors:
        location = [str(part) for part in (*prefix, *error.get("loc", ())) if part not in ("body",)]
        name = ".".join(location) or "body"
        entry = named.setdefault(name, {"messages": [], "type": error.get("type", "invalid")})
        entry["messages"].append(error.get("msg", "invalid value"))
    return named


def field_messages(errors: Iterable[Any]) -> str:
    """pydantic errors as one line: `name: message; to.0: message`, every field named."""
    named = field_errors(errors)
    return "; ".join(f"{name}: {'; '.join(entry['messages'])}" for name, entry in named.items())

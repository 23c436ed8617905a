"""What intake answers for a record (Verdict), what the worker reports for it (RecordOutcome), and
the statuses a record can end in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from clarion.model.refusal import RefusalType
from clarion.model.step_status import StepStatus

if TYPE_CHECKING:
    from clarion.model.trigger import TriggerRecord


class RecordStatus(StrEnum):
    QUEUED = "queued"
    COMPLETED = "completed"
    FAILED = "failed"
    # Refused at the API (Novu's vocabulary): counted from the start.
    ERROR = "error"
    TRIGGER_NOT_ACTIVE = "trigger_not_active"
    NO_WORKFLOW_STEPS_DEFINED = "no_workflow_steps_defined"
    NO_WORKFLOW_ACTIVE_STEPS_DEFINED = "no_workflow_active_steps_defined"
    NO_TENANT_FOUND = "no_tenant_found"
    INVALID_RECIPIENTS = "invalid_recipients"

    @property
    def succeeded(self) -> bool:
        return self is RecordStatus.COMPLETED


class StepOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    subscriber_id: str
    step_id: str
    status: StepStatus
    detail: str | None = None


class RecordOutcome(BaseModel):
    """One record's final outcome, as it travels on the ResultsQueue."""

    model_config = ConfigDict(frozen=True)

    environment_id: str
    bulk_id: str
    index: int = Field(ge=0)
    transaction_id: str
    workflow_id: str | None = None
    status: RecordStatus
    error: str | None = None
    error_type: RefusalType | None = None  # machine-readable: workflow_not_found, validation_error, ...
    steps: list[StepOutcome] = Field(default_factory=list)

    @classmethod
    def of(
        cls,
        record: TriggerRecord,
        status: RecordStatus,
        error: str | None = None,
        error_type: RefusalType | str | None = None,
        steps: list[StepOutcome] | None = None,
    ) -> RecordOutcome:
        """The record's outcome, named as the record names itself (`error_type` one of RefusalType's
        values)."""
        return cls(
            environment_id=record.environment_id,
            bulk_id=record.bulk_id,
            index=record.index,
            transaction_id=record.transaction_id,
            workflow_id=record.workflow_id,
            status=status,
            error=error,
            error_type=RefusalType(error_type) if error_type else None,
            steps=steps or [],
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """What intake decided for one record of a request: QUEUED, or why not (a status, the
    machine-readable error type, Clarion's sentence). Every dialect's answer reads these, and the
    refused ones become their rows of the bulk's status. A plain dataclass, not a model: a bulk
    builds one per record from values already validated, where a RecordOutcome (what travels on
    the ResultsQueue, validated on the way in) costs more than the record's whole answer."""

    bulk_id: str
    index: int
    transaction_id: str
    workflow_id: str | None
    status: RecordStatus
    error: str | None = None
    error_type: RefusalType | None = None

    @classmethod
    def of(
        cls,
        record: TriggerRecord,
        status: RecordStatus,
        error_type: RefusalType | None = None,
        error: str | None = None,
    ) -> Verdict:
        return cls(
            record.bulk_id, record.index, record.transaction_id, record.workflow_id, status, error, error_type
        )

    @classmethod
    def of_refusal(cls, outcome: RecordOutcome) -> Verdict:
        """A dialect parser's refusal (a RecordOutcome) as intake's verdict."""
        return cls(
            outcome.bulk_id,
            outcome.index,
            outcome.transaction_id,
            outcome.workflow_id,
            outcome.status,
            outcome.error,
            outcome.error_type,
        )

"""What the OpenAPI document says the trigger routes answer, and the error bodies of every route:
models for the document only (the routes build these bodies in the dialects; a test checks that
real answers validate against them, tests/integration/test_openapi_document.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from clarion.dialects import novu
from clarion.model import RecordStatus
from clarion.model.identifiers import SubscriberId

# --- Novu ---------------------------------------------------------------------------------------


class NovuTriggerAnswer(BaseModel):
    """One event's outcome: `processed` when it was queued, else the refusal's status and why."""

    acknowledged: bool
    status: Literal["processed"] | RecordStatus
    transactionId: str
    error: list[str] | None = None


class NovuTriggerResponse(BaseModel):
    data: NovuTriggerAnswer


class NovuBulkTriggerResponse(BaseModel):
    """One answer per event, in request order; a refused event never fails its neighbours."""

    data: list[NovuTriggerAnswer]


class NovuBulkTriggerRequest(BaseModel):
    """Each event is read on its own by the dialect: one that breaks the model is answered
    `error` in its place, not as a 400 of the bulk."""

    events: Annotated[list[novu.NovuTriggerEvent], Field(max_length=novu.MAX_BULK_EVENTS)]


class FieldError(BaseModel):
    field: str
    message: str
    value: Any = None


class FieldMessages(BaseModel):
    messages: list[str]
    value: Any = None


class ErrorBody(BaseModel):
    """Novu's error body, on every route but SuprSend's: 400 lists field errors, 422 maps
    fields to messages."""

    model_config = ConfigDict(extra="allow")

    statusCode: int
    timestamp: str
    path: str
    message: str
    type: str | None = None
    errors: list[FieldError] | dict[str, FieldMessages] | None = None


# --- SuprSend -----------------------------------------------------------------------------------


class SuprSendError(BaseModel):
    message: str
    type: str


class SuprSendAccepted(BaseModel):
    message_id: str
    status: Literal["success"]


class SuprSendRecordAnswer(BaseModel):
    """One record of a 207 answer, in request order."""

    status: Literal["success", "error"]
    status_code: int
    message_id: str | None = None
    error: SuprSendError | None = None
    workflows: list[dict[str, Any]] | None = None


class SuprSendMultiStatus(BaseModel):
    records: list[SuprSendRecordAnswer]
    status: Literal["success"]


class SuprSendFailure(BaseModel):
    """SuprSend's error body (its routes only)."""

    status: Literal["fail"]
    message: str
    error: SuprSendError


class SuprSendUserEdit(BaseModel):
    """A user profile save of the SDKs (`user.get_instance(id) ... .save()`)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    distinct_id: SubscriberId
    user_operations: list[dict[str, Any]] | None = Field(default=None, alias="$user_operations")
    set_: dict[str, Any] | None = Field(default=None, alias="$set")
    set_once: dict[str, Any] | None = Field(default=None, alias="$set_once")
    add: dict[str, Any] | None = Field(default=None, alias="$add")
    append: dict[str, Any] | None = Field(default=None, alias="$append")
    remove: dict[str, Any] | None = Field(default=None, alias="$remove")
    unset: list[str] | str | None = Field(default=None, alias="$unset")


class SuprSendCancelled(BaseModel):
    execution_ids: list[str]


# --- status -------------------------------------------------------------------------------------


class BulkStatus(BaseModel):
    bulkId: str
    status: Literal["queued", "processing", "completed", "partially_failed"]
    total: int
    counts: dict[str, int]
    createdAt: str | None
    startedAt: str | None
    completedAt: str | None


class BulkStatusResponse(BaseModel):
    data: BulkStatus


class BulkRecord(BaseModel):
    """One record's outcome, in request order."""

    model_config = ConfigDict(extra="allow")

    index: int
    transactionId: str
    status: RecordStatus
    error: str | None = None


class BulkRecordsResponse(BaseModel):
    data: list[BulkRecord]
    next: str | None


class StepOutcome(BaseModel):
    stepId: str | None
    channel: str | None
    status: str | None
    detail: Any = None
    resumeAt: str | None = None


class RecipientOutcome(BaseModel):
    subscriberId: str
    steps: list[StepOutcome]


class TransactionStatus(BaseModel):
    """One trigger: its record's status and each recipient's step outcomes."""

    transactionId: str
    bulkId: str
    index: int
    workflowId: str | None
    createdAt: str
    status: RecordStatus
    error: str | None
    recipients: list[RecipientOutcome]


class TransactionStatusResponse(BaseModel):
    data: TransactionStatus


class CancelledResponse(BaseModel):
    """Novu's answer: whether a pending delay was cancelled."""

    data: bool


# --- Altcraft -----------------------------------------------------------------------------------


class AltcraftRecordAnswer(BaseModel):
    """One data item's place in the answer: the matched profile, or Altcraft's error for it."""

    profile_id: SubscriberId | None = None
    error: int | None = None
    error_text: str | None = None
    error_debug: str | None = None


class AltcraftTask(BaseModel):
    task_id: str = Field(description="The bulk id: its progress is GET /v1/events/trigger/bulk/{task_id}.")


class AltcraftAnswer(BaseModel):
    """Altcraft's envelope: `error` 0 on success (answers in XML when the request was XML)."""

    error: int
    error_text: str
    error_debug: str | None = None
    result: list[AltcraftRecordAnswer] | AltcraftTask | None = None


# --- Sequenzy -----------------------------------------------------------------------------------


class SequenzyFailure(BaseModel):
    """Sequenzy's error body (its routes only)."""

    success: Literal[False]
    error: str


class SequenzySubscriber(BaseModel):
    id: SubscriberId
    email: str | None = None
    externalId: str | None = None
    created: bool


class SequenzyEventAnswer(BaseModel):
    id: str
    name: str
    definitionCreated: bool
    duplicate: bool | None = None
    workflows: list[dict[str, Any]] | None = None
    success: bool | None = None
    error: str | None = None


class SequenzyAnswer(BaseModel):
    """`success` is false when some event failed: the others still ran (see each event)."""

    success: bool
    error: str | None = None
    subscriber: SequenzySubscriber
    events: list[SequenzyEventAnswer]
    optIn: dict[str, Any] | None = None

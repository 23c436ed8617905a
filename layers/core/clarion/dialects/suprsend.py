"""SuprSend's `POST /trigger/` (reference 002): an object is one workflow trigger (202), an array
is a bulk of up to 100 (207 Multi-Status, one record per item in request order).

Recipients' channel identities ($email, $sms, $slack, ...) are stored on the subscriber as the
internal model's profile fields and Novu-shaped `channels`; `is_transient` recipients are
delivered to but never stored. `$idempotency_key` becomes the record's transactionId (in the
callers' namespace: ids.caller_key_transaction_id), so a repeat within 24 h
(IDEMPOTENCY_KEY_SECONDS) is answered as accepted without running again; after that, it starts a
new trigger.
`data.$attachments` (a URL, or base64 under 50 KB) are checked here and attached to the
workflow's emails by the email channel."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from clarion.dialects.suprsend_identities import Identities
from clarion.ids import caller_key_transaction_id, generated_transaction_id, new_id
from clarion.model import RecordOutcome, RecordStatus, SubscriberProfile, TriggerRecord, Verdict
from clarion.model.identifiers import SubscriberId, TenantId, WorkflowName
from clarion.model.profile import IdentityKind, channel_entries
from clarion.model.refusal import VALIDATION_ERROR, RefusalType, field_messages
from clarion.model.trigger import Attachment as TriggerAttachment

MAX_RECORDS = 100
MAX_BODY_BYTES = 800 * 1024
MAX_INLINE_ATTACHMENT_BYTES = 50 * 1024
IDEMPOTENCY_KEY_SECONDS = 24 * 3600  # a processed `$idempotency_key` is skipped for 24 h
NOT_FOUND = "not_found"
WORKFLOW_NOT_FOUND_TEXT = "workflow not found"  # SuprSend's per-record text (reference 002)

# SuprSend channel names -> the engine's step channels.
CHANNELS = {
    "email": "email",
    "sms": "sms",
    "whatsapp": "sms",
    "inbox": "in_app",
    "androidpush": "push",
    "iospush": "push",
    "webpush": "push",
    "slack": "chat",
    "ms_teams": "chat",
}
Channel = Literal[
    "email", "sms", "whatsapp", "inbox", "androidpush", "iospush", "webpush", "slack", "ms_teams"
]


class Recipient(Identities):
    """A user inline: identities and properties are upserted onto the subscriber."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    distinct_id: SubscriberId | None = None
    is_transient: bool = False
    channels: list[Channel] | None = Field(default=None, alias="$channels")
    timezone: str | None = Field(default=None, alias="$timezone", max_length=64)
    locale: str | None = Field(default=None, alias="$locale", max_length=32)
    preferred_language: str | None = Field(default=None, alias="$preferred_language", max_length=32)

    @model_validator(mode="after")
    def _named_or_transient(self) -> Recipient:
        if not self.distinct_id and not self.is_transient:
            raise ValueError("distinct_id is required unless is_transient is true")
        return self

    def to_profile(self) -> SubscriberProfile:
        properties = {k: v for k, v in (self.model_extra or {}).items() if not k.startswith("$")}
        identities = self.identities()
        emails = [i.value for i in identities if i.kind is IdentityKind.EMAIL]
        phones = [i.value for i in identities if i.kind is IdentityKind.PHONE]
        only = sorted({CHANNELS[c] for c in self.channels}) if self.channels is not None else None
        return SubscriberProfile(
            subscriber_id=self.distinct_id or f"transient-{new_id()}",
            email=emails[0] if emails else None,
            phone=phones[0] if phones else None,
            locale=self.locale or self.preferred_language,
            timezone=self.timezone,
            data=properties or None,
            channels=channel_entries(identities) or None,
            transient=self.is_transient,
            only_channels=only,
        )


class Attachment(BaseModel):
    url: str | None = Field(default=None, max_length=2048)
    data: str | None = None
    filename: str | None = Field(default=None, max_length=255)
    contentType: str | None = Field(default=None, max_length=128)
    ignore_if_error: bool = False

    @model_validator(mode="after")
    def _url_or_data(self) -> Attachment:
        if bool(self.url) == bool(self.data):
            raise ValueError("give exactly one of url (public http(s) URL) or data (base64)")
        if self.url and not self.url.startswith(("https://", "http://")):
            raise ValueError("url must be an http(s) URL")
        if self.data:
            try:
                size = len(base64.b64decode(self.data, validate=True))
            except (binascii.Error, ValueError) as error:
                raise ValueError("data is not base64") from error
            if size >= MAX_INLINE_ATTACHMENT_BYTES:
                raise ValueError(
                    "an inline (base64) attachment must be smaller than 50 KB; pass a url instead"
                )
        return self

    def to_model(self) -> TriggerAttachment:
        return TriggerAttachment(
            url=self.url,
            data=self.data,
            filename=self.filename,
            content_type=self.contentType,
            ignore_if_error=self.ignore_if_error,
        )


class WorkflowTrigger(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    workflow: WorkflowName
    recipients: Annotated[list[SubscriberId | Recipient], Field(min_length=1, max_length=100)]
    actor: SubscriberId | Recipient | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    tenant_id: TenantId | None = None
    idempotency_key: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(
        default=None, alias="$idempotency_key"
    )
    cancellation_key: Annotated[str, Field(min_length=1, max_length=255)] | None = None

    @field_validator("data")
    @classmethod
    def _attachments(cls, data: dict[str, Any]) -> dict[str, Any]:
        if "$attachments" in data:
            if not isinstance(data["$attachments"], list):
                raise ValueError("$attachments must be an array")
            for attachment in data["$attachments"]:
                Attachment.model_validate(attachment)
        return data


def parse_record(
    raw: Any, *, environment_id: str, bulk_id: str, index: int, accepted_at: str
) -> TriggerRecord | RecordOutcome:
    """One raw item -> a record to run, or a refusal naming its fields (never an exception)."""
    try:
        trigger = WorkflowTrigger.model_validate(raw)
    except ValidationError as error:
        return RecordOutcome(
            environment_id=environment_id,
            bulk_id=bulk_id,
            index=index,
            transaction_id=generated_transaction_id(bulk_id, index),
            status=RecordStatus.ERROR,
            error=field_messages(error.errors(include_url=False, include_input=False)),
            error_type=VALIDATION_ERROR,
        )
    recipients = [
        SubscriberProfile(subscriber_id=r) if isinstance(r, str) else r.to_profile()
        for r in trigger.recipients
    ]
    unique = list({r.subscriber_id: r for r in reversed(recipients)}.values())[::-1]
    actor = trigger.actor
    return TriggerRecord(
        environment_id=environment_id,
        bulk_id=bulk_id,
        index=index,
        transaction_id=caller_key_transaction_id(trigger.idempotency_key)
        if trigger.idempotency_key
        else generated_transaction_id(bulk_id, index),
        workflow_id=trigger.workflow,
        recipients=unique,
        payload=trigger.data,
        actor=SubscriberProfile(subscriber_id=actor)
        if isinstance(actor, str)
        else actor.to_profile()
        if actor
        else None,
        tenant={"identifier": trigger.tenant_id} if trigger.tenant_id else None,
        accepted_at=accepted_at,
        cancellation_key=trigger.cancellation_key,
        attachments=[Attachment.model_validate(a).to_model() for a in trigger.data.get("$attachments", [])],
    )


def record_answer(outcome: Verdict) -> dict[str, Any]:
    """One item of a 207 answer."""
    if outcome.status is RecordStatus.QUEUED or outcome.error_type == RefusalType.TRANSACTION_ID_REUSED:
        # A repeated $idempotency_key is accepted (and not run again), as SuprSend does.
        return {"status": "success", "status_code": 202, "message_id": outcome.transaction_id}
    code, kind = _error_code(outcome)
    message = WORKFLOW_NOT_FOUND_TEXT if kind == NOT_FOUND else outcome.error or kind
    return {"status": "error", "status_code": code, "error": {"message": message, "type": kind}}


def single_answer(outcome: Verdict) -> tuple[int, dict[str, Any]]:
    """A single trigger's status code and body: SuprSend's flat `{status, message}` (for an
    unknown workflow `workflow '<slug>' not found`), with the record's `error` beside it."""
    item = record_answer(outcome)
    if item["status"] == "success":
        return 202, {"message_id": item["message_id"], "status": "success"}
    message = item["error"]["message"]
    if item["error"]["type"] == NOT_FOUND:
        message = f"workflow '{outcome.workflow_id}' not found"
    return item["status_code"], {"status": "fail", "message": message, "error": item["error"]}


def failure(message: str, kind: str) -> dict[str, Any]:
    return {"status": "fail", "message": message, "error": {"message": message, "type": kind}}


def _error_code(outcome: Verdict) -> tuple[int, str]:
    if outcome.error_type == RefusalType.WORKFLOW_NOT_FOUND:
        return 404, NOT_FOUND
    if outcome.error_type == VALIDATION_ERROR:
        return 400, VALIDATION_ERROR
    return 422, outcome.status.value

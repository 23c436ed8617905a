"""Altcraft's bulk trigger launch (reference 003): `start_batch` and `start_batch_task`, JSON or
XML, each `data` item matched to one profile (subscriber) and run as one trigger record.

- `trigger_id` (`id` for the task) is the workflow's numeric triggerId.
- `content` is the payload (templates read it as `{{ payload.x }}` and as Altcraft's
  `{apicontent.x}`, which engine.render reads as the former); `custom_data` travels on the record.
- `attach` (Altcraft's file objects: `name` + `url`, or `name` + base64 `content`) become the
  payload's `$attachments` in SuprSend's shape (`filename` + `url` | `data`), checked by the same
  rules and fetched by the email channel through the same outbound checks.
- Matching (`matching`, per request or per item): `email` (default), `phone`, `profile_id`
  (the subscriberId), or `custom` with `field_name` and per-item `field_value` (a declared
  subscriber `data` field).

Answers are Altcraft's envelope `{error, error_text, result}`; XML in dialects.altcraft_xml (`<xml>`,
one element per field, a repeated element per list item)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clarion.dialects.suprsend import Attachment
from clarion.ids import generated_transaction_id
from clarion.model import RecordOutcome, RecordStatus, SubscriberProfile, TriggerRecord, Verdict
from clarion.model.refusal import RefusalType
from clarion.model.trigger import Attachment as TriggerAttachment
from clarion.model.trigger import MatchedProfile, Recipient
from clarion.store.profile_match import FIELD_NAME, MatchBy

MAX_BODY_BYTES = 5 * 1024 * 1024  # Altcraft documents 10 MB; a Lambda receives at most 6 MB (api.body)
MAX_RECORDS = 100
SUCCESS = "Successful operation"
INVALID_REQUEST = "Invalid request"
TOO_LARGE_DEBUG = "http: request body too large"
PROFILE_NOT_FOUND = (404, "Profile not found")
VALIDATION_ERROR = "validation_error"


class Matching(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    PROFILE_ID = "profile_id"
    CUSTOM = "custom"


_MATCH_BY = {
    Matching.EMAIL: MatchBy.EMAIL,
    Matching.PHONE: MatchBy.PHONE,
    Matching.PROFILE_ID: MatchBy.SUBSCRIBER_ID,
    Matching.CUSTOM: MatchBy.DATA,
}


class AltcraftError(Exception):
    """A whole request refused, in Altcraft's envelope."""

    def __init__(self, status_code: int, error_text: str, debug: str | None = None) -> None:
        super().__init__(debug or error_text)
        self.status_code = status_code
        self.error_text = error_text
        self.debug = debug


class FileObject(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=255)
    url: str | None = Field(default=None, max_length=2048)
    content: str | None = None  # base64
    content_type: str | None = Field(default=None, max_length=128)

    def attachment(self) -> TriggerAttachment:
        """The email attachment, checked by SuprSend's rules for `$attachments` (a ValueError
        names what is wrong)."""
        shape: dict[str, Any] = {"filename": self.name, "url": self.url, "data": self.content}
        if self.content_type:
            shape["contentType"] = self.content_type
        shape = {k: v for k, v in shape.items() if v is not None}
        try:
            return Attachment.model_validate(shape).to_model()
        except ValidationError as error:
            raise ValueError("; ".join(e["msg"] for e in error.errors())) from None


class DataItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    # read by `target`, item by item: a wrong one refuses that item alone
    email: Any = None
    phone: Any = None
    profile_id: Any = None
    field_value: Any = None
    matching: Any = None
    field_name: Any = None


class StartBatch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    token: str | None = Field(default=None, max_length=512)
    format: Literal["json", "xml"] | None = None
    trigger_id: int | None = Field(default=None, ge=1)
    id: int | None = Field(default=None, ge=1)
    matching: Matching = Matching.EMAIL
    field_name: str | None = Field(default=None, pattern=FIELD_NAME.pattern)
    data: list[DataItem] = Field(min_length=1, max_length=MAX_RECORDS)
    content: dict[str, Any] = Field(default_factory=dict)
    custom_data: dict[str, Any] | None = None
    attach: list[FileObject] = Field(default_factory=list, max_length=10)

    def campaign(self, field: Literal["trigger_id", "id"]) -> int:
        value = getattr(self, field)
        if value is None:
            raise AltcraftError(400, INVALID_REQUEST, f"{field}: required (the trigger campaign's id)")
        return int(value)

    def payload(self) -> dict[str, Any]:
        return dict(self.content)

    def attachments(self) -> list[TriggerAttachment]:
        attachments = []
        for index, file in enumerate(self.attach):
            try:
                attachments.append(file.attachment())
            except ValueError as error:
                raise AltcraftError(400, INVALID_REQUEST, f"attach.{index}: {error}") from None
        return attachments

    def target(self, item: DataItem) -> MatchedProfile | str:
        """Whom the item names, or why it names nobody."""
        if item.matching not in (None, *Matching):
            return f"matching: one of {', '.join(Matching)}"
        if item.field_name is not None and not (
            isinstance(item.field_name, str) and FIELD_NAME.fullmatch(item.field_name)
        ):
            return "field_name: letters, digits, '_', '.', '-' (at most 64)"
        matching = Matching(item.matching) if item.matching else self.matching
        field_name = item.field_name or self.field_name
        if matching is Matching.CUSTOM:
            if not field_name:
                return "field_name: required with matching custom"
            raw = item.field_value
            name = "field_value"
        else:
            raw = getattr(item, matching.value)
            name = matching.value
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return f"{name}: required with matching {matching.value}"
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            return f"{name}: a string (or a number)"
        text = str(raw).strip()
        if len(text) > 2048:
            return f"{name}: at most 2048 characters"
        by = _MATCH_BY[matching]
        return MatchedProfile(
            field=by.value, data_field=field_name if by is MatchBy.DATA else None, value=text
        )


@dataclass(frozen=True)
class Item:
    """One `data` item as the route resolved it: whom it names (or why it names nobody), and for
    `start_batch` the subscriber matched now (None: no profile matched)."""

    target: MatchedProfile | str
    profile_id: str | None = None


Parser = Callable[..., TriggerRecord | RecordOutcome]


def record_parser(request: StartBatch, workflow_id: str, *, task: bool) -> Parser:
    """intake's parser for this request's items: each a record for one recipient (the matched
    subscriber; for the task, the MatchedProfile the worker resolves), or a refusal."""
    payload, attachments = request.payload(), request.attachments()

    def parse(
        item: Item, *, environment_id: str, bulk_id: str, index: int, accepted_at: str
    ) -> TriggerRecord | RecordOutcome:
        transaction_id = generated_transaction_id(bulk_id, index)
        recipient: Recipient | None = None
        refusal: tuple[str, str] | None = None
        if isinstance(item.target, str):
            refusal = VALIDATION_ERROR, item.target
        elif task:
            recipient = item.target
        elif item.profile_id is None:
            named = item.target.data_field or item.target.field
            refusal = RefusalType.PROFILE_NOT_FOUND, f"no profile with {named} '{item.target.value}'"
        else:
            recipient = SubscriberProfile(subscriber_id=item.profile_id)
        if recipient is None:
            assert refusal is not None
            return RecordOutcome(
                environment_id=environment_id,
                bulk_id=bulk_id,
                index=index,
                transaction_id=transaction_id,
                status=RecordStatus.ERROR,
                error=refusal[1],
                error_type=refusal[0],
            )
        return TriggerRecord(
            environment_id=environment_id,
            bulk_id=bulk_id,
            index=index,
            transaction_id=transaction_id,
            workflow_id=workflow_id,
            recipients=[recipient],
            payload=payload,
            attachments=attachments,
            accepted_at=accepted_at,
            custom_data=request.custom_data,
        )

    return parse


def record_answer(outcome: Verdict, item: Item) -> dict[str, Any]:
    """A record's place in start_batch's `result`: the profile it ran for, or Altcraft's code
    and text for why it did not."""
    if outcome.status is RecordStatus.QUEUED and item.profile_id is not None:
        return {"profile_id": item.profile_id}
    if outcome.error_type == RefusalType.PROFILE_NOT_FOUND:
        return failure(*PROFILE_NOT_FOUND, outcome.error)
    return failure(400, INVALID_REQUEST, outcome.error)


def parse(body: Any) -> StartBatch:
    if not isinstance(body, dict):
        raise AltcraftError(400, INVALID_REQUEST, "body: an object")
    try:
        return StartBatch.model_validate(body)
    except ValidationError as error:
        named = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in error.errors(include_url=False)[:10]
        )
        raise AltcraftError(400, INVALID_REQUEST, named) from None


def envelope(result: Any) -> dict[str, Any]:
    return {"error": 0, "error_text": SUCCESS, "result": result}


def failure(code: int, error_text: str, debug: str | None = None) -> dict[str, Any]:
    return {"error": code, "error_text": error_text, **({"error_debug": debug} if debug else {})}

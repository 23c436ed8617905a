"""Novu's trigger API: `POST /v1/events/trigger` and `/v1/events/trigger/bulk` (reference 000, 001)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from clarion.ids import GENERATED_PREFIX, generated_transaction_id, is_generated
from clarion.model import RecordOutcome, RecordStatus, TriggerRecord, Verdict
from clarion.model.identifiers import (
    CONTROL_CHARACTERS,
    SubscriberId,
    TenantId,
    TopicKey,
    WorkflowName,
)
from clarion.model.refusal import VALIDATION_ERROR, RefusalType, field_errors
from clarion.model.trigger import AllSubscribers

MAX_BULK_EVENTS = 100


class NovuSubscriber(BaseModel):
    model_config = ConfigDict(extra="allow")

    subscriberId: SubscriberId
    email: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    phone: str | None = None
    avatar: str | None = None
    locale: str | None = None
    timezone: str | None = None
    data: dict[str, Any] | None = None
    channels: list[dict[str, Any]] | None = None

    def profile_fields(self) -> dict[str, Any]:
        """The internal SubscriberProfile's fields (extra keys Novu allows are not kept)."""
        return {
            "kind": "subscriber",
            "subscriber_id": self.subscriberId,
            "email": self.email,
            "phone": self.phone,
            "first_name": self.firstName,
            "last_name": self.lastName,
            "avatar": self.avatar,
            "locale": self.locale,
            "timezone": self.timezone,
            "data": self.data,
            "channels": self.channels,
        }


class NovuTopic(BaseModel):
    type: Literal["Topic"]
    topicKey: TopicKey


class NovuTenant(BaseModel):
    """A tenant inline (identifier, name, data): upserted by the worker; other keys are kept."""

    model_config = ConfigDict(extra="allow")

    identifier: TenantId | None = None


NovuRecipient = SubscriberId | NovuTopic | NovuSubscriber


class NovuTriggerEvent(BaseModel):
    """One event of a Novu trigger request. Unknown top-level fields are ignored, as Novu does."""

    model_config = ConfigDict(extra="ignore")

    name: WorkflowName
    to: NovuRecipient | Annotated[list[NovuRecipient], Field(min_length=1, max_length=100)]
    payload: dict[str, Any] = Field(default_factory=dict)
    overrides: dict[str, Any] = Field(default_factory=dict)
    actor: SubscriberId | NovuSubscriber | None = None
    tenant: TenantId | NovuTenant | None = None
    transactionId: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    bridgeUrl: str | None = None

    @field_validator("transactionId")
    @classmethod
    def _not_clarions(cls, value: str | None) -> str | None:
        """Clarion's ids are not callers' to choose (clarion.ids); one it generated is a reuse."""
        if value and value.startswith(GENERATED_PREFIX) and not is_generated(value):
            raise ValueError(
                f"ids beginning with '{GENERATED_PREFIX}' are reserved for the ids Clarion generates"
            )
        return value


def parse_event(
    raw: Any, *, environment_id: str, bulk_id: str, index: int, accepted_at: str
) -> TriggerRecord | RecordOutcome:
    """One raw event -> a record to run, or a refusal naming the fields (never an exception)."""
    transaction_id = raw.get("transactionId") if isinstance(raw, dict) else None
    if not isinstance(transaction_id, str) or not transaction_id:
        transaction_id = generated_transaction_id(bulk_id, index)
    context = {
        "environment_id": environment_id,
        "bulk_id": bulk_id,
        "index": index,
        "transaction_id": transaction_id,
        "accepted_at": accepted_at,
    }
    if isinstance(raw, dict) and (record := _plain_record(raw, context)) is not None:
        return record
    try:
        event = NovuTriggerEvent.model_validate(raw)
    except ValidationError as error:
        names = field_errors(error.errors(include_url=False, include_input=False))
        messages = [f"{name}: {'; '.join(entry['messages'])}" for name, entry in names.items()]
        only_recipients = all(name == "to" or name.startswith("to.") for name in names)
        return RecordOutcome(
            environment_id=environment_id,
            bulk_id=bulk_id,
            index=index,
            transaction_id=transaction_id,
            status=RecordStatus.INVALID_RECIPIENTS if only_recipients else RecordStatus.ERROR,
            error="; ".join(messages),
            error_type=VALIDATION_ERROR,
        )
    actor = event.actor
    tenant = event.tenant
    # One validation into the internal model: the record's fields as plain data, its profiles
    # as dicts (building each as a model first costs more than the record's whole validation).
    return TriggerRecord.model_validate(
        context
        | {
            "workflow_id": event.name,
            "recipients": _recipients(event.to),
            "payload": event.payload,
            "overrides": event.overrides,
            "actor": None if actor is None else _profile(actor),
            "tenant": {"identifier": tenant}
            if isinstance(tenant, str)
            else tenant.model_dump(exclude_none=True)
            if tenant
            else None,
            "tenant_must_exist": isinstance(tenant, str),
        }
    )


# --- the plain shape, validated once ------------------------------------------------------------
# Most events are a name, subscribers (ids or profiles) or topics, a payload: for these the
# checks NovuTriggerEvent makes beyond the internal model's own (ids printable and of Novu's
# lengths, the transactionId's reserved prefix) are made here, and the record is validated once.
# Anything else, and anything this path would refuse, takes the model path, which decides and
# words the refusal (tests/unit/test_novu_fast_parse.py pins both paths to the same records).

_PLAIN_KEYS = frozenset({"name", "to", "payload", "overrides", "transactionId"})
_TOPIC_KEYS = {"type", "topicKey"}


def _plain_record(raw: dict[str, Any], context: dict[str, Any]) -> TriggerRecord | None:
    """The record of an event of the plain shape, or None for the model path to decide."""
    if not raw.keys() <= _PLAIN_KEYS or not _is_id(raw.get("name"), 128):
        return None
    transaction_id = raw.get("transactionId")
    if transaction_id is not None and not (
        _is_id(transaction_id, 256, printable=False)
        and (not transaction_id.startswith(GENERATED_PREFIX) or is_generated(transaction_id))
    ):
        return None
    recipients = _plain_recipients(raw.get("to"))
    if recipients is None:
        return None
    try:
        return TriggerRecord.model_validate(
            context
            | {
                "workflow_id": raw["name"],
                "recipients": recipients,
                "payload": raw.get("payload", {}),
                "overrides": raw.get("overrides", {}),
                "actor": None,
                "tenant": None,
                "tenant_must_exist": False,
            }
        )
    except ValidationError:
        return None


def _plain_recipients(to: Any) -> list[dict[str, Any]] | None:
    """`to` as the internal recipients (as `_recipients` makes them), if every entry is a
    subscriber id, a profile without `type`/`topicKey`, or `{"type": "Topic", "topicKey"}`."""
    listed = to if isinstance(to, list) else [to]
    if not 1 <= len(listed) <= 100:
        return None
    unique: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in listed:
        if isinstance(entry, str) and _is_id(entry, 256):
            unique.setdefault(("subscriber", entry), {"kind": "subscriber", "subscriber_id": entry})
        elif not isinstance(entry, dict):
            return None
        elif entry.keys() == _TOPIC_KEYS and entry["type"] == "Topic" and _is_id(entry["topicKey"], 256):
            unique.setdefault(("topic", entry["topicKey"]), {"kind": "topic", "topic_key": entry["topicKey"]})
        elif "type" in entry or "topicKey" in entry or not _is_id(entry.get("subscriberId"), 256):
            return None
        else:  # NovuSubscriber.profile_fields, from the raw entry (one dict, no model)
            get = entry.get
            unique.setdefault(
                ("subscriber", entry["subscriberId"]),
                {
                    "kind": "subscriber",
                    "subscriber_id": entry["subscriberId"],
                    "email": get("email"),
                    "phone": get("phone"),
                    "first_name": get("firstName"),
                    "last_name": get("lastName"),
                    "avatar": get("avatar"),
                    "locale": get("locale"),
                    "timezone": get("timezone"),
                    "data": get("data"),
                    "channels": get("channels"),
                },
            )
    return list(unique.values())


def _is_id(value: Any, max_length: int, *, printable: bool = True) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= max_length
        and not (printable and CONTROL_CHARACTERS.search(value))
    )


def _profile(entry: str | NovuSubscriber) -> dict[str, Any]:
    if isinstance(entry, str):
        return {"kind": "subscriber", "subscriber_id": entry}
    return entry.profile_fields()


def _recipients(to: NovuRecipient | list[NovuRecipient]) -> list[dict[str, Any]]:
    """`to` as the internal recipients, each (kind, id) once, where it first appears."""
    listed = to if isinstance(to, list) else [to]
    unique: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in listed:
        if isinstance(entry, NovuTopic):
            unique.setdefault(("topic", entry.topicKey), {"kind": "topic", "topic_key": entry.topicKey})
        else:
            recipient = _profile(entry)
            unique.setdefault(("subscriber", recipient["subscriber_id"]), recipient)
    return list(unique.values())


EVERYONE = "*"  # stands in for `to` while a broadcast is read as a trigger


def as_trigger(broadcast: dict[str, Any]) -> dict[str, Any]:
    """Novu's broadcast body (a trigger without `to`), as a trigger to be read by its rules."""
    return {**broadcast, "to": EVERYONE}


def parse_broadcast(
    raw: Any, *, environment_id: str, bulk_id: str, index: int, accepted_at: str
) -> TriggerRecord | RecordOutcome:
    """A broadcast -> one record addressed to every subscriber of the environment, or a refusal."""
    parsed = parse_event(
        as_trigger(raw) if isinstance(raw, dict) else raw,
        environment_id=environment_id,
        bulk_id=bulk_id,
        index=index,
        accepted_at=accepted_at,
    )
    if isinstance(parsed, TriggerRecord):
        return parsed.model_copy(update={"recipients": [AllSubscribers()]})
    return parsed


def answer_item(outcome: Verdict) -> dict[str, Any]:
    """A record's verdict in Novu's response shape: acknowledged, status, transactionId (+ error).
    Where Novu answers a machine-readable text (`error: ["workflow_not_found"]`), so does this;
    the item has no room for more, so Clarion's sentence is in the bulk's records instead
    (`GET /v1/events/trigger/bulk/<bulkId>/records`, `error`)."""
    if outcome.status is RecordStatus.QUEUED:
        return {"acknowledged": True, "status": "processed", "transactionId": outcome.transaction_id}
    novu_text = outcome.error_type == RefusalType.WORKFLOW_NOT_FOUND
    return {
        "acknowledged": True,
        "status": outcome.status.value,
        "error": [
            RefusalType.WORKFLOW_NOT_FOUND.value if novu_text else outcome.error or outcome.status.value
        ],
        "transactionId": outcome.transaction_id,
    }

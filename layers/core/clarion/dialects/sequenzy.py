"""Sequenzy's `POST /api/v1/subscribers/events/bulk` (reference 004): many events for one
subscriber, found by `externalId` or `email` and created if new.

Body `{email?, externalId?, firstName?, lastName?, customAttributes?, events: [{name,
properties?, occurredAt?, eventId?}]}` (the fields Sequenzy's SDK and MCP client send). The
envelope is checked as a whole (a bad one is a 400 `{success: false, error}`); each event on its
own, so one bad event is named in the answer while its neighbours are recorded.

Answer `{success, subscriber: {id, email, externalId, created}, events: [{id, name,
definitionCreated, ...}], optIn?}`. `success` is false (with `error`) when any event failed;
the events that succeeded are not rolled back (Sequenzy: "retry an error response as a partial
success"; with eventIds a retry records and triggers each event once)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from clarion.ids import generated_transaction_id
from clarion.model import RecordOutcome, SubscriberProfile, TriggerRecord
from clarion.model.identifiers import Printable, SubscriberId

MAX_EVENTS = 100
MAX_BODY_BYTES = 1024 * 1024
MAX_PROPERTIES_BYTES = 64 * 1024  # per event: an activity item stays far below DynamoDB's 400 KB
MAX_ATTRIBUTES_BYTES = 64 * 1024
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
GENERATED_SUBSCRIBER_PREFIX = "sqz_"
GENERATED_EVENT_PREFIX = "evt_"

EventName = Annotated[str, Field(min_length=1, max_length=128), Printable]
EventId = Annotated[str, Field(min_length=1, max_length=255), Printable]


class SequenzyError(ValueError):
    """A refused request or event; the message names the field first."""


class SequenzyEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    name: EventName
    properties: dict[str, Any] = Field(default_factory=dict)
    occurred_at: AwareDatetime | None = Field(default=None, alias="occurredAt")
    event_id: EventId | None = Field(default=None, alias="eventId")

    @field_validator("properties")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, separators=(",", ":"))) > MAX_PROPERTIES_BYTES:
            raise ValueError(f"at most {MAX_PROPERTIES_BYTES // 1024} KB of JSON")
        return value

    def occurred(self, now: str) -> str:
        """When the event happened (now unless the client said), as sortable UTC ISO text."""
        if self.occurred_at is None:
            return now
        moment = self.occurred_at.astimezone(UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BulkEventsRequest(BaseModel):
    """The envelope; `events` are checked one by one (parse_events)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    email: Annotated[str, Field(max_length=320, pattern=EMAIL_PATTERN)] | None = None
    external_id: SubscriberId | None = Field(default=None, alias="externalId")
    first_name: Annotated[str, Field(max_length=256)] | None = Field(default=None, alias="firstName")
    last_name: Annotated[str, Field(max_length=256)] | None = Field(default=None, alias="lastName")
    custom_attributes: dict[str, Any] | None = Field(default=None, alias="customAttributes")
    events: list[Any] = Field(min_length=1, max_length=MAX_EVENTS)

    @field_validator("custom_attributes")
    @classmethod
    def _bounded(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(json.dumps(value, separators=(",", ":"))) > MAX_ATTRIBUTES_BYTES:
            raise ValueError(f"at most {MAX_ATTRIBUTES_BYTES // 1024} KB of JSON")
        return value

    def profile(self) -> dict[str, Any]:
        """The profile fields this request sets on the subscriber (API names)."""
        fields = {"email": self.email, "firstName": self.first_name, "lastName": self.last_name}
        return {name: value for name, value in fields.items() if value is not None}


def parse_request(body: Any) -> BulkEventsRequest:
    if not isinstance(body, dict):
        raise SequenzyError("body: must be a JSON object")
    try:
        request = BulkEventsRequest.model_validate(body)
    except ValidationError as error:
        raise SequenzyError(_first_error(error)) from error
    if request.email is None and request.external_id is None:
        raise SequenzyError("email: give email or externalId to name the subscriber")
    return request


def parse_events(raw_events: list[Any]) -> list[SequenzyEvent | SequenzyError]:
    """Each event, or why it was refused (naming `events.<i>.<field>`), in request order."""
    parsed: list[SequenzyEvent | SequenzyError] = []
    for index, raw in enumerate(raw_events):
        if not isinstance(raw, dict):
            parsed.append(SequenzyError(f"events.{index}: each event must be an object"))
            continue
        try:
            parsed.append(SequenzyEvent.model_validate(raw))
        except ValidationError as error:
            parsed.append(SequenzyError(_first_error(error, f"events.{index}")))
    return parsed


def normalized_email(email: str) -> str:
    return email.strip().lower()


def subscriber_id_for_email(email: str) -> str:
    """The id Clarion makes for a subscriber named by email alone: the same for that email."""
    return GENERATED_SUBSCRIBER_PREFIX + hashlib.sha256(normalized_email(email).encode()).hexdigest()[:32]


def transaction_id_for(subscriber_id: str, event_id: str, workflow_id: str) -> str:
    """The transactionId of the workflow an event starts: one per (subscriber, event, workflow),
    so a repeated eventId (or a confirmation followed twice) is claimed once. Never `clr_`-shaped."""
    digest = hashlib.sha256(f"{subscriber_id}\n{event_id}\n{workflow_id}".encode()).hexdigest()
    return f"sqz-{digest[:40]}"


def subscriber_answer(
    subscriber_id: str, stored: dict[str, Any], external_id: str | None, created: bool
) -> dict[str, Any]:
    return {"id": subscriber_id, "email": stored.get("email"), "externalId": external_id, "created": created}


def failure(message: str) -> dict[str, Any]:
    return {"success": False, "error": message}


def _first_error(error: ValidationError, prefix: str = "") -> str:
    details = error.errors(include_url=False, include_input=False)
    first = details[0]
    location = ".".join(str(part) for part in first.get("loc", ()))
    field = ".".join(part for part in (prefix, location) if part) or "body"
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"{field}: {first.get('msg', 'invalid value')}{more}"


@dataclass(frozen=True)
class Trigger:
    """Run `workflow_id` for one subscriber with `payload` (an event that names a workflow, the
    confirmation email, a held trigger released); under `transaction_id` when given (claimed
    once per environment: a repeat is refused as reused), else a generated one."""

    workflow_id: str
    subscriber_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    transaction_id: str | None = None


def parse_trigger(
    raw: Any, *, environment_id: str, bulk_id: str, index: int, accepted_at: str
) -> TriggerRecord | RecordOutcome:
    """intake's parser for Sequenzy's triggers (already checked: never a refusal)."""
    trigger: Trigger = raw
    return TriggerRecord(
        environment_id=environment_id,
        bulk_id=bulk_id,
        index=index,
        transaction_id=trigger.transaction_id or generated_transaction_id(bulk_id, index),
        workflow_id=trigger.workflow_id,
        recipients=[SubscriberProfile(subscriber_id=trigger.subscriber_id)],
        payload=trigger.payload,
        accepted_at=accepted_at,
    )

"""A trigger record: one workflow run for a set of recipients, as it travels on the TriggerQueue."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SubscriberId = Annotated[str, Field(min_length=1, max_length=256)]


class SubscriberProfile(BaseModel):
    """A subscriber as a trigger names it: the id, plus whatever profile fields came inline."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["subscriber"] = "subscriber"
    subscriber_id: SubscriberId
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    avatar: str | None = None
    locale: str | None = None
    timezone: str | None = None
    data: dict[str, Any] | None = None
    channels: list[dict[str, Any]] | None = None
    transient: bool = False  # delivered to, never stored (SuprSend's is_transient)
    only_channels: list[str] | None = None  # this trigger reaches only these channels

    def profile_fields(self) -> dict[str, Any]:
        """The inline fields to upsert onto the stored subscriber (only those given)."""
        return self.model_dump(
            exclude={"kind", "subscriber_id", "transient", "only_channels"}, exclude_none=True
        )

    def api_fields(self) -> dict[str, Any]:
        """The inline fields under the API's (camelCase) names."""
        return {_API_NAMES.get(name, name): value for name, value in self.profile_fields().items()}


_API_NAMES = {"first_name": "firstName", "last_name": "lastName"}


class TopicRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["topic"] = "topic"
    topic_key: str = Field(min_length=1, max_length=256)


class AllSubscribers(BaseModel):
    """Every subscriber of the environment (a broadcast): read page by page when the record runs,
    never loaded at once."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["all_subscribers"] = "all_subscribers"


class MatchedProfile(BaseModel):
    """The subscriber whose `field` holds `value` (Altcraft's profile matching), found by the
    worker through the index (store.profile_match): `email`, `phone`, `subscriber_id`, or `data`
    with `data_field` naming a declared subscriber `data` field."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["matched"] = "matched"
    field: Literal["email", "phone", "subscriber_id", "data"]
    data_field: str | None = Field(default=None, max_length=64)
    value: str = Field(min_length=1, max_length=2048)


Recipient = Annotated[
    SubscriberProfile | TopicRef | AllSubscribers | MatchedProfile, Field(discriminator="kind")
]


class Continuation(BaseModel):
    """A part of a record the worker runs later or elsewhere. A record with a continuation is a
    part: it runs steps but reports no record outcome (the record's own run did).

    delay:     resume `subscriber_id` at `step_index` once `not_before` (epoch seconds) has passed.
    digest:    once `not_before` (the window's end) has passed, close the digest window of
               `subscriber_id` that `step_id` opened at `window_start` for `digest_key`, and run
               the steps from `step_index` once with every collected event (store.digests).
    topic:     expand one page of `topic_key` members from `cursor` into fanout parts.
    broadcast: expand one page of the environment's subscribers from `cursor` into a fanout part.
    fanout:    run every step for this part's recipients (a page of a topic or of a broadcast).
    """

    model_config = ConfigDict(frozen=True)

    kind: Literal["delay", "digest", "topic", "broadcast", "fanout"]
    subscriber_id: str | None = None
    step_index: int = 0
    not_before: int | None = None
    topic_key: str | None = None
    cursor: str | None = None
    step_id: str | None = None
    digest_key: str | None = None
    window_start: int | None = None


class Attachment(BaseModel):
    """A file an email step attaches: inline `data` (base64) or a `url` fetched through the
    outbound checks, with `filename`, `content_type`; `ignore_if_error` leaves out one that cannot
    be loaded instead of failing the step. Checked by the adapter that accepted it."""

    model_config = ConfigDict(frozen=True)

    url: str | None = None
    data: str | None = None
    filename: str | None = None
    content_type: str | None = None
    ignore_if_error: bool = False


class TriggerRecord(BaseModel):
    """What the API accepted and the worker executes. Serialised as JSON onto SQS."""

    model_config = ConfigDict(frozen=True)

    environment_id: str
    bulk_id: str
    index: int = Field(ge=0)
    transaction_id: str
    workflow_id: str
    recipients: list[Recipient] = Field(min_length=1, max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict)
    overrides: dict[str, Any] = Field(default_factory=dict)
    actor: SubscriberProfile | None = None
    tenant: dict[str, Any] | None = None
    tenant_must_exist: bool = False  # named by identifier alone (Novu): refused if not defined
    accepted_at: str
    continuation: Continuation | None = None
    cancellation_key: str | None = None  # SuprSend: groups triggers a later cancel names
    attachments: list[Attachment] = Field(default_factory=list)  # files the email steps attach
    custom_data: dict[str, Any] | None = None  # Altcraft: kept with the trigger for integrations

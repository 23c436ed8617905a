"""Subscribers as the management API receives them: profile fields, channel credentials,
preferences. Stored and answered in Novu's field names (subscriberId, firstName, ...). A stored
subscriber's addresses, typed, are its ChannelIdentities."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from clarion.model.identifiers import SubscriberId, WorkflowName
from clarion.model.profile import INBOX_PROVIDER, WEB_PUSH_PROVIDER
from clarion.model.strict import StrictModel

PreferenceChannel = Literal["in_app", "email", "sms", "chat", "push"]

_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_LOCALE = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"
ShortText = Annotated[str, Field(max_length=256)]

PROFILE_FIELDS = ("email", "firstName", "lastName", "phone", "avatar", "locale", "timezone", "data")


class ChannelCredentials(BaseModel):
    """A subscriber's identity at a provider (Novu's ChannelCredentials); other keys are kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    webhook_url: str | None = Field(default=None, alias="webhookUrl", max_length=2048)
    channel: str | None = Field(default=None, max_length=256)
    device_tokens: list[Annotated[str, Field(min_length=1, max_length=4096)]] | None = Field(
        default=None, alias="deviceTokens", max_length=100
    )


class SubscriberChannel(StrictModel):
    provider_id: str = Field(alias="providerId", min_length=1, max_length=128)
    integration_identifier: str | None = Field(default=None, alias="integrationIdentifier", max_length=128)
    credentials: ChannelCredentials

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class SubscriberChanges(StrictModel):
    """Profile fields to set; fields not sent are kept, `null` clears one. Another field is refused
    by name (model.strict)."""

    email: str | None = Field(default=None, max_length=320, pattern=_EMAIL)
    first_name: ShortText | None = Field(default=None, alias="firstName")
    last_name: ShortText | None = Field(default=None, alias="lastName")
    phone: str | None = Field(default=None, max_length=64)
    avatar: str | None = Field(default=None, max_length=2048)
    locale: str | None = Field(default=None, max_length=35, pattern=_LOCALE)
    timezone: str | None = Field(default=None, max_length=64)
    data: dict[str, Any] | None = None
    channels: list[SubscriberChannel] | None = Field(default=None, max_length=50)

    def profile_changes(self) -> dict[str, Any]:
        """The profile fields that were sent, in API names (channels excluded)."""
        return self.model_dump(
            mode="json", by_alias=True, exclude_unset=True, exclude={"subscriber_id", "channels"}
        )


class SubscriberCreate(SubscriberChanges):
    subscriber_id: SubscriberId = Field(alias="subscriberId")


class PreferencesPatch(StrictModel):
    """`{channels: {sms: false}, workflows: {<workflowId>: {email: false}}}`, merged into what is stored."""

    channels: dict[PreferenceChannel, bool] = Field(default_factory=dict)
    workflows: dict[WorkflowName, dict[PreferenceChannel, bool]] = Field(default_factory=dict, max_length=200)


def merge_channels(current: list[dict[str, Any]], changes: list[SubscriberChannel]) -> list[dict[str, Any]]:
    """Each given provider entry replaces the stored one with the same providerId and
    integrationIdentifier; other entries stay."""
    merged = list(current)
    for change in changes:
        entry = change.to_api()
        same = [
            i
            for i, stored in enumerate(merged)
            if stored.get("providerId") == change.provider_id
            and stored.get("integrationIdentifier") == change.integration_identifier
        ]
        if same:
            merged[same[0]] = entry
        else:
            merged.append(entry)
    return merged


def merge_preferences(current: dict[str, Any] | None, patch: PreferencesPatch) -> dict[str, Any]:
    current = current or {}
    workflows = {name: dict(value) for name, value in (current.get("workflows") or {}).items()}
    for workflow_id, channels in patch.workflows.items():
        workflows[workflow_id] = workflows.get(workflow_id, {}) | channels
    return {"channels": (current.get("channels") or {}) | patch.channels, "workflows": workflows}


def subscriber_view(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored subscriber (possibly created by a trigger with only an id) in the API's full shape."""
    preferences = stored.get("preferences") or {}
    return {
        "subscriberId": stored["subscriberId"],
        **{name: stored.get(name) for name in PROFILE_FIELDS if name != "data"},
        "data": stored.get("data") or {},
        "channels": stored.get("channels") or [],
        "preferences": {
            "channels": preferences.get("channels") or {},
            "workflows": preferences.get("workflows") or {},
        },
        "createdAt": stored.get("createdAt"),
        "updatedAt": stored.get("updatedAt") or stored.get("createdAt"),
    }


@dataclass(frozen=True, slots=True)
class ChannelEntry:
    """One provider entry of a stored subscriber: `{providerId, integrationIdentifier?, credentials}`."""

    provider_id: str  # lower case, as given
    integration_identifier: str | None
    credentials: Mapping[str, Any]

    def strings(self, name: str) -> list[str]:
        """A credential that holds one string or a list of them (deviceTokens, inboxIds, ...)."""
        return _strings(self.credentials.get(name))


@dataclass(frozen=True, slots=True)
class ChannelIdentities:
    """A stored subscriber's addresses, typed, whichever dialect's identities they came from
    (each adapter maps its own onto `email`, `phone` and `channels`, model.profile): the email
    address, the phone number, and the provider entries holding push tokens by provider, chat
    webhooks (slack, msteams, discord), inbox ids and Web Push subscriptions. Read leniently: a
    value of the wrong type is no address."""

    email: str | None
    phone: str | None
    entries: tuple[ChannelEntry, ...]

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> ChannelIdentities:
        entries = []
        for entry in stored.get("channels") or []:
            if not isinstance(entry, Mapping):
                continue
            credentials = entry.get("credentials")
            tied = entry.get("integrationIdentifier")
            entries.append(
                ChannelEntry(
                    str(entry.get("providerId") or "").strip().lower(),
                    tied if isinstance(tied, str) and tied else None,
                    credentials if isinstance(credentials, Mapping) else {},
                )
            )
        email, phone = _strings(stored.get("email")), _strings(stored.get("phone"))
        return cls(email[0] if email else None, phone[0] if phone else None, tuple(entries))

    def usable_with(self, integration: str | None) -> list[ChannelEntry]:
        """The entries an integration may use: with an identifier, those not tied to another one."""
        return [
            e
            for e in self.entries
            if integration is None
            or e.integration_identifier is None
            or e.integration_identifier == integration
        ]

    def push_tokens(self, integration: str | None = None) -> dict[str, list[str]]:
        """Device tokens by provider (an entry's `deviceTokens`)."""
        found: dict[str, list[str]] = {}
        for entry in self.usable_with(integration):
            if tokens := entry.strings("deviceTokens"):
                found.setdefault(entry.provider_id, []).extend(tokens)
        return found

    def webhooks(self, integration: str | None = None) -> list[tuple[str, str]]:
        """(provider, webhook URL) of the entries that carry one, in order (slack, msteams, ...)."""
        found = []
        for entry in self.usable_with(integration):
            url = entry.credentials.get("webhookUrl")
            if isinstance(url, str) and url.strip():
                found.append((entry.provider_id, url.strip()))
        return found

    def inbox_ids(self) -> list[str]:
        return [i for e in self.entries if e.provider_id == INBOX_PROVIDER for i in e.strings("inboxIds")]

    def web_push_subscriptions(self) -> list[Mapping[str, Any]]:
        return [
            s
            for e in self.entries
            if e.provider_id == WEB_PUSH_PROVIDER
            for s in e.credentials.get("subscriptions") or []
            if isinstance(s, Mapping)
        ]


def _strings(value: Any) -> list[str]:
    values = value if isinstance(value, list | tuple) else [value]
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]

"""A subscriber's channel identities and the edits a profile call makes to them, dialect-free.

A stored subscriber keeps its addresses in Novu's shape (model.subscriber): one `email`, one
`phone`, and `channels: [{providerId, credentials}]`. An identity is one address there:

| kind      | where it is kept                                                              |
|-----------|-------------------------------------------------------------------------------|
| email     | `email` (one per subscriber: adding one makes it the address)                  |
| phone     | `phone` (one per subscriber, likewise)                                        |
| push      | `channels[providerId=fcm/apns/...].credentials.deviceTokens` (a list)          |
| web_push  | `channels[providerId=webpush].credentials.subscriptions` (Web Push subscriptions) |
| inbox     | `channels[providerId=inbox].credentials.inboxIds` (a list)                      |
| chat      | one `channels` entry per identity: `{providerId: slack/msteams, credentials}`   |

Profile edits are applied in order: set (or set once) profile fields and `data` properties,
increment numbers, append to and remove from list properties, add and remove identities,
unset fields, properties or every identity of a kind."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from clarion.model.identifiers import SubscriberId

MAX_LIST_ITEMS = 100  # tokens, subscriptions, inbox ids per provider entry; items of a list property


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    PUSH = "push"
    WEB_PUSH = "web_push"
    INBOX = "inbox"
    CHAT = "chat"


WEB_PUSH_PROVIDER = "webpush"
INBOX_PROVIDER = "inbox"
_LISTS = {
    IdentityKind.PUSH: "deviceTokens",
    IdentityKind.WEB_PUSH: "subscriptions",
    IdentityKind.INBOX: "inboxIds",
}


class Identity(BaseModel):
    """One address: `value` for email, phone, push token, inbox id; `credentials` for a chat
    identity (webhookUrl, channel, userId, ...) or a Web Push subscription."""

    model_config = ConfigDict(frozen=True)

    kind: IdentityKind
    provider_id: str | None = None
    value: str | None = None
    credentials: dict[str, Any] | None = None

    def provider(self) -> str | None:
        if self.kind is IdentityKind.WEB_PUSH:
            return WEB_PUSH_PROVIDER
        if self.kind is IdentityKind.INBOX:
            return INBOX_PROVIDER
        return self.provider_id

    def item(self) -> Any:
        """What this identity adds to its provider entry's list."""
        return self.credentials if self.kind is IdentityKind.WEB_PUSH else self.value


class IdentityClass(BaseModel):
    """Every identity of a kind (at these providers, or any): what `unset` clears."""

    model_config = ConfigDict(frozen=True)

    kind: IdentityKind
    provider_ids: tuple[str, ...] | None = None


ProfileField = Literal["locale", "timezone"]


class SetFields(BaseModel):
    model_config = ConfigDict(frozen=True)
    op: Literal["set"] = "set"
    once: bool = False  # only where nothing is stored yet
    profile: dict[ProfileField, str] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)


class Increment(BaseModel):
    model_config = ConfigDict(frozen=True)
    op: Literal["increment"] = "increment"
    data: dict[str, int | float]


class ListChange(BaseModel):
    """Append values to (or remove them from) list properties of `data`, and add (or remove)
    identities."""

    model_config = ConfigDict(frozen=True)
    op: Literal["append", "remove"]
    data: dict[str, Any] = Field(default_factory=dict)
    identities: list[Identity] = Field(default_factory=list)


class Unset(BaseModel):
    model_config = ConfigDict(frozen=True)
    op: Literal["unset"] = "unset"
    profile: list[ProfileField] = Field(default_factory=list)
    data: list[str] = Field(default_factory=list)
    identities: list[IdentityClass] = Field(default_factory=list)


ProfileOperation = Annotated[SetFields | Increment | ListChange | Unset, Field(discriminator="op")]


class ProfileEdit(BaseModel):
    """Edits to one subscriber, created if it does not exist."""

    model_config = ConfigDict(frozen=True)

    subscriber_id: SubscriberId
    operations: list[ProfileOperation] = Field(default_factory=list)


class ProfileEditError(ValueError):
    """An edit that cannot apply to the stored profile (a list grown past its limit)."""


def apply_edit(subscriber: dict[str, Any], edit: ProfileEdit) -> dict[str, Any]:
    """The subscriber (in API names) after the edit's operations, in order; the argument is
    not changed."""
    doc = {**subscriber, "data": dict(subscriber.get("data") or {})}
    doc["channels"] = [_copy_entry(e) for e in subscriber.get("channels") or []]
    for operation in edit.operations:
        _apply(doc, operation)
    if not doc["channels"]:
        doc.pop("channels")
    if not doc["data"] and "data" not in subscriber:
        doc.pop("data")
    return doc


def channel_entries(identities: list[Identity]) -> list[dict[str, Any]]:
    """Channel entries holding these identities (emails and phones excluded: they are fields)."""
    doc: dict[str, Any] = {"channels": []}
    for identity in identities:
        if identity.kind not in (IdentityKind.EMAIL, IdentityKind.PHONE):
            _add(doc, identity)
    return list(doc["channels"])


def _apply(doc: dict[str, Any], operation: SetFields | Increment | ListChange | Unset) -> None:
    data: dict[str, Any] = doc["data"]
    if isinstance(operation, SetFields):
        for name, value in operation.profile.items():
            if not (operation.once and doc.get(name) is not None):
                doc[name] = value
        for key, value in operation.data.items():
            if not (operation.once and key in data):
                data[key] = value
    elif isinstance(operation, Increment):
        for key, amount in operation.data.items():
            current = data.get(key)
            number = current if isinstance(current, int | float) and not isinstance(current, bool) else 0
            data[key] = number + amount
    elif isinstance(operation, ListChange):
        for key, value in operation.data.items():
            _change_list(data, key, value, operation.op == "append")
        for identity in operation.identities:
            (_add if operation.op == "append" else _remove)(doc, identity)
    else:
        for name in operation.profile:
            doc.pop(name, None)
        for key in operation.data:
            data.pop(key, None)
        for identities in operation.identities:
            _clear(doc, identities)


def _change_list(data: dict[str, Any], key: str, value: Any, append: bool) -> None:
    current = data.get(key)
    values = list(current) if isinstance(current, list) else ([] if current is None else [current])
    if append:
        values.append(value)
        if len(values) > MAX_LIST_ITEMS:
            raise ProfileEditError(f"{key}: a list property holds at most {MAX_LIST_ITEMS} items")
    else:
        values = [v for v in values if v != value]
    data[key] = values


_FIELDS = {IdentityKind.EMAIL: "email", IdentityKind.PHONE: "phone"}


def _add(doc: dict[str, Any], identity: Identity) -> None:
    if identity.kind in _FIELDS:
        doc[_FIELDS[identity.kind]] = identity.value
        return
    channels: list[dict[str, Any]] = doc["channels"]
    provider = identity.provider()
    if identity.kind is IdentityKind.CHAT:
        chat = {"providerId": provider, "credentials": dict(identity.credentials or {})}
        if chat not in channels:
            channels.append(chat)
        return
    name = _LISTS[identity.kind]
    entry: dict[str, Any] | None = next((e for e in channels if _holds_list(e, provider)), None)
    if entry is None:
        entry = {"providerId": provider, "credentials": {}}
        channels.append(entry)
    values: list[Any] = entry["credentials"].setdefault(name, [])
    if identity.item() not in values:
        values.append(identity.item())
    if len(values) > MAX_LIST_ITEMS:
        raise ProfileEditError(f"{provider}: a subscriber holds at most {MAX_LIST_ITEMS} {name}")


def _remove(doc: dict[str, Any], identity: Identity) -> None:
    if identity.kind in _FIELDS:
        if doc.get(_FIELDS[identity.kind]) == identity.value:
            doc.pop(_FIELDS[identity.kind])
        return
    channels: list[dict[str, Any]] = doc["channels"]
    provider = identity.provider()
    if identity.kind is IdentityKind.CHAT:
        doc["channels"] = [
            e
            for e in channels
            if not (e.get("providerId") == provider and e.get("credentials") == identity.credentials)
        ]
        return
    name = _LISTS[identity.kind]
    for entry in channels:
        if _holds_list(entry, provider):
            entry["credentials"][name] = [v for v in entry["credentials"][name] if v != identity.item()]
    doc["channels"] = [e for e in channels if not _emptied(e)]


def _clear(doc: dict[str, Any], identities: IdentityClass) -> None:
    if identities.kind in _FIELDS:
        doc.pop(_FIELDS[identities.kind], None)
        return
    providers = identities.provider_ids or ()
    if identities.kind is IdentityKind.WEB_PUSH:
        providers = (WEB_PUSH_PROVIDER,)
    elif identities.kind is IdentityKind.INBOX:
        providers = (INBOX_PROVIDER,)
    doc["channels"] = [e for e in doc["channels"] if e.get("providerId") not in providers]


def _holds_list(entry: dict[str, Any], provider: str | None) -> bool:
    return entry.get("providerId") == provider and not entry.get("integrationIdentifier")


def _emptied(entry: dict[str, Any]) -> bool:
    credentials = entry.get("credentials") or {}
    return credentials != {} and all(value == [] for value in credentials.values())


def _copy_entry(entry: Any) -> Any:
    if not isinstance(entry, dict):
        return entry
    credentials = entry.get("credentials")
    copied = {k: (list(v) if isinstance(v, list) else v) for k, v in (credentials or {}).items()}
    return {**entry, "credentials": copied} if credentials is not None else dict(entry)

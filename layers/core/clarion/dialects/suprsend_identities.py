"""SuprSend's channel identities as its SDKs send them (`request_json/workflow_trigger.json` of
suprsend-py-sdk and @suprsend/node-sdk), turned into the internal model's identities
(model.profile.Identity). Nothing below the adapters reads a `$`-key.

Each identity key takes one value or an array of 1-10:
- `$email`, `$sms`, `$whatsapp`, `$inbox`: strings (`$whatsapp` numbers are the phone);
- `$androidpush` / `$iospush`: a token string or `{token, provider, device_id, bundle_id}`
  (android providers fcm, xiaomi, oppo; iOS apns);
- `$webpush`: a Web Push subscription object;
- `$slack`: `{email|user_id|channel(_id), access_token}` or `{incoming_webhook: {url}}`;
- `$ms_teams`: `{tenant_id, service_url, conversation_id|user_id}` or `{incoming_webhook: {url}}`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from clarion.model.profile import Identity, IdentityClass, IdentityKind

MAX_PER_KEY = 10
ANDROID_PROVIDERS = ("fcm", "xiaomi", "oppo")
IOS_PROVIDERS = ("apns",)
IDENTITY_KEYS = (
    "$email",
    "$sms",
    "$whatsapp",
    "$inbox",
    "$androidpush",
    "$iospush",
    "$webpush",
    "$slack",
    "$ms_teams",
)


def _one_or_many(value: Any) -> Any:
    return value if isinstance(value, list) or value is None else [value]


def _token_object(value: Any) -> Any:
    return {"token": value} if isinstance(value, str) else value


Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]
_OneOrMany = BeforeValidator(_one_or_many)
_Count = Field(min_length=1, max_length=MAX_PER_KEY)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PushToken(_Strict):
    token: Text
    provider: str | None = Field(default=None, max_length=32)
    device_id: str | None = Field(default=None, max_length=256)
    bundle_id: str | None = Field(default=None, max_length=256)


class AndroidPush(PushToken):
    provider: Literal["fcm", "xiaomi", "oppo"] | None = None


class IosPush(PushToken):
    provider: Literal["apns"] | None = None


class Webhook(_Strict):
    url: Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://")]


class SlackIdentity(_Strict):
    email: Address | None = None
    user_id: Address | None = None
    channel: Address | None = None
    channel_id: Address | None = None
    access_token: Text | None = None
    incoming_webhook: Webhook | None = None

    @model_validator(mode="after")
    def _addressed(self) -> SlackIdentity:
        if self.incoming_webhook is None and not (
            self.email or self.user_id or self.channel or self.channel_id
        ):
            raise ValueError("give incoming_webhook.url, or email, user_id or channel with access_token")
        return self

    def credentials(self) -> dict[str, Any]:
        found = {
            "webhookUrl": self.incoming_webhook.url if self.incoming_webhook else None,
            "channel": self.channel or self.channel_id,
            "userId": self.user_id,
            "email": self.email,
            "accessToken": self.access_token,
        }
        return {k: v for k, v in found.items() if v is not None}


class TeamsIdentity(_Strict):
    tenant_id: Address | None = None
    service_url: Annotated[str, StringConstraints(max_length=2048, pattern=r"^https://")] | None = None
    conversation_id: Address | None = None
    user_id: Address | None = None
    incoming_webhook: Webhook | None = None

    @model_validator(mode="after")
    def _addressed(self) -> TeamsIdentity:
        if self.incoming_webhook is None and not (
            self.tenant_id and self.service_url and (self.conversation_id or self.user_id)
        ):
            raise ValueError(
                "give incoming_webhook.url, or tenant_id, service_url and conversation_id or user_id"
            )
        return self

    def credentials(self) -> dict[str, Any]:
        found = {
            "webhookUrl": self.incoming_webhook.url if self.incoming_webhook else None,
            "tenantId": self.tenant_id,
            "serviceUrl": self.service_url,
            "conversationId": self.conversation_id,
            "userId": self.user_id,
        }
        return {k: v for k, v in found.items() if v is not None}


Strings = Annotated[list[Address], _OneOrMany, _Count]
AndroidTokens = Annotated[list[Annotated[AndroidPush, BeforeValidator(_token_object)]], _OneOrMany, _Count]
IosTokens = Annotated[list[Annotated[IosPush, BeforeValidator(_token_object)]], _OneOrMany, _Count]
WebPushSubscriptions = Annotated[list[Annotated[dict[str, Any], Field(min_length=1)]], _OneOrMany, _Count]
SlackIdentities = Annotated[list[SlackIdentity], _OneOrMany, _Count]
TeamsIdentities = Annotated[list[TeamsIdentity], _OneOrMany, _Count]


class Identities(BaseModel):
    """The identity keys of a recipient, actor or profile operation."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    email: Strings | None = Field(default=None, alias="$email")
    sms: Strings | None = Field(default=None, alias="$sms")
    whatsapp: Strings | None = Field(default=None, alias="$whatsapp")
    inbox: Strings | None = Field(default=None, alias="$inbox")
    androidpush: AndroidTokens | None = Field(default=None, alias="$androidpush")
    iospush: IosTokens | None = Field(default=None, alias="$iospush")
    webpush: WebPushSubscriptions | None = Field(default=None, alias="$webpush")
    slack: SlackIdentities | None = Field(default=None, alias="$slack")
    ms_teams: TeamsIdentities | None = Field(default=None, alias="$ms_teams")

    def identities(self, provider: str | None = None) -> list[Identity]:
        """In the order SuprSend lists its channels; `provider` is the SDK's `$id_provider`
        for push tokens that do not name their own."""
        found = [Identity(kind=IdentityKind.EMAIL, value=v) for v in self.email or []]
        found += [
            Identity(kind=IdentityKind.PHONE, value=v) for v in (self.sms or []) + (self.whatsapp or [])
        ]
        found += [Identity(kind=IdentityKind.INBOX, value=v) for v in self.inbox or []]
        android = provider if provider in ANDROID_PROVIDERS else "fcm"
        found += [
            Identity(kind=IdentityKind.PUSH, provider_id=t.provider or android, value=t.token)
            for t in self.androidpush or []
        ]
        found += [
            Identity(kind=IdentityKind.PUSH, provider_id="apns", value=t.token) for t in self.iospush or []
        ]
        found += [Identity(kind=IdentityKind.WEB_PUSH, credentials=s) for s in self.webpush or []]
        found += [
            Identity(kind=IdentityKind.CHAT, provider_id="slack", credentials=s.credentials())
            for s in self.slack or []
        ]
        found += [
            Identity(kind=IdentityKind.CHAT, provider_id="msteams", credentials=t.credentials())
            for t in self.ms_teams or []
        ]
        return found


# What `unset` of an identity key clears.
IDENTITY_CLASSES = {
    "$email": IdentityClass(kind=IdentityKind.EMAIL),
    "$sms": IdentityClass(kind=IdentityKind.PHONE),
    "$whatsapp": IdentityClass(kind=IdentityKind.PHONE),
    "$inbox": IdentityClass(kind=IdentityKind.INBOX),
    "$androidpush": IdentityClass(kind=IdentityKind.PUSH, provider_ids=ANDROID_PROVIDERS),
    "$iospush": IdentityClass(kind=IdentityKind.PUSH, provider_ids=IOS_PROVIDERS),
    "$webpush": IdentityClass(kind=IdentityKind.WEB_PUSH),
    "$slack": IdentityClass(kind=IdentityKind.CHAT, provider_ids=("slack",)),
    "$ms_teams": IdentityClass(kind=IdentityKind.CHAT, provider_ids=("msteams",)),
}


def with_stored_identities(subscriber: dict[str, Any]) -> dict[str, Any]:
    """Read-compat for a stored subscriber that keeps SuprSend identity keys as they were sent
    (`$email`, `$sms`, `$androidpush`, `$iospush`, `$slack`, `$ms_teams`: one value or a list, at
    the top level or inside `data`; written by hand through `data`, never by this adapter, which
    maps them on the way in): the same subscriber with them as the internal model's `email`,
    `phone` and `channels` (model.profile), which is all a channel reads. A field already set
    wins; a value that is not an address is ignored, as it was."""
    found = {key: _stored_values(subscriber, key) for key in _STORED_KEYS}
    if not any(found.values()):
        return subscriber
    doc = dict(subscriber)
    for key, field in (("$email", "email"), ("$sms", "phone")):
        strings = [v.strip() for v in found[key] if isinstance(v, str) and v.strip()]
        if strings and not (isinstance(doc.get(field), str) and doc[field].strip()):
            doc[field] = strings[0]
    channels = list(doc.get("channels") or [])
    for key, provider in (("$androidpush", "fcm"), ("$iospush", "apns")):
        tokens = [v.strip() for v in found[key] if isinstance(v, str) and v.strip()]
        if tokens:
            channels.append({"providerId": provider, "credentials": {"deviceTokens": tokens}})
    for key, provider in (("$slack", "slack"), ("$ms_teams", "msteams")):
        for identity in found[key]:
            hook = identity.get("incoming_webhook") if isinstance(identity, dict) else None
            url = hook.get("url") if isinstance(hook, dict) else None
            if isinstance(url, str) and url.strip():
                channels.append({"providerId": provider, "credentials": {"webhookUrl": url.strip()}})
    if channels:
        doc["channels"] = channels
    return doc


_STORED_KEYS = ("$email", "$sms", "$androidpush", "$iospush", "$slack", "$ms_teams")


def _stored_values(subscriber: dict[str, Any], key: str) -> list[Any]:
    data = subscriber.get("data")
    value = subscriber.get(key)
    if value is None and isinstance(data, dict):
        value = data.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]

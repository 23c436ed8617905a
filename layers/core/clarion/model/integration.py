"""Integrations: the provider that delivers one channel for an environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, create_model, field_validator

from clarion.model.strict import StrictModel

IntegrationChannel = Literal["in_app", "email", "sms", "chat", "push", "webhook"]

# Credential keys whose values are not secrets, shown in full by the API; all others are masked.
PUBLIC_CREDENTIALS = frozenset(
    {"from", "senderName", "region", "baseUrl", "host", "port", "secure", "user", "domain", "applicationId"}
)


_URL = r"^https?://\S+$"
Text = Annotated[str, Field(min_length=1, max_length=2048)]
Url = Annotated[str, Field(max_length=2048, pattern=_URL)]


@dataclass(frozen=True)
class Provider:
    """The credentials one provider reads (name -> type); `required` are the ones it cannot work
    without, each a tuple of names any one of which will do (`webhookUrl` or `url`)."""

    credentials: dict[str, Any] = field(default_factory=dict)
    required: tuple[tuple[str, ...], ...] = ()
    without: str = ""  # why it reads no credentials, when it reads none


# The providerIds each channel delivers through (clarion.channels: email.py, sms.py, chat.py,
# push.py, webhook.py; in-app messages are Clarion's own, Novu's provider id `novu`), and the
# credentials each reads. tests/unit/test_integration_providers.py keeps this in step with them.
PROVIDERS: dict[str, dict[str, Provider]] = {
    "in_app": {"novu": Provider(without="in-app messages are stored by Clarion itself")},
    "email": {
        "ses": Provider(
            {
                "from": Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")],
                "senderName": Text,
                "replyTo": Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")],
                "configurationSetName": Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
            }
        )
    },
    "sms": {
        "sns": Provider(
            {
                "senderId": Annotated[str, Field(max_length=11, pattern=r"^[A-Za-z0-9]+$")],
                "smsType": Literal["Transactional", "Promotional"],
                "originationNumber": Annotated[str, Field(pattern=r"^\+[1-9]\d{6,14}$")],
            }
        )
    },
    "chat": {
        name: Provider(without="chat webhook URLs are each subscriber's (channels[].credentials.webhookUrl)")
        for name in ("slack", "discord", "msteams", "ms_teams", "ms-teams", "teams")
    },
    "push": {
        "sns": Provider(
            {"platformApplicationArns": list[Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:sns:")]]}
        ),
        "push-webhook": Provider(
            {"webhookUrl": Url, "url": Url, "secretKey": Text, "secret": Text},
            required=(("webhookUrl", "url"), ("secretKey", "secret")),
        ),
    },
    "webhook": {"webhook": Provider({"url": Url, "webhookUrl": Url, "secretKey": Text, "secret": Text})},
}


class IntegrationCreate(StrictModel):
    channel: IntegrationChannel
    provider_id: str = Field(alias="providerId", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    credentials: dict[Annotated[str, Field(min_length=1, max_length=128)], Any] = Field(
        default_factory=dict, max_length=50
    )
    active: bool = True
    identifier: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str | None = Field(default=None, max_length=256)

    @field_validator("provider_id")
    @classmethod
    def _delivered(cls, provider_id: str, info: ValidationInfo) -> str:
        channel = info.data.get("channel")
        offered = PROVIDERS.get(channel or "", {})
        if channel is not None and provider_id.lower() not in offered:
            raise ValueError(
                f"'{provider_id}' is not a provider the {channel} channel delivers through: "
                f"{', '.join(offered)}"
            )
        return provider_id

    @field_validator("credentials")
    @classmethod
    def _what_it_reads(cls, credentials: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        offered = PROVIDERS.get(info.data.get("channel") or "", {})
        provider = offered.get(str(info.data.get("provider_id", "")).lower())
        if provider is None:
            return credentials  # the channel or providerId is already reported
        if not provider.credentials and credentials:
            raise ValueError(f"{info.data['provider_id']} reads no credentials: {provider.without}")
        _credentials_model(provider).model_validate(credentials)
        for names in provider.required:
            if not any(credentials.get(name) for name in names):
                raise ValueError(f"{' or '.join(names)}: required by {info.data['provider_id']}")
        return credentials


def _credentials_model(provider: Provider) -> type[StrictModel]:
    fields: dict[str, Any] = {name: (kind | None, None) for name, kind in provider.credentials.items()}
    return create_model("Credentials", __base__=StrictModel, **fields)


def masked(integration: dict[str, Any]) -> dict[str, Any]:
    """The integration as a GET shows it: secret credential values reduced to their last 4 characters."""
    return integration | {
        "credentials": {
            name: value if name in PUBLIC_CREDENTIALS else _mask(value)
            for name, value in (integration.get("credentials") or {}).items()
        }
    }


def _mask(value: Any) -> str:
    text = value if isinstance(value, str) else ""
    return "****" + text[-4:] if len(text) >= 12 else "****"

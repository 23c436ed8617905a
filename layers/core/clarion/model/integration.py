"""Integrations: the provider that delivers one channel for an environment."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

IntegrationChannel = Literal["in_app", "email", "sms", "chat", "push", "webhook"]

# Credential keys whose values are not secrets, shown in full by the API; all others are masked.
PUBLIC_CREDENTIALS = frozenset(
    {"from", "senderName", "region", "baseUrl", "host", "port", "secure", "user", "domain", "applicationId"}
)


class IntegrationCreate(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    provider_id: str = Field(alias="providerId", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    channel: IntegrationChannel
    credentials: dict[Annotated[str, Field(min_length=1, max_length=128)], Any] = Field(
        default_factory=dict, max_length=50
    )
    active: bool = True
    identifier: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str | None = Field(default=None, max_length=256)


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

"""The caller's environment: `GET /v1/environment` shows its settings (the Inbox's public
`applicationIdentifier` among them), `PATCH /v1/environment` changes those a key holder may
change. Each group of settings is its own optional object of the body; an unknown field, at
any level, is refused naming it, so a typo never passes for a setting. Limits are shown, and
set by the operator (`clarion env limits`)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field

from clarion.api.errors import NotFoundError
from clarion.model.opt_in import OptInMode
from clarion.store import environment_settings, environments, items, opt_in, profile_match

router = APIGatewayRouter()

Origin = Annotated[
    str,
    Field(
        max_length=256,
        pattern=r"^(\*|https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)$",
        description="`*`, or a browser origin: scheme://host[:port], no path",
    ),
]


class InboxSettingsPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    subscriber_hash_required: bool | None = Field(
        default=None,
        alias="subscriberHashRequired",
        description="an Inbox session needs subscriberHash = hex(HMAC-SHA256(apiKey, subscriberId))",
    )
    allowed_origins: list[Origin] | None = Field(
        default=None,
        alias="allowedOrigins",
        max_length=50,
        description="browser origins allowed to call /v1/inbox/*; `*` allows any",
    )


class EnvironmentSettingsPatch(BaseModel):
    """Settings groups; those not sent are kept."""

    model_config = ConfigDict(extra="forbid")

    inbox: InboxSettingsPatch | None = None
    match_fields: list[Annotated[str, Field(pattern=profile_match.FIELD_NAME.pattern)]] | None = Field(
        default=None,
        alias="matchFields",
        max_length=profile_match.MAX_MATCH_FIELDS,
        description="subscriber `data` fields Altcraft's matching may use (indexed; email and phone always are)",
    )
    opt_in_mode: OptInMode | None = Field(
        default=None,
        alias="optInMode",
        description="double_opt_in: Sequenzy's new subscribers confirm by email",
    )


def _not_found(environment_id: str) -> NotFoundError:
    return NotFoundError(f"environment: '{environment_id}' not found")


def _view(environment_id: str) -> dict[str, Any]:
    item = environment_settings.environment_item(environment_id)
    if item is None:
        raise _not_found(environment_id)
    application_identifier = items.string(item, "applicationIdentifier")
    if application_identifier is None:
        application_identifier = environment_settings.application_identifier(environment_id)
    inbox = environment_settings.inbox_settings(environment_id, item)
    limit = environments.rate_limit(environment_id)
    return {
        "environmentId": environment_id,
        "name": items.string(item, "name") or environment_id,
        "applicationIdentifier": application_identifier,
        "createdAt": items.string(item, "createdAt"),
        "inbox": {
            "subscriberHashRequired": inbox.subscriber_hash_required,
            "allowedOrigins": list(inbox.allowed_origins),
        },
        "limits": {"perSecond": limit.per_second, "burst": limit.burst},
        "matchFields": list(environment_settings.match_fields(environment_id, item)),
        "optInMode": items.string(item, "optInMode") or OptInMode.DEFAULT.value,
    }


@router.get("/v1/environment")
def get_environment() -> dict[str, Any]:
    return {"data": _view(router.context["environment_id"])}


@router.patch("/v1/environment")
def update_environment(changes: EnvironmentSettingsPatch) -> dict[str, Any]:
    environment_id = router.context["environment_id"]
    if changes.inbox is not None:
        origins = changes.inbox.allowed_origins
        try:
            environment_settings.set_inbox_settings(
                environment_id,
                subscriber_hash_required=changes.inbox.subscriber_hash_required,
                allowed_origins=None if origins is None else [o.lower() for o in origins],
            )
        except environments.EnvironmentNotFoundError as error:
            raise _not_found(environment_id) from error
    if changes.match_fields is not None:
        _set_match_fields(environment_id, changes.match_fields)
    if changes.opt_in_mode is not None:
        try:
            opt_in.set_mode(environment_id, changes.opt_in_mode)
        except environments.EnvironmentNotFoundError as error:
            raise _not_found(environment_id) from error
    return {"data": _view(environment_id)}


def _set_match_fields(environment_id: str, fields: list[str]) -> None:
    """Declare the match fields; those new to the environment are back-filled from its subscribers."""
    try:
        profile_match.declare(environment_id, fields)
    except environments.EnvironmentNotFoundError as error:
        raise _not_found(environment_id) from error

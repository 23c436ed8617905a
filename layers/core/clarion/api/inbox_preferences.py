"""The Inbox's preferences (`GET/PATCH /v1/inbox/preferences`, per workflow
`PATCH /v1/inbox/preferences/{workflowId}`): the subscriber's stored preferences
(`{channels, workflows}`, what `PATCH /v1/subscribers/{id}/preferences` sets), shown as Novu's
PreferencesResponse. Whether a channel shows as on is asked of the engine's own decision
(engine.conditions.skip_reason), so the Inbox shows exactly what the engine will do."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field

from clarion.api.errors import ConflictError, NotFoundError
from clarion.api.paths import path_id
from clarion.clock import now_iso
from clarion.dialects.novu_inbox import WorkflowInfo
from clarion.engine.conditions import PREFERENCE_CHANNELS, skip_reason
from clarion.model import Step, Workflow
from clarion.model.identifiers import WorkflowName
from clarion.model.subscriber import PreferencesPatch, merge_preferences
from clarion.store import subscribers, workflows

router = APIGatewayRouter()

CHANNELS = ("in_app", "email", "sms", "chat", "push")  # the order the Inbox shows them in


class ChannelPreferences(BaseModel):
    """Novu's ChannelPreference: the channels to turn on or off; those not sent are kept."""

    model_config = ConfigDict(extra="forbid")

    in_app: bool | None = None
    email: bool | None = None
    sms: bool | None = None
    chat: bool | None = None
    push: bool | None = None

    def sent(self) -> dict[str, bool]:
        return self.model_dump(exclude_none=True, exclude={"workflow_id"})


class WorkflowChannelPreferences(ChannelPreferences):
    workflow_id: WorkflowName = Field(alias="workflowId")


class BulkPreferences(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preferences: list[WorkflowChannelPreferences] = Field(min_length=1, max_length=100)


def _context() -> tuple[str, str]:
    return router.context["environment_id"], router.context["subscriber_id"]


def _subscriber(environment_id: str, subscriber_id: str) -> dict[str, Any]:
    return subscribers.get(environment_id, subscriber_id) or {"subscriberId": subscriber_id}


def _global(subscriber: dict[str, Any]) -> dict[str, Any]:
    chosen = (subscriber.get("preferences") or {}).get("channels") or {}
    return {
        "level": "global",
        "enabled": True,
        "channels": {channel: chosen.get(channel) is not False for channel in CHANNELS},
    }


def _channel_on(workflow: Workflow, channel: str, subscriber: dict[str, Any]) -> bool:
    """What the engine decides for a step of this channel with no conditions. (Where the engine
    takes the Workflow itself, for `critical` and `preferenceSettings`, pass it here too.)"""
    step = Step.model_validate({"stepId": "preference", "type": channel})
    return skip_reason(step, workflow.workflow_id, subscriber, {}) is None


def _info(workflow: Workflow) -> WorkflowInfo:
    return WorkflowInfo(
        workflow.workflow_id,
        name=workflow.name,
        tags=tuple(getattr(workflow, "tags", None) or ()),
        critical=bool(getattr(workflow, "critical", False)),
    )


def _for_workflow(workflow: Workflow, subscriber: dict[str, Any]) -> dict[str, Any]:
    present = [
        c for c in CHANNELS if c in PREFERENCE_CHANNELS and any(s.type.value == c for s in workflow.steps)
    ]
    channels = {channel: _channel_on(workflow, channel, subscriber) for channel in present}
    return {
        "level": "template",
        "enabled": any(channels.values()) or not channels,
        "channels": channels,
        "workflow": _info(workflow).answer(),
    }


def _criticality_allows(workflow: Workflow, criticality: str) -> bool:
    critical = bool(getattr(workflow, "critical", False))
    return criticality == "all" or critical == (criticality == "critical")


@router.get("/v1/inbox/preferences")
def list_preferences(
    criticality: Annotated[Literal["critical", "nonCritical", "all"], Query()] = "nonCritical",
) -> dict[str, Any]:
    """The global preference, then one per active workflow (of the criticality, with any of
    the `tags[]` asked for)."""
    environment_id, subscriber_id = _context()
    subscriber = _subscriber(environment_id, subscriber_id)
    tags = set((router.current_event.multi_value_query_string_parameters or {}).get("tags[]") or ())
    shown = [
        workflow
        for workflow in sorted(workflows.list_all(environment_id), key=lambda w: w.workflow_id)
        if workflow.active
        and _criticality_allows(workflow, criticality)
        and (not tags or tags.intersection(_info(workflow).tags))
    ]
    return {"data": [_global(subscriber)] + [_for_workflow(w, subscriber) for w in shown]}


@router.get("/v1/inbox/preferences/global")
def global_preference() -> dict[str, Any]:
    environment_id, subscriber_id = _context()
    return {"data": _global(_subscriber(environment_id, subscriber_id))}


def _update(patch: PreferencesPatch) -> dict[str, Any]:
    environment_id, subscriber_id = _context()

    def change(current: dict[str, Any]) -> dict[str, Any]:
        return current | {"preferences": merge_preferences(current.get("preferences"), patch)}

    try:
        stored = subscribers.update(environment_id, subscriber_id, change, now_iso())
    except subscribers.ConcurrentUpdateError as error:
        raise ConflictError(f"subscriberId: {error}") from error
    if stored is None:
        raise NotFoundError(f"subscriberId: subscriber '{subscriber_id}' not found")
    return stored


@router.patch("/v1/inbox/preferences")
def update_global(channels: ChannelPreferences) -> dict[str, Any]:
    return {"data": _global(_update(PreferencesPatch.model_validate({"channels": channels.sent()})))}


def _workflows(environment_id: str, workflow_ids: set[str]) -> dict[str, Workflow]:
    found = workflows.get_many(environment_id, workflow_ids)
    unknown = sorted(workflow_id for workflow_id, workflow in found.items() if workflow is None)
    if unknown:
        raise NotFoundError(f"workflowId: workflow '{unknown[0]}' not found")
    return {workflow_id: workflow for workflow_id, workflow in found.items() if workflow is not None}


@router.patch("/v1/inbox/preferences/bulk")
def update_many(body: BulkPreferences) -> dict[str, Any]:
    environment_id, _ = _context()
    found = _workflows(environment_id, {p.workflow_id for p in body.preferences})
    patch = PreferencesPatch.model_validate(
        {"workflows": {p.workflow_id: p.sent() for p in body.preferences}}
    )
    stored = _update(patch)
    return {"data": [_for_workflow(found[p.workflow_id], stored) for p in body.preferences]}


@router.patch("/v1/inbox/preferences/<workflow_id>")
def update_workflow(workflow_id: str, channels: ChannelPreferences) -> dict[str, Any]:
    environment_id, _ = _context()
    workflow_id = path_id(workflow_id, "workflowId")
    found = _workflows(environment_id, {workflow_id})
    stored = _update(PreferencesPatch.model_validate({"workflows": {workflow_id: channels.sent()}}))
    return {"data": _for_workflow(found[workflow_id], stored)}

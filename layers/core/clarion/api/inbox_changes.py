"""The Inbox's changes to notifications: one at a time (`PATCH /v1/inbox/notifications/{id}/read`,
unread, archive, unarchive, snooze, unsnooze, complete, revert; `DELETE .../{id}/delete`) and in
bulk (`POST /v1/inbox/notifications/read|archive|read-archive|seen|delete`), with the state
changes Novu's client expects (read unarchives, archive reads); and the CORS preflight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from clarion.api import inbox_auth
from clarion.api.errors import BadRequestError, NotFoundError
from clarion.api.inbox import MAX_SNOOZE_HOURS, NotificationPath, notifications, workflow_info
from clarion.api.paths import path_id
from clarion.clock import now_iso
from clarion.dialects import novu_inbox
from clarion.dialects.novu_inbox import FilterError, TagsFilter
from clarion.store import inbox

router = APIGatewayRouter()

MAX_BULK_CHANGES = 1000  # one bulk action changes at most this many notifications


def _context() -> tuple[str, str]:
    return router.context["environment_id"], router.context["subscriber_id"]


# ------------------------------------------------------------------ one notification at a time


def _changed(
    notification_id: str, set_values: dict[str, Any], remove: tuple[str, ...] = ()
) -> dict[str, Any]:
    environment_id, subscriber_id = _context()
    notification_id = path_id(notification_id, "notificationId")
    row = inbox.change(
        environment_id, subscriber_id, notification_id, set_values, remove, keep_if_set=("seenAt", "readAt")
    )
    if row is None:
        raise NotFoundError(f"notificationId: notification '{notification_id}' not found")
    workflow = workflow_info(environment_id, row.message["workflowId"], {})
    return {"data": novu_inbox.notification(row, workflow, now_iso())}


def _read(now: str) -> dict[str, Any]:
    return {"isRead": True, "readAt": now, "isSeen": True, "seenAt": now}


_ARCHIVED = ("archivedAt",)


@router.patch(f"{NotificationPath}/read")
def mark_read(notification_id: str) -> dict[str, Any]:
    return _changed(notification_id, _read(now_iso()) | {"isArchived": False}, _ARCHIVED)


@router.patch(f"{NotificationPath}/unread")
def mark_unread(notification_id: str) -> dict[str, Any]:
    return _changed(notification_id, {"isRead": False, "isArchived": False}, ("readAt", "archivedAt"))


@router.patch(f"{NotificationPath}/archive")
def archive(notification_id: str) -> dict[str, Any]:
    now = now_iso()
    return _changed(notification_id, _read(now) | {"isArchived": True, "archivedAt": now})


@router.patch(f"{NotificationPath}/unarchive")
def unarchive(notification_id: str) -> dict[str, Any]:
    return _changed(notification_id, _read(now_iso()) | {"isArchived": False}, _ARCHIVED)


class SnoozeRequest(BaseModel):
    snooze_until: AwareDatetime = Field(alias="snoozeUntil")


@router.patch(f"{NotificationPath}/snooze")
def snooze(notification_id: str, request: SnoozeRequest) -> dict[str, Any]:
    now = datetime.now(UTC)
    until = request.snooze_until.astimezone(UTC)
    if not now < until <= now + timedelta(hours=MAX_SNOOZE_HOURS):
        raise BadRequestError(f"snoozeUntil: must be in the future, at most {MAX_SNOOZE_HOURS} hours away")
    stamp = until.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return _changed(notification_id, {"snoozedUntil": stamp})


@router.patch(f"{NotificationPath}/unsnooze")
def unsnooze(notification_id: str) -> dict[str, Any]:
    return _changed(notification_id, {}, ("snoozedUntil",))


class ActionRequest(BaseModel):
    action_type: Literal["primary", "secondary"] = Field(alias="actionType")


@router.patch(f"{NotificationPath}/complete")
def complete_action(notification_id: str, request: ActionRequest) -> dict[str, Any]:
    return _changed(notification_id, {f"{request.action_type}Done": True})


@router.patch(f"{NotificationPath}/revert")
def revert_action(notification_id: str, request: ActionRequest) -> dict[str, Any]:
    return _changed(notification_id, {f"{request.action_type}Done": False})


@router.delete(f"{NotificationPath}/delete")
def delete_notification(notification_id: str) -> Response[None]:
    environment_id, subscriber_id = _context()
    notification_id = path_id(notification_id, "notificationId")
    if not inbox.delete(environment_id, subscriber_id, notification_id):
        raise NotFoundError(f"notificationId: notification '{notification_id}' not found")
    return Response(status_code=204, body=None)


# ----------------------------------------------------------------------------- bulk changes


class BulkRequest(BaseModel):
    """Which notifications: those with these tags and data; `notificationIds` for `seen`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    tags: TagsFilter | None = None
    data: str | dict[str, Any] | None = Field(default=None)
    notification_ids: list[Annotated[str, Field(min_length=1, max_length=1024)]] | None = Field(
        default=None, alias="notificationIds", max_length=100
    )


OptionalBulk = Annotated[BulkRequest | None, Body()]


def _bulk(request: BulkRequest | None, change: Any, **state: bool) -> Response[None]:
    environment_id, subscriber_id = _context()
    request = request or BulkRequest()
    try:
        wanted = novu_inbox.filter_from({"tags": request.tags, "data": request.data, **state})
    except FilterError as error:
        raise BadRequestError(str(error)) from error
    chosen = set(request.notification_ids or ())
    ids = []
    for answer in notifications(environment_id, subscriber_id, wanted):
        if not chosen or answer["id"] in chosen:
            ids.append(answer["id"])
        if len(ids) == MAX_BULK_CHANGES:
            break
    now = now_iso()
    for notification_id in ids:
        set_values, remove = change(now)
        if set_values is None:
            inbox.delete(environment_id, subscriber_id, notification_id)
        else:
            inbox.change(
                environment_id,
                subscriber_id,
                notification_id,
                set_values,
                remove,
                keep_if_set=("seenAt", "readAt"),
            )
    return Response(status_code=204, body=None)


@router.post("/v1/inbox/notifications/read")
def read_all(request: OptionalBulk = None) -> Response[None]:
    return _bulk(request, lambda now: (_read(now), ()), read=False)


@router.post("/v1/inbox/notifications/archive")
def archive_all(request: OptionalBulk = None) -> Response[None]:
    return _bulk(
        request, lambda now: (_read(now) | {"isArchived": True, "archivedAt": now}, ()), archived=False
    )


@router.post("/v1/inbox/notifications/read-archive")
def archive_all_read(request: OptionalBulk = None) -> Response[None]:
    return _bulk(
        request, lambda now: ({"isArchived": True, "archivedAt": now}, ()), read=True, archived=False
    )


@router.post("/v1/inbox/notifications/seen")
def seen_all(request: OptionalBulk = None) -> Response[None]:
    return _bulk(request, lambda now: ({"isSeen": True, "seenAt": now}, ()), seen=False)


@router.post("/v1/inbox/notifications/delete")
def delete_all(request: OptionalBulk = None) -> Response[None]:
    return _bulk(request, lambda now: (None, ()))


# ------------------------------------------------------------------------- CORS preflight


def _preflight() -> Response[None]:
    return Response(status_code=204, body=None, headers=inbox_auth.preflight_headers(router.current_event))


@router.route("/v1/inbox/<a>", method="OPTIONS", include_in_schema=False)
def preflight_one(a: str) -> Response[None]:
    return _preflight()


@router.route("/v1/inbox/<a>/<b>", method="OPTIONS", include_in_schema=False)
def preflight_two(a: str, b: str) -> Response[None]:
    return _preflight()


@router.route("/v1/inbox/<a>/<b>/<c>", method="OPTIONS", include_in_schema=False)
def preflight_three(a: str, b: str, c: str) -> Response[None]:
    return _preflight()

"""The routes Novu's `@novu/js` 3.x (and `<Inbox />` of `@novu/react` on it) calls, under
/v1/inbox: the session, the notifications (list, count, one-by-one and bulk changes); the
preferences are in api.inbox_preferences. Callers are browsers holding a session token
(api.inbox_auth); every handler reads the environment and the subscriber from it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from clarion.api import inbox_auth
from clarion.api.errors import BadRequestError, ConflictError, NotFoundError, UnauthorizedError
from clarion.api.paths import path_id
from clarion.clock import now_iso
from clarion.dialects import novu_inbox
from clarion.dialects.novu_inbox import FilterError, NotificationFilter, TagsFilter, WorkflowInfo
from clarion.model.subscriber import SubscriberCreate
from clarion.store import environment_settings, inbox, subscribers, workflows

router = APIGatewayRouter()

MAX_SNOOZE_HOURS = 720
MAX_BULK_CHANGES = 1000  # one bulk action changes at most this many notifications
NotificationPath = "/v1/inbox/notifications/<notification_id>"
_UNREAD = NotificationFilter(read=False, archived=False, snoozed=False)


class SessionRequest(BaseModel):
    """Novu's session body; `contextHash`, `context` and `defaultSchedule` are accepted and unused."""

    model_config = ConfigDict(populate_by_name=True)

    application_identifier: str = Field(alias="applicationIdentifier", min_length=1, max_length=128)
    subscriber: SubscriberCreate | None = None
    subscriber_id: str | None = Field(default=None, alias="subscriberId", min_length=1, max_length=256)
    subscriber_hash: str | None = Field(default=None, alias="subscriberHash", max_length=256)


def _context() -> tuple[str, str]:
    return router.context["environment_id"], router.context["subscriber_id"]


def _info(environment_id: str, workflow_id: str, known: dict[str, WorkflowInfo]) -> WorkflowInfo:
    if workflow_id not in known:
        workflow = workflows.get(environment_id, workflow_id)
        known[workflow_id] = WorkflowInfo(
            workflow_id,
            name=workflow.name if workflow else "",
            tags=tuple(getattr(workflow, "tags", None) or ()),
            critical=bool(getattr(workflow, "critical", False)),
        )
    return known[workflow_id]


def notifications(
    environment_id: str, subscriber_id: str, wanted: NotificationFilter, after: str | None = None
) -> Iterator[dict[str, Any]]:
    """The subscriber's notifications that pass the filter, newest first, as the Inbox reads them."""
    now = now_iso()
    known: dict[str, WorkflowInfo] = {}
    try:
        for row in inbox.rows(environment_id, subscriber_id, after):
            answer = novu_inbox.notification(
                row, _info(environment_id, row.message["workflowId"], known), now
            )
            if novu_inbox.matches(answer, wanted):
                yield answer
    except LookupError as error:
        raise BadRequestError("after: not a notification of this subscriber") from error


def count(environment_id: str, subscriber_id: str, wanted: NotificationFilter) -> int:
    return sum(1 for _ in notifications(environment_id, subscriber_id, wanted))


@router.post(inbox_auth.SESSION_PATH)
def session(request: SessionRequest) -> Response[dict[str, Any]]:
    environment_id = environment_settings.environment_for_application(request.application_identifier)
    if environment_id is None:
        raise UnauthorizedError("applicationIdentifier: no environment has this applicationIdentifier")
    inbox_auth.check_origin(environment_id, router.current_event.headers.get("origin"))
    subscriber = request.subscriber or (
        SubscriberCreate.model_validate({"subscriberId": request.subscriber_id})
        if request.subscriber_id
        else None
    )
    if subscriber is None:
        raise BadRequestError("subscriber: send subscriber.subscriberId")
    inbox_auth.check_subscriber_hash(environment_id, subscriber.subscriber_id, request.subscriber_hash)
    try:
        subscribers.upsert(environment_id, subscriber, now_iso())
    except subscribers.ConcurrentUpdateError as error:
        raise ConflictError(f"subscriber.subscriberId: {error}") from error
    unread = count(environment_id, subscriber.subscriber_id, _UNREAD)
    settings = environment_settings.inbox_settings(environment_id)
    body = {
        "data": {
            "token": inbox_auth.mint(environment_id, subscriber.subscriber_id),
            "totalUnreadCount": unread,
            "unreadCount": {"total": unread, "severity": {"high": 0, "medium": 0, "low": 0, "none": unread}},
            "removeNovuBranding": True,
            "isDevelopmentMode": not settings.subscriber_hash_required,
            "maxSnoozeDurationHours": MAX_SNOOZE_HOURS,
            "applicationIdentifier": request.application_identifier,
        }
    }
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body)


def _list_filter(
    read: bool | None,
    archived: bool | None,
    snoozed: bool | None,
    seen: bool | None,
    data: str | None,
    created_gte: int | None,
    created_lte: int | None,
) -> NotificationFilter:
    """The list's filter from its query parameters: tags as `tags[]` (one OR-group) or
    `tags[0][]`, `tags[1][]`... (AND-ed OR-groups), severity as `severity` or `severity[]`."""
    query = router.current_event.multi_value_query_string_parameters or {}
    groups = [
        query[name]
        for name in sorted(query)
        if name.startswith("tags[") and name.endswith("[]") and name != "tags[]"
    ]
    tags: Any = query.get("tags[]") or ([] if not groups else {"and": [{"or": g} for g in groups]})
    severity: Any = query.get("severity[]") or next(iter(query.get("severity") or []), None)
    raw = {
        "tags": tags or None,
        "read": read,
        "archived": archived,
        "snoozed": snoozed,
        "seen": seen,
        "data": data,
        "severity": severity,
        "createdGte": created_gte,
        "createdLte": created_lte,
    }
    try:
        return novu_inbox.filter_from(raw)
    except FilterError as error:
        raise BadRequestError(str(error)) from error


@router.get("/v1/inbox/notifications")
def list_notifications(
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    after: Annotated[str | None, Query(min_length=1, max_length=1024)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    read: Annotated[bool | None, Query()] = None,
    archived: Annotated[bool | None, Query()] = None,
    snoozed: Annotated[bool | None, Query()] = None,
    seen: Annotated[bool | None, Query()] = None,
    data: Annotated[str | None, Query(max_length=4096)] = None,
    createdGte: Annotated[int | None, Query(ge=0)] = None,
    createdLte: Annotated[int | None, Query(ge=0)] = None,
) -> dict[str, Any]:
    """Newest first; `after` (the last id of a page) or `offset`; `hasMore` says whether more follow."""
    environment_id, subscriber_id = _context()
    wanted = _list_filter(read, archived, snoozed, seen, data, createdGte, createdLte)
    page: list[dict[str, Any]] = []
    for answer in notifications(environment_id, subscriber_id, wanted, after):
        page.append(answer)
        if len(page) > offset + limit:
            break
    return {
        "data": page[offset : offset + limit],
        "hasMore": len(page) > offset + limit,
        "filter": wanted.answer(),
    }


@router.get("/v1/inbox/notifications/count")
def count_notifications(filters: Annotated[str, Query(min_length=2, max_length=8192)]) -> dict[str, Any]:
    """One count per filter of the JSON array `filters`, in order."""
    environment_id, subscriber_id = _context()
    try:
        wanted = novu_inbox.parse_filters(filters)
    except FilterError as error:
        raise BadRequestError(str(error)) from error
    return {
        "data": [{"count": count(environment_id, subscriber_id, f), "filter": f.answer()} for f in wanted]
    }


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
    workflow = _info(environment_id, row.message["workflowId"], {})
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

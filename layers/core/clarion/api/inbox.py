"""The routes Novu's `@novu/js` 3.x (and `<Inbox />` of `@novu/react` on it) calls, under
/v1/inbox: the session and the notifications (list, count); their changes are in
api.inbox_changes, the preferences in api.inbox_preferences. Callers are browsers holding a session token
(api.inbox_auth); every handler reads the environment and the subscriber from it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field

from clarion.api import inbox_auth
from clarion.api.errors import BadRequestError, ConflictError, UnauthorizedError
from clarion.clock import now_iso
from clarion.dialects import novu_inbox
from clarion.dialects.novu_inbox import FilterError, NotificationFilter, WorkflowInfo
from clarion.model.subscriber import SubscriberCreate
from clarion.store import environment_settings, inbox, subscribers, workflows

router = APIGatewayRouter()

MAX_SNOOZE_HOURS = 720
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


def workflow_info(environment_id: str, workflow_id: str, known: dict[str, WorkflowInfo]) -> WorkflowInfo:
    """The workflow as the Inbox shows it; `tags` and `critical` once the workflow model has them."""
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
                row, workflow_info(environment_id, row.message["workflowId"], known), now
            )
            if novu_inbox.matches(answer, wanted):
                yield answer
    except LookupError as error:
        raise BadRequestError("after: not a notification of this subscriber") from error


def count(environment_id: str, subscriber_id: str, wanted: NotificationFilter) -> int:
    """Exact, by reading the subscriber's whole Inbox (filters on tags and data need each
    notification); kept counters would need the engine to write them."""
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

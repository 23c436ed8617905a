"""Subscribers: create (an upsert, as Novu does), bulk create, read, update, delete, list page by
page, preferences, channel credentials; and the in-app feed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field, ValidationError

from clarion.api.errors import BadRequestError, ConflictError, NotFoundError, field_errors
from clarion.api.paths import path_id
from clarion.clock import now_iso
from clarion.model.strict import StrictModel
from clarion.model.subscriber import (
    PreferencesPatch,
    SubscriberChanges,
    SubscriberChannel,
    SubscriberCreate,
    merge_channels,
    merge_preferences,
    subscriber_view,
)
from clarion.store import messages, subscribers, workflows

router = APIGatewayRouter()

MAX_BULK_SUBSCRIBERS = 500


class BulkSubscribers(StrictModel):
    """Each entry is validated on its own: a bad one is reported, its neighbours are still stored."""

    subscribers: list[Any] = Field(min_length=1, max_length=MAX_BULK_SUBSCRIBERS)


def _not_found(subscriber_id: str) -> NotFoundError:
    return NotFoundError(f"subscriberId: subscriber '{subscriber_id}' not found")


def _created(data: Any) -> Response[dict[str, Any]]:
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body={"data": data})


def _update(subscriber_id: str, change: Any) -> dict[str, Any]:
    try:
        stored = subscribers.update(router.context["environment_id"], subscriber_id, change, now_iso())
    except subscribers.ConcurrentUpdateError as error:
        raise ConflictError(f"subscriberId: {error}") from error
    if stored is None:
        raise _not_found(subscriber_id)
    return stored


@router.post("/v1/subscribers")
def create_subscriber(subscriber: SubscriberCreate) -> Response[dict[str, Any]]:
    try:
        stored, _ = subscribers.upsert(router.context["environment_id"], subscriber, now_iso())
    except subscribers.ConcurrentUpdateError as error:
        raise ConflictError(f"subscriberId: {error}") from error
    return _created(subscriber_view(stored))


@router.post("/v1/subscribers/bulk")
def create_subscribers(bulk: BulkSubscribers) -> Response[dict[str, Any]]:
    valid: list[SubscriberCreate] = []
    failed: list[dict[str, Any]] = []
    for index, raw in enumerate(bulk.subscribers):
        try:
            valid.append(SubscriberCreate.model_validate(raw))
        except ValidationError as error:
            errors = field_errors(error.errors(), ("subscribers", index))
            subscriber_id = raw.get("subscriberId") if isinstance(raw, dict) else None
            failed.append(
                {
                    "subscriberId": subscriber_id if isinstance(subscriber_id, str) else None,
                    "index": index,
                    "message": "; ".join(f"{name}: {e['messages'][0]}" for name, e in errors.items()),
                    "errors": errors,
                }
            )
    created = subscribers.upsert_many(router.context["environment_id"], valid, now_iso())
    return _created(
        {
            "created": [
                {"subscriberId": s.subscriber_id} for s, new in zip(valid, created, strict=True) if new
            ],
            "updated": [
                {"subscriberId": s.subscriber_id} for s, new in zip(valid, created, strict=True) if not new
            ],
            "failed": failed,
        }
    )


@router.get("/v1/subscribers")
def list_subscribers(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    try:
        page, next_cursor = subscribers.page(router.context["environment_id"], limit, cursor)
    except subscribers.BadCursorError as error:
        raise BadRequestError(
            f"cursor: {error}", {"cursor": {"messages": [str(error)], "type": "bad_cursor"}}
        ) from error
    return {"data": [subscriber_view(s) for s in page], "next": next_cursor}


@router.get("/v1/subscribers/<subscriber_id>")
def get_subscriber(subscriber_id: str) -> dict[str, Any]:
    subscriber_id = path_id(subscriber_id, "subscriberId")
    stored = subscribers.get(router.context["environment_id"], subscriber_id)
    if stored is None:
        raise _not_found(subscriber_id)
    return {"data": subscriber_view(stored)}


@router.put("/v1/subscribers/<subscriber_id>")
def update_subscriber(subscriber_id: str, changes: SubscriberChanges) -> dict[str, Any]:
    subscriber_id = path_id(subscriber_id, "subscriberId")

    def change(current: dict[str, Any]) -> dict[str, Any]:
        return subscribers.apply_changes(current, subscriber_id, changes, now_iso())

    return {"data": subscriber_view(_update(subscriber_id, change))}


@router.delete("/v1/subscribers/<subscriber_id>")
def delete_subscriber(subscriber_id: str) -> dict[str, Any]:
    subscriber_id = path_id(subscriber_id, "subscriberId")
    if not subscribers.delete(router.context["environment_id"], subscriber_id):
        raise _not_found(subscriber_id)
    return {"data": {"acknowledged": True, "status": "deleted"}}


@router.patch("/v1/subscribers/<subscriber_id>/preferences")
def update_preferences(subscriber_id: str, patch: PreferencesPatch) -> dict[str, Any]:
    subscriber_id = path_id(subscriber_id, "subscriberId")
    environment_id = router.context["environment_id"]
    if patch.workflows:
        found = workflows.get_many(environment_id, set(patch.workflows))
        unknown = sorted(workflow_id for workflow_id, workflow in found.items() if workflow is None)
        if unknown:
            raise NotFoundError(f"workflows.{unknown[0]}: workflow '{unknown[0]}' not found")

    def change(current: dict[str, Any]) -> dict[str, Any]:
        return current | {"preferences": merge_preferences(current.get("preferences"), patch)}

    return {"data": subscriber_view(_update(subscriber_id, change))["preferences"]}


@router.put("/v1/subscribers/<subscriber_id>/credentials")
def update_credentials(subscriber_id: str, channel: SubscriberChannel) -> dict[str, Any]:
    subscriber_id = path_id(subscriber_id, "subscriberId")

    def change(current: dict[str, Any]) -> dict[str, Any]:
        return current | {"channels": merge_channels(current.get("channels") or [], [channel])}

    return {"data": subscriber_view(_update(subscriber_id, change))}


class MarkAs(StrictModel):
    """Novu's mark-as body: one message id or many, and the flags to set."""

    messageId: str | list[str]
    mark: dict[Literal["read", "seen"], bool]


@router.post("/v1/subscribers/<subscriber_id>/messages/mark-as")
def mark_messages(subscriber_id: str, body: MarkAs) -> dict[str, Any]:
    environment_id = router.context["environment_id"]
    ids = [body.messageId] if isinstance(body.messageId, str) else body.messageId
    subscriber_id = path_id(subscriber_id, "subscriberId")
    marked = {
        i: messages.mark(environment_id, subscriber_id, i, body.mark.get("read"), body.mark.get("seen"))
        for i in dict.fromkeys(ids)
    }
    missing = [i for i, message in marked.items() if message is None]
    if missing:
        raise NotFoundError(f"messageId: no in-app message {', '.join(missing)} for this subscriber")
    return {"data": [message for message in marked.values() if message is not None]}


@router.get("/v1/subscribers/<subscriber_id>/notifications/feed")
def feed(
    subscriber_id: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=8000)] = None,
) -> dict[str, Any]:
    """The delivered in-app messages, newest first; `next` (and `hasMore`) while more follow."""
    subscriber_id = path_id(subscriber_id, "subscriberId")
    try:
        page, next_cursor = messages.feed(router.context["environment_id"], subscriber_id, limit, cursor)
    except subscribers.BadCursorError as error:
        raise BadRequestError(
            f"cursor: {error}", {"cursor": {"messages": [str(error)], "type": "bad_cursor"}}
        ) from error
    return {"data": page, "hasMore": next_cursor is not None, "next": next_cursor}

"""Topics: create, list, read, and their members (added, removed, listed page by page)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from clarion.api.errors import BadRequestError, ConflictError, NotFoundError
from clarion.api.paths import path_id
from clarion.clock import now_iso
from clarion.model.identifiers import SubscriberId
from clarion.model.strict import StrictModel
from clarion.store import subscribers, topics

router = APIGatewayRouter()

MAX_MEMBERS_PER_REQUEST = 1000


class TopicCreate(StrictModel):
    key: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9_.:@-]+$")
    name: str = Field(min_length=1, max_length=256)


class TopicMembers(StrictModel):
    subscribers: list[SubscriberId] = Field(min_length=1, max_length=MAX_MEMBERS_PER_REQUEST)


def _topic(topic_key: str) -> dict[str, Any]:
    topic = topics.get(router.context["environment_id"], topic_key)
    if topic is None:
        raise NotFoundError(f"key: topic '{topic_key}' not found")
    return topic


def _bad_cursor(error: Exception) -> BadRequestError:
    return BadRequestError(f"cursor: {error}", {"cursor": {"messages": [str(error)], "type": "bad_cursor"}})


@router.post("/v1/topics")
def create_topic(topic: TopicCreate) -> Response[dict[str, Any]]:
    try:
        stored = topics.create(router.context["environment_id"], topic.key, topic.name, now_iso())
    except topics.TopicExistsError as error:
        raise ConflictError(f"key: topic '{topic.key}' already exists") from error
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body={"data": stored})


@router.get("/v1/topics")
def list_topics(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    try:
        page, next_cursor = topics.page(router.context["environment_id"], limit, cursor)
    except topics.BadCursorError as error:
        raise _bad_cursor(error) from error
    return {"data": page, "next": next_cursor}


@router.get("/v1/topics/<topic_key>")
def get_topic(topic_key: str) -> dict[str, Any]:
    topic_key = path_id(topic_key, "key")
    return {"data": _topic(topic_key)}


@router.post("/v1/topics/<topic_key>/subscribers")
def add_members(topic_key: str, members: TopicMembers) -> dict[str, Any]:
    """Novu's answer: the ids added, and those that are not subscribers of this environment."""
    topic_key = path_id(topic_key, "key")
    environment_id = router.context["environment_id"]
    _topic(topic_key)
    wanted = list(dict.fromkeys(members.subscribers))
    found = subscribers.get_many(environment_id, wanted)
    succeeded = [subscriber_id for subscriber_id in wanted if subscriber_id in found]
    topics.add_members(environment_id, topic_key, succeeded)
    return {
        "data": {
            "succeeded": succeeded,
            "failed": {"notFound": [subscriber_id for subscriber_id in wanted if subscriber_id not in found]},
        }
    }


@router.get("/v1/topics/<topic_key>/subscribers")
def list_members(
    topic_key: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    topic_key = path_id(topic_key, "key")
    _topic(topic_key)
    try:
        page, next_cursor = topics.members_page(router.context["environment_id"], topic_key, limit, cursor)
    except topics.BadCursorError as error:
        raise _bad_cursor(error) from error
    return {"data": page, "next": next_cursor}


def _remove(topic_key: str, members: TopicMembers) -> Response[None]:
    _topic(topic_key)
    topics.remove_members(router.context["environment_id"], topic_key, members.subscribers)
    return Response(status_code=204, body=None)


@router.delete("/v1/topics/<topic_key>/subscribers")
def remove_members(topic_key: str, members: TopicMembers) -> Response[None]:
    topic_key = path_id(topic_key, "key")
    return _remove(topic_key, members)


@router.post("/v1/topics/<topic_key>/subscribers/removal")
def remove_members_novu(topic_key: str, members: TopicMembers) -> Response[None]:
    """Novu's spelling of the removal."""
    topic_key = path_id(topic_key, "key")
    return _remove(topic_key, members)

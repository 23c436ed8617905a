"""Subscribers' in-app feed."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.store import messages

router = APIGatewayRouter()


@router.get("/v1/subscribers/<subscriber_id>/notifications/feed")
def feed(subscriber_id: str, limit: Annotated[int, Query(ge=1, le=100)] = 50) -> dict[str, Any]:
    return {"data": messages.feed(router.context["environment_id"], subscriber_id, limit)}

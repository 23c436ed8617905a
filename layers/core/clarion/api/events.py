"""Novu's trigger routes: single, bulk and broadcast. They translate HTTP to Novu's dialect and
back; accepting the request is intake's (clarion.intake.accept_request)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.shared.json_encoder import Encoder
from pydantic import ValidationError

from clarion.api import idempotency
from clarion.api.errors import BadRequestError, UnprocessableError, field_errors
from clarion.dialects import novu
from clarion.intake import Accepted, Parser, PayloadLimit, accept_request
from clarion.model.refusal import RefusalType

router = APIGatewayRouter()

MAX_EVENT_PAYLOAD_BYTES = 512 * 1024
_EVENTS_PAYLOAD = PayloadLimit(MAX_EVENT_PAYLOAD_BYTES, key="payload", field="events[{index}].payload")
_BROADCAST_PAYLOAD = PayloadLimit(MAX_EVENT_PAYLOAD_BYTES, key="payload", field="payload")
# Novu's class-validator messages for the bulk DTO (`@ArrayNotEmpty`, `@ArrayMaxSize(100)`).
EVENTS_EMPTY = "events should not be empty"
EVENTS_TOO_MANY = f"events must contain no more than {novu.MAX_BULK_EVENTS} elements"


def _json_body() -> Any:
    body = router.current_event.json_body
    if not isinstance(body, dict):
        raise BadRequestError("Body must be a JSON object", {"body": {"messages": ["must be an object"]}})
    return body


def _accept(raw_events: list[Any], parse: Parser, payload_limit: PayloadLimit) -> Accepted:
    event = router.current_event
    return accept_request(
        router.context["environment_id"],
        raw_events,
        parse,
        idempotency_key=event.headers.get(idempotency.HEADER),
        body_bytes=len(event.body or ""),
        payload_limit=payload_limit,
    )


def _json_text(body: Any) -> str:
    """An answer rendered as the resolver renders one (compact JSON, its encoder), here, once: a
    body left as a dict is walked by Powertools' response encoder first (jsonable_encoder), which
    costs a bulk's hundred answers more than rendering them."""
    return json.dumps(body, separators=(",", ":"), cls=Encoder)


def _created(data: Any, accepted: Accepted) -> Response[str]:
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=_json_text({"data": data}),
        headers=accepted.headers,
    )


def _replayable(produce: Any) -> Response[str]:
    response = idempotency.replay_current(router, produce)
    if not isinstance(response.body, str):  # a stored answer, replayed as read back
        response.body = _json_text(response.body)
    return response


@router.post("/v1/events/trigger/bulk")
def trigger_bulk() -> Response[str]:
    return _replayable(_trigger_bulk)


@router.post("/v1/events/trigger")
def trigger() -> Response[str]:
    return _replayable(_trigger)


def _trigger_bulk() -> Response[str]:
    raw_events = _json_body().get("events")
    if not isinstance(raw_events, list):
        raise BadRequestError("events must be an array", {"events": {"messages": ["must be an array"]}})
    if not raw_events:
        raise BadRequestError(
            "events: an empty bulk triggers nothing; send 1 to 100 events",
            {"events": {"messages": [EVENTS_EMPTY], "value": []}},
        )
    if len(raw_events) > novu.MAX_BULK_EVENTS:
        detail = f"at most {novu.MAX_BULK_EVENTS} events per request, got {len(raw_events)}"
        raise UnprocessableError(f"events: {detail}", {"events": {"messages": [EVENTS_TOO_MANY]}})
    accepted = _accept(raw_events, novu.parse_event, _EVENTS_PAYLOAD)
    return _created([novu.answer_item(v) for v in accepted.verdicts], accepted)


def _trigger() -> Response[str]:
    """One event: Novu answers its failures as HTTP errors, not as a status in the body."""
    body = _json_body()
    _validated(body)
    accepted = _accept([body], novu.parse_event, _EVENTS_PAYLOAD)
    return _single_answer(accepted, body)


def _validated(as_trigger: dict[str, Any]) -> None:
    try:
        novu.NovuTriggerEvent.model_validate(as_trigger)
    except ValidationError as error:
        raise BadRequestError("Validation failed", field_errors(error.errors(include_url=False))) from error


def _single_answer(accepted: Accepted, body: dict[str, Any]) -> Response[str]:
    """A single event's answer: Novu turns its refusals into HTTP errors, not body statuses; an
    unknown workflow is Novu's 422 `workflow_not_found`, with Clarion's sentence under `name`."""
    (verdict,) = accepted.verdicts
    if verdict.error_type == RefusalType.WORKFLOW_NOT_FOUND:
        raise UnprocessableError(
            RefusalType.WORKFLOW_NOT_FOUND.value,
            {"name": {"messages": [verdict.error or "workflow not found"], "value": body.get("name")}},
        )
    if verdict.error_type == RefusalType.TRANSACTION_ID_REUSED:
        raise UnprocessableError(
            f"transactionId: {verdict.error}",
            {"transactionId": {"messages": [verdict.error], "value": verdict.transaction_id}},
        )
    return _created(novu.answer_item(verdict), accepted)


# --- broadcast: one record addressed to every subscriber of the environment ------------------


@router.post("/v1/events/trigger/broadcast")
def trigger_broadcast() -> Response[str]:
    return _replayable(_trigger_broadcast)


def _trigger_broadcast() -> Response[str]:
    """Novu's broadcast: a trigger without `to` (`name, payload, overrides, tenant, actor,
    transactionId`), read by the same rules as a trigger, then addressed to AllSubscribers. It is
    one record in a bulk of one and costs one token; the worker reads the subscribers page by
    page (engine.run), so it is answered before any of them is read."""
    body = _json_body()
    _validated(novu.as_trigger(body))
    accepted = _accept([body], novu.parse_broadcast, _BROADCAST_PAYLOAD)
    return _single_answer(accepted, body)

"""Novu's trigger routes: single, bulk and broadcast."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ValidationError

from clarion.api import idempotency, limits
from clarion.api.errors import BadRequestError, PayloadTooLargeError, UnprocessableError, field_errors
from clarion.clock import now_iso
from clarion.dialects import novu
from clarion.ids import new_id
from clarion.intake.accept import TRANSACTION_REUSED, WORKFLOW_NOT_FOUND, Candidate, accept
from clarion.model import RecordOutcome, TriggerRecord
from clarion.model.trigger import AllSubscribers

router = APIGatewayRouter()

MAX_EVENT_PAYLOAD_BYTES = 512 * 1024


def _json_body() -> Any:
    body = router.current_event.json_body
    if not isinstance(body, dict):
        raise BadRequestError("Body must be a JSON object", {"body": {"messages": ["must be an object"]}})
    return body


def _bulk_id(environment_id: str) -> str:
    """A new bulk's id; with an Idempotency-Key, the same one on every retry of the request, so
    a retry after a failure part-way (some records already enqueued) re-sends the same records
    under the same transactionIds, which the worker runs once, instead of new ones."""
    key = router.current_event.headers.get(idempotency.HEADER)
    return new_id() if not key else str(uuid.uuid5(_RETRIED_BULKS, f"{environment_id}\n{key}"))


_RETRIED_BULKS = uuid.UUID("6f1f3c1e-8d2a-4c55-9a53-5f0b8f6e2a10")


def _accept_novu(raw_events: list[Any]) -> tuple[str, list[RecordOutcome], dict[str, str]]:
    environment_id: str = router.context["environment_id"]
    rate_headers = limits.take(environment_id, cost=len(raw_events))
    bulk_id, created_at = _bulk_id(environment_id), now_iso()
    if len(router.current_event.body or "") > MAX_EVENT_PAYLOAD_BYTES:  # only then can a payload be too large
        for index, raw in enumerate(raw_events):
            if isinstance(raw, dict) and len(json.dumps(raw.get("payload", {}))) > MAX_EVENT_PAYLOAD_BYTES:
                raise PayloadTooLargeError(f"events[{index}].payload is larger than 512 KB")
    candidates: list[Candidate] = [
        novu.parse_event(
            raw,
            environment_id=environment_id,
            bulk_id=bulk_id,
            index=index,
            accepted_at=created_at,
        )
        for index, raw in enumerate(raw_events)
    ]
    return bulk_id, accept(environment_id, bulk_id, created_at, candidates), rate_headers


def _created(data: Any, bulk_id: str, headers: dict[str, str]) -> Response[dict[str, Any]]:
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body={"data": data},
        headers={"Location": f"/v1/events/trigger/bulk/{bulk_id}", **headers},
    )


def _replayable(produce: Any) -> Response[dict[str, Any]]:
    event = router.current_event
    return idempotency.replayable(
        router.context["environment_id"],
        event.headers.get(idempotency.HEADER),
        event.body,
        router.lambda_context,
        produce,
        route=f"{event.http_method} {event.path.rstrip('/')}",
    )


@router.post("/v1/events/trigger/bulk")
def trigger_bulk() -> Response[dict[str, Any]]:
    return _replayable(_trigger_bulk)


@router.post("/v1/events/trigger")
def trigger() -> Response[dict[str, Any]]:
    return _replayable(_trigger)


def _trigger_bulk() -> Response[dict[str, Any]]:
    raw_events = _json_body().get("events")
    if not isinstance(raw_events, list):
        raise BadRequestError("events must be an array", {"events": {"messages": ["must be an array"]}})
    if len(raw_events) > novu.MAX_BULK_EVENTS:
        message = f"at most {novu.MAX_BULK_EVENTS} events per request, got {len(raw_events)}"
        raise UnprocessableError(f"events: {message}", {"events": {"messages": [message]}})
    bulk_id, verdicts, headers = _accept_novu(raw_events)
    return _created([novu.answer_item(v) for v in verdicts], bulk_id, headers)


def _trigger() -> Response[dict[str, Any]]:
    """One event: Novu answers its failures as HTTP errors, not as a status in the body."""
    body = _json_body()
    try:
        novu.NovuTriggerEvent.model_validate(body)
    except ValidationError as error:
        raise BadRequestError("Validation failed", field_errors(error.errors(include_url=False))) from error
    bulk_id, (verdict,), headers = _accept_novu([body])
    return _single_answer(verdict, body, bulk_id, headers)


def _single_answer(
    verdict: RecordOutcome, body: dict[str, Any], bulk_id: str, headers: dict[str, str]
) -> Response[dict[str, Any]]:
    """A single event's answer: Novu turns its refusals into HTTP errors, not body statuses."""
    if verdict.error_type == WORKFLOW_NOT_FOUND:
        raise UnprocessableError(
            f"workflow_not_found: {verdict.error}",
            {"name": {"messages": [verdict.error or "workflow not found"], "value": body.get("name")}},
        )
    if verdict.error_type == TRANSACTION_REUSED:
        raise UnprocessableError(
            f"transactionId: {verdict.error}",
            {"transactionId": {"messages": [verdict.error], "value": verdict.transaction_id}},
        )
    return _created(novu.answer_item(verdict), bulk_id, headers)


# --- broadcast: one record addressed to every subscriber of the environment ------------------

_EVERYONE = "*"  # stands in for `to` while the body is read as a trigger


@router.post("/v1/events/trigger/broadcast")
def trigger_broadcast() -> Response[dict[str, Any]]:
    return _replayable(_trigger_broadcast)


def _trigger_broadcast() -> Response[dict[str, Any]]:
    """Novu's broadcast: a trigger without `to` (`name, payload, overrides, tenant, actor,
    transactionId`), read by the same rules as a trigger, then addressed to AllSubscribers. It is
    one record in a bulk of one and costs one token; the worker reads the subscribers page by
    page (engine.run), so it is answered before any of them is read."""
    body = _json_body()
    as_trigger = {**body, "to": _EVERYONE}
    try:
        novu.NovuTriggerEvent.model_validate(as_trigger)
    except ValidationError as error:
        raise BadRequestError("Validation failed", field_errors(error.errors(include_url=False))) from error
    if (
        len(router.current_event.body or "") > MAX_EVENT_PAYLOAD_BYTES
        and len(json.dumps(body.get("payload", {}))) > MAX_EVENT_PAYLOAD_BYTES
    ):
        raise PayloadTooLargeError("payload is larger than 512 KB")
    environment_id: str = router.context["environment_id"]
    headers = limits.take(environment_id, cost=1)
    bulk_id, created_at = _bulk_id(environment_id), now_iso()
    parsed = novu.parse_event(
        as_trigger, environment_id=environment_id, bulk_id=bulk_id, index=0, accepted_at=created_at
    )
    candidate: Candidate = (
        parsed.model_copy(update={"recipients": [AllSubscribers()]})
        if isinstance(parsed, TriggerRecord)
        else parsed
    )
    (verdict,) = accept(environment_id, bulk_id, created_at, [candidate])
    return _single_answer(verdict, body, bulk_id, headers)

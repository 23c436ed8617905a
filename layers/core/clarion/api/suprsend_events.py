"""SuprSend's event route (dialects.suprsend_events): `POST /event/`, where @suprsend/node-sdk
posts profile saves, tracked events and bulk users (and suprsend-py-sdk its profile saves), and
`POST /v2/event/` and `/v2/bulk/event/`, where suprsend-py-sdk posts tracked events.

An object answers 202 `{status: "success", message_id}` (or SuprSend's `{status: "fail",
message}` with a 4xx); an array answers 207 `{records: [...], status}`, one record per item in
request order, as `/trigger/` does. A tracked event starts every active workflow whose
`triggerEvent` is the event's name (one Query of the environment's workflows per request); its
answer lists them (`workflows: [{workflow, message_id}]`, empty when none declares it)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.api.body import parse_json
from clarion.dialects import suprsend
from clarion.dialects.suprsend_events import (
    MAX_ITEMS,
    MAX_TRACKED_EVENTS,
    EventError,
    TrackedEvent,
    parse_item,
)
from clarion.ids import new_id
from clarion.intake import Accepted, accept_request, workflows_started_by
from clarion.model.profile import ProfileEdit
from clarion.model.refusal import VALIDATION_ERROR

router = APIGatewayRouter()
PATHS = ("/event", "/v2/event", "/v2/bulk/event")
_ACCEPTED = {"status": "success", "status_code": 202}


def _answer(
    status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response[dict[str, Any]]:
    return Response(
        status_code=status_code, content_type=content_types.APPLICATION_JSON, body=body, headers=headers
    )


@router.post(PATHS[0])
@router.post(PATHS[1])
@router.post(PATHS[2])
def events() -> Response[dict[str, Any]]:
    try:
        body = parse_json(router.current_event.decoded_body or "", limit=suprsend.MAX_BODY_BYTES)
    except json.JSONDecodeError as error:
        return _answer(400, suprsend.failure(f"body: not valid JSON ({error.msg})", "bad_request"))
    if not isinstance(body, dict | list) or body == []:
        return _answer(
            400, suprsend.failure("body: an event object or a non-empty array of them", "bad_request")
        )
    raw_items = [body] if isinstance(body, dict) else body
    if len(raw_items) > MAX_ITEMS:
        message = f"body: at most {MAX_ITEMS} events, got {len(raw_items)}"
        return _answer(400, suprsend.failure(message, "bad_request"))
    parsed: list[ProfileEdit | TrackedEvent | EventError] = [_parse(raw) for raw in raw_items]
    tracked = [p for p in parsed if isinstance(p, TrackedEvent)]
    if len(tracked) > MAX_TRACKED_EVENTS:
        message = f"body: at most {MAX_TRACKED_EVENTS} tracked events, got {len(tracked)}"
        return _answer(400, suprsend.failure(message, "bad_request"))
    environment_id: str = router.context["environment_id"]
    # Each tracked event starts every active workflow whose triggerEvent is its name.
    started = workflows_started_by(environment_id, {e.event for e in tracked}) if tracked else {}
    owners: list[tuple[int, str]] = []  # (tracked event's place, workflow) per trigger, in order
    triggers: list[dict[str, Any]] = []
    for position, event in enumerate(tracked):
        names = started.get(event.event, [])
        for workflow_id in names:
            owners.append((position, workflow_id))
            triggers.append(event.trigger(workflow_id, several=len(names) > 1))
    accepted = accept_request(
        environment_id,
        triggers,
        suprsend.parse_record,
        cost=len(raw_items),
        key_lifetime_seconds=suprsend.IDEMPOTENCY_KEY_SECONDS,
        profile_edits=[p for p in parsed if isinstance(p, ProfileEdit)],
    )
    records = _records(parsed, raw_items, accepted, owners)
    if isinstance(body, dict):
        (record,) = records
        if record["status"] == "success":
            return _answer(202, {k: v for k, v in record.items() if k != "status_code"}, accepted.headers)
        refusal = record["error"]
        return _answer(
            record["status_code"], suprsend.failure(refusal["message"], refusal["type"]), accepted.headers
        )
    return _answer(207, {"records": records, "status": "success"}, accepted.headers)


def _parse(raw: Any) -> ProfileEdit | TrackedEvent | EventError:
    try:
        return parse_item(raw)
    except EventError as error:
        return error


def _records(
    parsed: list[ProfileEdit | TrackedEvent | EventError],
    raw_items: list[Any],
    accepted: Accepted,
    owners: list[tuple[int, str]],
) -> list[dict[str, Any]]:
    """Every item's record, in order."""
    edit_refusals = iter(accepted.edit_refusals)
    per_event: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for (position, workflow_id), outcome in zip(owners, accepted.verdicts, strict=True):
        per_event.setdefault(position, []).append((workflow_id, suprsend.record_answer(outcome)))
    records: list[dict[str, Any]] = []
    position = 0
    for item, raw in zip(parsed, raw_items, strict=True):
        insert_id = raw.get("$insert_id") if isinstance(raw, dict) else None
        message_id = insert_id if isinstance(insert_id, str) and insert_id else new_id()
        if isinstance(item, EventError):
            records.append(_refused(str(item)))
        elif isinstance(item, ProfileEdit):
            refusal = next(edit_refusals)
            records.append(_refused(refusal) if refusal else {**_ACCEPTED, "message_id": message_id})
        else:
            answers = per_event.get(position, [])
            position += 1
            runs = [{"workflow": w, "message_id": a.get("message_id")} for w, a in answers]
            failed = [a for _, a in answers if a["status"] == "error"]
            records.append(
                ({**failed[0]} if failed else {**_ACCEPTED, "message_id": message_id}) | {"workflows": runs}
            )
    return records


def _refused(message: str) -> dict[str, Any]:
    return {
        "status": "error",
        "status_code": 400,
        "error": {"message": message, "type": VALIDATION_ERROR},
    }

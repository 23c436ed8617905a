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

from clarion.api import limits
from clarion.api.body import parse_json
from clarion.clock import now_iso
from clarion.dialects import suprsend
from clarion.dialects.suprsend_events import (
    MAX_ITEMS,
    MAX_TRACKED_EVENTS,
    EventError,
    TrackedEvent,
    parse_item,
)
from clarion.ids import new_id
from clarion.intake.accept import Candidate, accept
from clarion.model import RecordOutcome
from clarion.model.profile import ProfileEdit
from clarion.store import subscribers, workflows

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
    tracked = sum(isinstance(p, TrackedEvent) for p in parsed)
    if tracked > MAX_TRACKED_EVENTS:
        message = f"body: at most {MAX_TRACKED_EVENTS} tracked events, got {tracked}"
        return _answer(400, suprsend.failure(message, "bad_request"))
    environment_id: str = router.context["environment_id"]
    headers = limits.take(environment_id, cost=len(raw_items))
    records = _run(environment_id, parsed, raw_items, headers)
    if isinstance(body, dict):
        (record,) = records
        if record["status"] == "success":
            return _answer(202, {k: v for k, v in record.items() if k != "status_code"}, headers)
        refusal = record["error"]
        return _answer(record["status_code"], suprsend.failure(refusal["message"], refusal["type"]), headers)
    return _answer(207, {"records": records, "status": "success"}, headers)


def _parse(raw: Any) -> ProfileEdit | TrackedEvent | EventError:
    try:
        return parse_item(raw)
    except EventError as error:
        return error


def _run(
    environment_id: str,
    parsed: list[ProfileEdit | TrackedEvent | EventError],
    raw_items: list[Any],
    headers: dict[str, str],
) -> list[dict[str, Any]]:
    """Every item's record, in order."""
    now = now_iso()
    edits = [p for p in parsed if isinstance(p, ProfileEdit)]
    edit_refusals = iter(subscribers.edit_many(environment_id, edits, now) if edits else [])
    outcomes = iter(
        _start_workflows(environment_id, [p for p in parsed if isinstance(p, TrackedEvent)], now, headers)
    )
    records: list[dict[str, Any]] = []
    for item, raw in zip(parsed, raw_items, strict=True):
        insert_id = raw.get("$insert_id") if isinstance(raw, dict) else None
        message_id = insert_id if isinstance(insert_id, str) and insert_id else new_id()
        if isinstance(item, EventError):
            records.append(_refused(str(item)))
        elif isinstance(item, ProfileEdit):
            refusal = next(edit_refusals)
            records.append(_refused(refusal) if refusal else {**_ACCEPTED, "message_id": message_id})
        else:
            answers = [(w, suprsend.record_answer(o)) for w, o in next(outcomes)]
            runs = [{"workflow": w, "message_id": a.get("message_id")} for w, a in answers]
            failed = [a for _, a in answers if a["status"] == "error"]
            records.append(
                ({**failed[0]} if failed else {**_ACCEPTED, "message_id": message_id}) | {"workflows": runs}
            )
    return records


def _start_workflows(
    environment_id: str, events: list[TrackedEvent], now: str, headers: dict[str, str]
) -> list[list[tuple[str, RecordOutcome]]]:
    """Per event, the outcome of each workflow trigger it started (one bulk for the request)."""
    if not events:
        return []
    declared: dict[str, list[str]] = {}
    for workflow in workflows.list_all(environment_id):
        if workflow.active and workflow.trigger_event:
            declared.setdefault(workflow.trigger_event, []).append(workflow.workflow_id)
    bulk_id = new_id()
    candidates: list[Candidate] = []
    owners: list[tuple[int, str]] = []
    for position, event in enumerate(events):
        names = declared.get(event.event, [])
        for workflow_id in names:
            raw = event.trigger(workflow_id, several=len(names) > 1)
            candidates.append(
                suprsend.parse_record(
                    raw,
                    environment_id=environment_id,
                    bulk_id=bulk_id,
                    index=len(candidates),
                    accepted_at=now,
                )
            )
            owners.append((position, workflow_id))
    per_event: list[list[tuple[str, RecordOutcome]]] = [[] for _ in events]
    if candidates:
        outcomes = accept(environment_id, bulk_id, now, candidates)
        for (owner, workflow_id), outcome in zip(owners, outcomes, strict=True):
            per_event[owner].append((workflow_id, outcome))
        headers["Location"] = f"/v1/events/trigger/bulk/{bulk_id}"
    return per_event


def _refused(message: str) -> dict[str, Any]:
    return {
        "status": "error",
        "status_code": 400,
        "error": {"message": message, "type": suprsend.VALIDATION_ERROR},
    }

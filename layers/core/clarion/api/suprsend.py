"""SuprSend's trigger route: `POST /trigger/`, one object (202) or an array of up to 100 (207)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.api import limits
from clarion.api.body import parse_json
from clarion.clock import now_iso
from clarion.dialects import suprsend
from clarion.ids import new_id
from clarion.intake.accept import Candidate, accept
from clarion.model import RecordOutcome, RecordStatus, TriggerRecord
from clarion.store import cancellations

router = APIGatewayRouter()
PATH = "/trigger"


def _answer(
    status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response[dict[str, Any]]:
    return Response(
        status_code=status_code, content_type=content_types.APPLICATION_JSON, body=body, headers=headers
    )


@router.post(PATH)
def trigger() -> Response[dict[str, Any]]:
    raw = router.current_event.decoded_body or ""
    try:
        body = parse_json(raw, limit=suprsend.MAX_BODY_BYTES)  # its refusals are ApiErrors (api.app)
    except json.JSONDecodeError as error:
        return _answer(400, suprsend.failure(f"body: not valid JSON ({error.msg})", "bad_request"))
    if isinstance(body, dict):
        (outcome,), headers = _accept([body])
        status_code, answer = suprsend.single_answer(outcome)
        return _answer(status_code, answer, headers)
    if not isinstance(body, list) or not body:
        return _answer(
            400, suprsend.failure("body: an object or a non-empty array of objects", "bad_request")
        )
    if len(body) > suprsend.MAX_RECORDS:
        return _answer(
            400,
            suprsend.failure(f"body: at most {suprsend.MAX_RECORDS} records, got {len(body)}", "bad_request"),
        )
    outcomes, headers = _accept(body)
    return _answer(
        207, {"records": [suprsend.record_answer(o) for o in outcomes], "status": "success"}, headers
    )


def _accept(raw_records: list[Any]) -> tuple[list[RecordOutcome], dict[str, str]]:
    environment_id: str = router.context["environment_id"]
    headers = limits.take(environment_id, cost=len(raw_records))
    bulk_id, created_at = new_id(), now_iso()
    candidates: list[Candidate] = [
        suprsend.parse_record(
            raw, environment_id=environment_id, bulk_id=bulk_id, index=index, accepted_at=created_at
        )
        for index, raw in enumerate(raw_records)
    ]
    outcomes = accept(environment_id, bulk_id, created_at, candidates)
    queued = {o.index for o in outcomes if o.status is RecordStatus.QUEUED}
    cancellations.remember([c for c in candidates if isinstance(c, TriggerRecord) and c.index in queued])
    return outcomes, headers | {"Location": f"/v1/events/trigger/bulk/{bulk_id}"}

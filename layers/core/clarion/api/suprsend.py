"""SuprSend's trigger route: `POST /trigger/`, one object (202) or an array of up to 100 (207).
It translates HTTP to SuprSend's dialect and back; accepting the request is intake's. An
`Idempotency-Key` header replays the first answer for 24 h (api.idempotency, as on Novu's
routes); a record's `$idempotency_key` keeps a repeat from running again for 24 h."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.api import idempotency
from clarion.api.body import parse_json
from clarion.dialects import suprsend
from clarion.intake import Accepted, accept_request

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
    return idempotency.replay_current(router, _trigger)


def _trigger() -> Response[dict[str, Any]]:
    raw = router.current_event.decoded_body or ""
    try:
        body = parse_json(raw, limit=suprsend.MAX_BODY_BYTES)  # its refusals are ApiErrors (api.app)
    except json.JSONDecodeError as error:
        return _answer(400, suprsend.failure(f"body: not valid JSON ({error.msg})", "bad_request"))
    if isinstance(body, dict):
        accepted = _accept([body])
        status_code, answer = suprsend.single_answer(accepted.verdicts[0])
        return _answer(status_code, answer, accepted.headers)
    if not isinstance(body, list) or not body:
        return _answer(
            400, suprsend.failure("body: an object or a non-empty array of objects", "bad_request")
        )
    if len(body) > suprsend.MAX_RECORDS:
        return _answer(
            400,
            suprsend.failure(f"body: at most {suprsend.MAX_RECORDS} records, got {len(body)}", "bad_request"),
        )
    accepted = _accept(body)
    records = [suprsend.record_answer(o) for o in accepted.verdicts]
    return _answer(207, {"records": records, "status": "success"}, accepted.headers)


def _accept(raw_records: list[Any]) -> Accepted:
    return accept_request(
        router.context["environment_id"],
        raw_records,
        suprsend.parse_record,
        idempotency_key=router.current_event.headers.get(idempotency.HEADER),
        key_lifetime_seconds=suprsend.IDEMPOTENCY_KEY_SECONDS,
    )

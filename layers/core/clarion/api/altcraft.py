"""Altcraft's trigger campaign routes (dialects.altcraft): `start_batch` matches each `data`
item to a profile now and answers each one's profile_id in request order; `start_batch_task`
answers a task id (the bulk id, whose progress is `GET /v1/events/trigger/bulk/{id}`) at once
and the worker does the matching (engine.matching).

The token comes in the body (`token`) or as `Authorization: Bearer <token>`: an environment API
key. These routes authenticate and answer errors themselves (api.app leaves them alone), so
every answer, 401 included, is Altcraft's envelope, in XML for an XML request."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.api import limits
from clarion.api.body import parse_json
from clarion.api.errors import ApiError
from clarion.clock import now_iso
from clarion.dialects import altcraft
from clarion.dialects.altcraft import AltcraftError, StartBatch
from clarion.engine.matching import PROFILE_NOT_FOUND
from clarion.ids import generated_transaction_id, new_id
from clarion.intake.accept import Candidate, accept
from clarion.model import RecordOutcome, RecordStatus, SubscriberProfile, TriggerRecord
from clarion.model.trigger import MatchedProfile, Recipient
from clarion.store import environments, profile_match, workflows

router = APIGatewayRouter()
START_BATCH = "/api/v1.1/campaigns/triggers/start_batch"
START_BATCH_TASK = "/api/v1.1/campaigns/triggers/start_batch_task"
PATHS = (START_BATCH, START_BATCH_TASK)
_XML_TYPES = ("application/xml", "text/xml")
_JSON_TYPES = ("application/json", "")


@router.post(START_BATCH)
def start_batch() -> Response[str]:
    return _answering(lambda request, env: _start_batch(request, env, task=False))


@router.post(START_BATCH_TASK)
def start_batch_task() -> Response[str]:
    return _answering(lambda request, env: _start_batch(request, env, task=True))


def _answering(handle: Any) -> Response[str]:
    """Read, authenticate and run the request; every refusal in Altcraft's envelope."""
    event = router.current_event
    content_type = event.headers.get("content-type") or ""
    media = content_type.split(";", 1)[0].strip().lower()
    answer_format = "xml" if media in _XML_TYPES else "json"
    try:
        if media not in _XML_TYPES + _JSON_TYPES:
            raise AltcraftError(
                415,
                altcraft.INVALID_REQUEST,
                f"Content-Type: send application/json or application/xml, not {content_type[:100]}",
            )
        raw = event.decoded_body or ""
        if (
            len(raw) > altcraft.MAX_BODY_BYTES
            or len(raw.encode("utf-8", "surrogatepass")) > altcraft.MAX_BODY_BYTES
        ):
            raise AltcraftError(400, altcraft.INVALID_REQUEST, altcraft.TOO_LARGE_DEBUG)
        body = altcraft.parse_xml(raw) if answer_format == "xml" else _json(raw)
        if isinstance(body, dict) and body.get("format") in ("json", "xml"):
            answer_format = str(body["format"])
        environment_id = _environment(body.get("token") if isinstance(body, dict) else None)
        request = altcraft.parse(body)
        status_code, answer, headers = handle(request, environment_id)
    except AltcraftError as error:
        status_code, answer, headers = (
            error.status_code,
            altcraft.failure(
                error.status_code if error.status_code != 415 else 400, error.error_text, error.debug
            ),
            {},
        )
    except UnicodeDecodeError:
        status_code, answer, headers = (
            400,
            altcraft.failure(400, altcraft.INVALID_REQUEST, "body: not UTF-8"),
            {},
        )
    except ApiError as error:  # the strict JSON reader's refusals, the rate limit
        status_code, answer, headers = (
            error.status_code,
            altcraft.failure(error.status_code, altcraft.INVALID_REQUEST, error.message),
            error.headers,
        )
    return _respond(status_code, answer, headers, answer_format)


def _json(raw: str) -> Any:
    try:
        return parse_json(raw, limit=altcraft.MAX_BODY_BYTES)
    except json.JSONDecodeError as error:
        raise AltcraftError(400, altcraft.INVALID_REQUEST, f"body: not valid JSON ({error.msg})") from None
    except UnicodeDecodeError:
        raise AltcraftError(400, altcraft.INVALID_REQUEST, "body: not UTF-8") from None


def _respond(
    status_code: int, body: dict[str, Any], headers: dict[str, str], answer_format: str
) -> Response[str]:
    if answer_format == "xml":
        return Response(status_code, "application/xml", altcraft.to_xml(body), headers)
    return Response(status_code, "application/json", json.dumps(body), headers)


def _environment(body_token: Any) -> str:
    token = body_token if isinstance(body_token, str) and body_token.strip() else None
    if token is None:
        scheme, _, key = (router.current_event.headers.get("authorization") or "").strip().partition(" ")
        token = key.strip() if scheme.lower() == "bearer" and key.strip() else None
    if token is None:
        raise AltcraftError(401, "API token required")
    environment_id = environments.environment_for_key(token.strip())
    if environment_id is None:
        raise AltcraftError(401, "API token required", "token: not a valid API token")
    return environment_id


def _start_batch(
    request: StartBatch, environment_id: str, *, task: bool
) -> tuple[int, dict[str, Any], dict[str, str]]:
    trigger_id = request.campaign("id" if task else "trigger_id")
    workflow = workflows.by_trigger_id(environment_id, trigger_id)
    if workflow is None:
        raise AltcraftError(
            400, "Trigger campaign not found", f"{'id' if task else 'trigger_id'}: {trigger_id}"
        )
    payload = request.payload()
    targets = [request.target(item) for item in request.data]
    headers = limits.take(environment_id, cost=len(targets))
    found = {} if task else _match(environment_id, targets)
    if task:
        _check_declared(environment_id, targets)
    bulk_id, created_at = new_id(), now_iso()
    candidates: list[Candidate] = []
    for index, target in enumerate(targets):
        refusal: tuple[str, str] | None = None
        recipient: Recipient | None = None
        if isinstance(target, str):
            refusal = "validation_error", target
        elif task:
            recipient = target
        elif (subscriber := found.get(_value_key(target))) is None:
            refusal = (
                PROFILE_NOT_FOUND,
                f"no profile with {target.data_field or target.field} '{target.value}'",
            )
        else:
            recipient = SubscriberProfile(subscriber_id=subscriber["subscriberId"])
        if recipient is None:
            assert refusal is not None
            candidates.append(_refused(environment_id, bulk_id, index, *refusal))
        else:
            candidates.append(
                TriggerRecord(
                    environment_id=environment_id,
                    bulk_id=bulk_id,
                    index=index,
                    transaction_id=generated_transaction_id(bulk_id, index),
                    workflow_id=workflow.workflow_id,
                    recipients=[recipient],
                    payload=payload,
                    accepted_at=created_at,
                    custom_data=request.custom_data,
                )
            )
    outcomes = _accept(environment_id, bulk_id, created_at, candidates)
    headers = headers | {"Location": f"/v1/events/trigger/bulk/{bulk_id}"}
    if task:
        return 200, altcraft.envelope({"task_id": bulk_id}), headers
    return (
        200,
        altcraft.envelope([_record_answer(o, c) for o, c in zip(outcomes, candidates, strict=True)]),
        headers,
    )


def _accept(
    environment_id: str, bulk_id: str, created_at: str, candidates: list[Candidate]
) -> list[RecordOutcome]:
    """The one call into intake (to be switched to its single entry point)."""
    return accept(environment_id, bulk_id, created_at, candidates)


def _record_answer(outcome: RecordOutcome, candidate: Candidate) -> dict[str, Any]:
    if outcome.status is RecordStatus.QUEUED and isinstance(candidate, TriggerRecord):
        recipient = candidate.recipients[0]
        assert isinstance(recipient, SubscriberProfile)
        return {"profile_id": recipient.subscriber_id}
    if outcome.error_type == PROFILE_NOT_FOUND:
        return altcraft.record_error(*altcraft.PROFILE_NOT_FOUND, outcome.error)
    return altcraft.record_error(400, altcraft.INVALID_REQUEST, outcome.error)


def _value_key(target: MatchedProfile) -> tuple[str, str | None, str]:
    by = profile_match.MatchBy(target.field)
    return target.field, target.data_field, profile_match.normalised(by, target.value) or ""


def _match(
    environment_id: str, targets: list[MatchedProfile | str]
) -> dict[tuple[str, str | None, str], dict[str, Any]]:
    """Each target's subscriber, one indexed read per matching field (two BatchGetItems per 100)."""
    groups: dict[tuple[str, str | None], list[str]] = {}
    for target in targets:
        if isinstance(target, MatchedProfile):
            groups.setdefault((target.field, target.data_field), []).append(target.value)
    found: dict[tuple[str, str | None, str], dict[str, Any]] = {}
    for (field, data_field), values in groups.items():
        try:
            matches = profile_match.find(environment_id, profile_match.MatchBy(field), values, data_field)
        except profile_match.UndeclaredFieldError as error:
            raise AltcraftError(400, altcraft.INVALID_REQUEST, f"field_name: {error}") from None
        found |= {(field, data_field, value): subscriber for value, subscriber in matches.items()}
    return found


def _check_declared(environment_id: str, targets: list[MatchedProfile | str]) -> None:
    fields = {t.data_field for t in targets if isinstance(t, MatchedProfile) and t.data_field}
    try:
        profile_match.require_declared(environment_id, fields)
    except profile_match.UndeclaredFieldError as error:
        raise AltcraftError(400, altcraft.INVALID_REQUEST, f"field_name: {error}") from None


def _refused(environment_id: str, bulk_id: str, index: int, error_type: str, message: str) -> RecordOutcome:
    return RecordOutcome(
        environment_id=environment_id,
        bulk_id=bulk_id,
        index=index,
        transaction_id=generated_transaction_id(bulk_id, index),
        status=RecordStatus.ERROR,
        error=message,
        error_type=error_type,
    )

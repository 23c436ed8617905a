"""Altcraft's trigger campaign routes (dialects.altcraft): `start_batch` matches each `data`
item to a profile now and answers each one's profile_id in request order; `start_batch_task`
answers a task id (the bulk id, whose progress is `GET /v1/events/trigger/bulk/{id}`) at once
and the worker does the matching (engine.matching).

The token comes in the body (`token`) or as `Authorization: Bearer <token>`: an environment API
key. These routes authenticate and answer errors themselves (api.app leaves them alone), so
every answer, 401 included, is Altcraft's envelope, in XML for an XML request."""

from __future__ import annotations

import json
from typing import Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.api import idempotency
from clarion.api.body import parse_json
from clarion.api.errors import ApiError
from clarion.dialects import altcraft, altcraft_xml
from clarion.dialects.altcraft import AltcraftError, Item, StartBatch
from clarion.intake import accept_request
from clarion.model import Verdict
from clarion.model.trigger import MatchedProfile
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
        body = altcraft_xml.parse_xml(raw) if answer_format == "xml" else _json(raw)
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
        return Response(status_code, "application/xml", altcraft_xml.to_xml(body), headers)
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
    campaign_field: Literal["trigger_id", "id"] = "id" if task else "trigger_id"
    trigger_id = request.campaign(campaign_field)
    workflow = workflows.by_trigger_id(environment_id, trigger_id)
    if workflow is None:
        raise AltcraftError(400, "Trigger campaign not found", f"{campaign_field}: {trigger_id}")
    targets = [request.target(item) for item in request.data]
    if task:  # matched by the worker (engine.matching); an undeclared field is refused now
        _check_declared(environment_id, targets)
        resolved = [Item(target) for target in targets]
    else:
        found = _match(environment_id, [t for t in targets if isinstance(t, MatchedProfile)])
        resolved = [
            Item(t, found[t]["subscriberId"] if isinstance(t, MatchedProfile) and t in found else None)
            for t in targets
        ]
    parse = altcraft.record_parser(request, workflow.workflow_id, task=task)
    outcomes, bulk_id, headers = _accept(environment_id, resolved, parse)
    if task:
        return 200, altcraft.envelope({"task_id": bulk_id}), headers
    answers = [altcraft.record_answer(o, item) for o, item in zip(outcomes, resolved, strict=True)]
    return 200, altcraft.envelope(answers), headers


def _accept(
    environment_id: str, items: list[Item], parse: altcraft.Parser
) -> tuple[list[Verdict], str, dict[str, str]]:
    """The route's one step into intake (rate limit, bulk id, parse, accept, fan-out)."""
    accepted = accept_request(
        environment_id, items, parse, idempotency_key=router.current_event.headers.get(idempotency.HEADER)
    )
    return accepted.verdicts, accepted.bulk_id or "", accepted.headers


def _match(environment_id: str, targets: list[MatchedProfile]) -> dict[MatchedProfile, dict[str, Any]]:
    try:
        return profile_match.find_targets(environment_id, targets)
    except profile_match.UndeclaredFieldError as error:
        raise AltcraftError(400, altcraft.INVALID_REQUEST, f"field_name: {error}") from None


def _check_declared(environment_id: str, targets: list[MatchedProfile | str]) -> None:
    fields = {t.data_field for t in targets if isinstance(t, MatchedProfile) and t.data_field}
    try:
        profile_match.require_declared(environment_id, fields)
    except profile_match.UndeclaredFieldError as error:
        raise AltcraftError(400, altcraft.INVALID_REQUEST, f"field_name: {error}") from None

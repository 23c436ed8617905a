"""Sequenzy's bulk events route: `POST /api/v1/subscribers/events/bulk` (also `/v1/...`), many
events for one subscriber (dialects.sequenzy).

Per request: the subscriber is found by externalId (its subscriberId) or by email
(store.subscriber_emails), created if new; its event names are defined once
(store.event_definitions), all three read in one BatchGetItem (store.sequenzy_reads); the new
events are recorded on its activity (store.subscriber_events: one TransactWriteItems per 100
events, each eventId claimed once) and, when a workflow's workflowId is the event's name, each
starts that workflow with the event's properties as payload. An eventId makes an event
idempotent: a repeat (in an earlier request, a concurrent one or the same one) is answered
`duplicate: true`, recorded once and started once: its workflow runs under a transactionId
derived from the event, which intake claims once (an event without an eventId runs under
intake's own id). A repeat of an earlier request's eventId recorded less than the claim's
lifetime ago (the bulk status's, less a day) is offered to intake again: if it started, intake
answers it reused and it shows no workflows; if the earlier request died between recording it
and sending it, it starts now (its workflows shown `queued`). An older repeat is not offered
(its claim may have lapsed).

Under double opt-in (`optInMode: double_opt_in`, PATCH /v1/environment) a new subscriber is
stored pending, one confirmation email is queued (api.opt_in), its events are recorded, and the
workflows they start are held (store.opt_in) until the link is followed. The answer then carries
`optIn: {status: "pending", confirmationQueued, confirmationTransactionId?, confirmationError?,
heldWorkflows}` (the email's transactionId is queued only by the request that created the
subscriber; its status is at `GET /v1/events/trigger/{transactionId}`)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.api import limits, opt_in
from clarion.api.body import parse_json
from clarion.api.errors import BadRequestError, ConflictError, NotFoundError
from clarion.api.sequenzy_triggers import Trigger, start
from clarion.clock import now_iso, now_seconds
from clarion.config import settings
from clarion.dialects import sequenzy
from clarion.dialects.sequenzy import BulkEventsRequest, SequenzyError, SequenzyEvent
from clarion.model import Verdict
from clarion.model.opt_in import OptInMode, OptInStatus
from clarion.model.refusal import RefusalType
from clarion.store import (
    event_definitions,
    profile_match,
    sequenzy_reads,
    subscriber_emails,
    subscriber_events,
    subscribers,
    workflows,
)
from clarion.store import opt_in as held_triggers
from clarion.store.profile_match import MatchBy

router = APIGatewayRouter()
PATHS = ("/api/v1/subscribers/events/bulk", "/v1/subscribers/events/bulk")
MAX_SUBSCRIBER_BYTES = 300 * 1024  # the stored subscriber stays under DynamoDB's 400 KB item
_WORKFLOW_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


@router.post(PATHS[0])
@router.post(PATHS[1])
def bulk_events() -> Response[dict[str, Any]]:
    try:
        body = parse_json(router.current_event.decoded_body or "", limit=sequenzy.MAX_BODY_BYTES)
        request = sequenzy.parse_request(body)
    except json.JSONDecodeError as error:
        raise BadRequestError(f"body: not valid JSON ({error.msg} at position {error.pos})") from error
    except SequenzyError as error:
        raise BadRequestError(str(error)) from error
    environment_id: str = router.context["environment_id"]
    headers = limits.take(environment_id, cost=len(request.events))
    now = now_iso()
    parsed = sequenzy.parse_events(request.events)
    names = {e.name for e in parsed if isinstance(e, SequenzyEvent)}
    subscriber_id, stored, created, known = _subscriber(environment_id, request, names, now)
    pending = (stored.get("optIn") or {}).get("status") == OptInStatus.PENDING
    answers, started = _events(environment_id, subscriber_id, request.events, parsed, known, now, pending)
    if created and pending:
        opt_in.ensure_confirmation_workflow(environment_id)
        link = opt_in.link_for(_base_url(), environment_id, subscriber_id)
        started.append(
            (None, Trigger(opt_in.CONFIRMATION_WORKFLOW_ID, subscriber_id, {opt_in.URL_VARIABLE: link}))
        )
    outcomes, bulk_id = start(environment_id, [t for _, t in started])
    confirmation: dict[str, Any] = {"confirmationQueued": False}
    for (owner, trigger), outcome in zip(started, outcomes, strict=True):
        if owner is None:
            confirmation = {"confirmationQueued": outcome.error_type is None}
            confirmation["confirmationTransactionId"] = outcome.transaction_id
            if outcome.error_type is not None:
                confirmation["confirmationError"] = outcome.error
            continue
        if answers[owner].get("duplicate") and outcome.error_type == RefusalType.TRANSACTION_ID_REUSED:
            continue  # a repeat offered again that had started: it starts nothing, as it says
        answers[owner].setdefault("workflows", []).append(_started(trigger, outcome))
        if outcome.error_type == RefusalType.ENQUEUE_FAILED:
            answers[owner] |= {"success": False, "error": f"events.{owner}: {outcome.error}"}
    if bulk_id:
        headers["Location"] = f"/v1/events/trigger/bulk/{bulk_id}"
    failed = [a["error"] for a in answers if a.get("success") is False]
    answer: dict[str, Any] = {"success": not failed}
    if failed:
        answer["error"] = f"{len(failed)} of {len(answers)} events failed: " + "; ".join(failed[:5])
    answer["subscriber"] = sequenzy.subscriber_answer(subscriber_id, stored, request.external_id, created)
    answer["events"] = answers
    if pending:
        held = sum(1 for a in answers for w in a.get("workflows", []) if w["status"] == "held")
        answer["optIn"] = {"status": OptInStatus.PENDING.value, **confirmation, "heldWorkflows": held}
    return Response(200, content_types.APPLICATION_JSON, answer, headers)


def _subscriber(
    environment_id: str, request: BulkEventsRequest, names: set[str], now: str
) -> tuple[str, dict[str, Any], bool, set[str]]:
    """(subscriberId, stored subscriber, created by this request, those of the names defined
    already). The subscriber it most likely names, its email's entry and the definitions are
    read together (store.sequenzy_reads). The environment's optInMode is read only when the
    subscriber is new: a known one carries its standing (`optIn`)."""
    email = request.email
    assert email is not None or request.external_id is not None  # parse_request: one of the two
    likely = request.external_id or sequenzy.subscriber_id_for_email(email or "")
    found = sequenzy_reads.read(environment_id, likely, email, names)
    if request.external_id is not None:
        subscriber_id = request.external_id
    else:
        assert email is not None
        subscriber_id = found.email_owner or _indexed(environment_id, email)
    if email is not None and request.external_id is not None and found.email_owner != subscriber_id:
        if other := subscriber_emails.claim(environment_id, email, subscriber_id):
            raise ConflictError(f"email: '{email}' belongs to another subscriber ('{other}')")
    elif email is not None and not subscriber_id:
        subscriber_id = sequenzy.subscriber_id_for_email(email)
        subscriber_id = subscriber_emails.claim(environment_id, email, subscriber_id) or subscriber_id
    previous_email: list[str] = []

    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        if current is None and email is None:
            raise NotFoundError(f"externalId: no subscriber '{subscriber_id}'; send email to create it")
        base = current or {"subscriberId": subscriber_id, "createdAt": now}
        merged = base | request.profile()
        if request.custom_attributes:
            merged["data"] = (base.get("data") or {}) | request.custom_attributes
        if current is None and held_triggers.mode(environment_id) is OptInMode.DOUBLE_OPT_IN:
            merged["optIn"] = {"status": OptInStatus.PENDING.value, "requestedAt": now}
        if merged == current:
            return current
        if len(json.dumps(merged, separators=(",", ":"))) > MAX_SUBSCRIBER_BYTES:
            raise BadRequestError("customAttributes: the subscriber would hold more than 300 KB")
        previous_email[:] = [current["email"]] if current and current.get("email") else []
        return merged | {"updatedAt": now}

    prefetched = (found.subscriber,) if subscriber_id == found.subscriber_id else None
    stored, created = subscribers.upsert_with(environment_id, subscriber_id, change, prefetched=prefetched)
    for old in previous_email:
        if email is not None and sequenzy.normalized_email(old) != sequenzy.normalized_email(email):
            subscriber_emails.release(environment_id, old, subscriber_id)
    return subscriber_id, stored, created, found.defined


def _indexed(environment_id: str, email: str) -> str:
    """The subscriber another route stored with this email (the email index every subscriber
    write keeps, store.profile_match), now claimed for Sequenzy's lookups; or ""."""
    found = profile_match.find(environment_id, MatchBy.EMAIL, [email])
    subscriber_id = next((s["subscriberId"] for s in found.values()), "")
    if subscriber_id:
        subscriber_emails.claim(environment_id, email, subscriber_id)
    return subscriber_id


def _events(
    environment_id: str,
    subscriber_id: str,
    raw_events: list[Any],
    parsed: list[SequenzyEvent | SequenzyError],
    known: set[str],
    now: str,
    pending: bool,
) -> tuple[list[dict[str, Any]], list[tuple[int | None, Trigger]]]:
    """Each event's answer and the triggers to start (with their event's index; those of a
    pending subscriber are held instead). The events are recorded first, each eventId once,
    with the definitions of new names (store.subscriber_events): an event recorded before is a
    duplicate, offered to intake again while its claim lives (`_offered`) and, for a pending
    subscriber, held by the request that recorded it; a name another request defined meanwhile
    was not created here."""
    valid = {i: e for i, e in enumerate(parsed) if isinstance(e, SequenzyEvent)}
    ids = {i: e.event_id or f"{sequenzy.GENERATED_EVENT_PREFIX}{uuid.uuid4().hex}" for i, e in valid.items()}
    firsts = {ids[i]: i for i in reversed(valid)}  # an eventId repeated in the request: its first
    new = [
        {
            "id": ids[i],
            "name": e.name,
            "properties": e.properties,
            "occurredAt": e.occurred(now),
            "recordedAt": now,
        }
        for i, e in valid.items()
        if firsts[ids[i]] == i
    ]
    given = {e.event_id for e in valid.values() if e.event_id}
    names = {e.name for e in valid.values()} - known
    definitions = {n: event_definitions.new_definition(environment_id, n, now) for n in sorted(names)}
    earlier, existing = subscriber_events.record(environment_id, subscriber_id, new, given, also=definitions)
    seen, offered = set(earlier), _offered(earlier)
    defined = names - existing
    fresh: dict[int, SequenzyEvent] = {}
    answers: list[dict[str, Any]] = []
    for index, event in enumerate(parsed):
        if isinstance(event, SequenzyError):
            raw = raw_events[index]
            name = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else None
            answers.append(
                {"id": None, "name": name, "definitionCreated": False, "success": False, "error": str(event)}
            )
            continue
        answer: dict[str, Any] = {
            "id": ids[index],
            "name": event.name,
            "definitionCreated": event.name in defined,
        }
        defined.discard(event.name)  # the first event of a new name created it
        if ids[index] in seen:
            answer["duplicate"] = True
            if ids[index] in offered and firsts[ids[index]] == index and not pending:
                fresh[index] = event  # intake answers it reused, or starts it if it never was
        else:
            seen.add(ids[index])
            fresh[index] = event
        answers.append(answer)
    names = {e.name for e in fresh.values() if _WORKFLOW_ID.match(e.name)}
    found = workflows.get_many(environment_id, names) if names else {}
    started: list[tuple[int | None, Trigger]] = []
    held: list[dict[str, Any]] = []
    for index, event in fresh.items():
        workflow = found.get(event.name)
        if workflow is None or not workflow.active:
            continue
        # An eventId's workflow (started, offered again, or held and maybe released twice) runs
        # under an id derived from it, which intake claims once; an event without one (recorded
        # just now, once) under intake's own id.
        transaction_id = (
            sequenzy.transaction_id_for(subscriber_id, ids[index], workflow.workflow_id)
            if event.event_id or pending
            else None
        )
        trigger = Trigger(workflow.workflow_id, subscriber_id, dict(event.properties), transaction_id)
        if pending:
            held.append(
                {
                    "transactionId": transaction_id,
                    "workflowId": trigger.workflow_id,
                    "payload": trigger.payload,
                    "eventId": ids[index],
                    "heldAt": now,
                }
            )
            answers[index]["workflows"] = [
                {"workflowId": trigger.workflow_id, "transactionId": transaction_id, "status": "held"}
            ]
        else:
            started.append((index, trigger))
    if held:
        held_triggers.hold(environment_id, subscriber_id, held)
    return answers, started


def _offered(earlier: dict[str, int | None]) -> set[str]:
    """Those of the eventIds recorded before whose transactionId claim still lives: recorded
    less than the bulk status's lifetime (intake.accept's claims), less a day, ago."""
    since = now_seconds() - (settings().status_ttl_days - 1) * 86_400
    return {event_id for event_id, recorded_at in earlier.items() if recorded_at and recorded_at > since}


def _started(trigger: Trigger, outcome: Verdict) -> dict[str, Any]:
    """What became of a workflow an event started: queued, a duplicate (its transactionId was
    claimed before: a repeated eventId), or refused (why)."""
    kind = outcome.error_type
    status = (
        "queued" if kind is None else "duplicate" if kind == RefusalType.TRANSACTION_ID_REUSED else "error"
    )
    entry = {"workflowId": trigger.workflow_id, "transactionId": outcome.transaction_id, "status": status}
    return entry | ({"error": outcome.error} if status == "error" else {})


def _base_url() -> str:
    """Where this API is served, as the caller reached it: the confirmation link points there."""
    event = router.current_event
    headers = {name.lower(): value for name, value in event.headers.items()}
    host = headers.get("host") or event.request_context.domain_name or "localhost"
    loopback = host.split(":")[0] in ("127.0.0.1", "localhost", "::1", "[::1]")
    scheme = headers.get("x-forwarded-proto") or ("http" if loopback else "https")
    stage = f"/{event.request_context.stage}" if host.endswith(".amazonaws.com") else ""
    return f"{scheme}://{host}{stage}"

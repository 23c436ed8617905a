"""Accepting a trigger request, the same for every dialect: the route module hands over the raw
records and its dialect's parser; this takes the rate limit, checks payload sizes, names the
bulk (the same bulk on every retry of one Idempotency-Key), applies the profile edits that came
with the request, parses, accepts (claims, bulk record, fan-out: intake.accept) and remembers
cancellation keys. It answers the verdicts in request order and the headers to send."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from clarion.api import limits
from clarion.api.errors import PayloadTooLargeError
from clarion.clock import now_iso
from clarion.ids import new_id
from clarion.intake.accept import Candidate, accept
from clarion.model import RecordStatus, TriggerRecord, Verdict
from clarion.model.profile import ProfileEdit
from clarion.store import cancellations, subscribers, workflows

_RETRIED_BULKS = uuid.UUID("6f1f3c1e-8d2a-4c55-9a53-5f0b8f6e2a10")


class Parser(Protocol):
    """A dialect's parser: one raw record -> a record to run, or a refusal (never an exception)."""

    def __call__(
        self, raw: Any, *, environment_id: str, bulk_id: str, index: int, accepted_at: str
    ) -> Candidate: ...


@dataclass(frozen=True)
class PayloadLimit:
    """At most `max_bytes` of JSON under `key` of each raw record; a larger one is a 413 naming
    `field` (`{index}` is the record's place in the request)."""

    max_bytes: int
    key: str = "payload"
    field: str = "events[{index}].payload"

    def check(self, raw_items: Sequence[Any]) -> None:
        for index, raw in enumerate(raw_items):
            if isinstance(raw, dict) and len(json.dumps(raw.get(self.key, {}))) > self.max_bytes:
                name = self.field.format(index=index)
                raise PayloadTooLargeError(f"{name} is larger than {self.max_bytes // 1024} KB")


@dataclass(frozen=True)
class Accepted:
    """What intake decided: the bulk (None when the request held no trigger), each record's
    verdict in request order, the headers to answer with (RateLimit-*, Location) and, per
    profile edit, why it was refused (None when applied)."""

    bulk_id: str | None
    verdicts: list[Verdict]
    headers: dict[str, str]
    edit_refusals: list[str | None] = field(default_factory=list)


def accept_request(
    environment_id: str,
    raw_items: Sequence[Any],
    parse: Parser,
    *,
    idempotency_key: str | None = None,
    cost: int | None = None,
    body_bytes: int = 0,
    payload_limit: PayloadLimit | None = None,
    key_lifetime_seconds: int | None = None,
    profile_edits: Sequence[ProfileEdit] = (),
) -> Accepted:
    """Accept one request. `cost` (default: one token per raw record; 0 when the route took the
    tokens itself) is taken from the
    environment's rate limit first (429, or 422 for a bulk larger than the burst); payloads are
    only measured when the body (`body_bytes`) could hold one over the limit. A caller's own
    transactionId stays claimed as long as the bulk's status, or `key_lifetime_seconds`."""
    cost = len(raw_items) if cost is None else cost
    headers = limits.take(environment_id, cost=cost) if cost else {}  # 0: spent by the route already
    if payload_limit is not None and body_bytes > payload_limit.max_bytes:
        payload_limit.check(raw_items)
    created_at = now_iso()
    edit_refusals = (
        subscribers.edit_many(environment_id, list(profile_edits), created_at) if profile_edits else []
    )
    if not raw_items:
        return Accepted(None, [], headers, edit_refusals)
    bulk_id = bulk_id_for(environment_id, idempotency_key)
    candidates = [
        parse(raw, environment_id=environment_id, bulk_id=bulk_id, index=index, accepted_at=created_at)
        for index, raw in enumerate(raw_items)
    ]
    verdicts = accept(
        environment_id, bulk_id, created_at, candidates, key_lifetime_seconds=key_lifetime_seconds
    )
    queued = {v.index for v in verdicts if v.status is RecordStatus.QUEUED}
    cancellations.remember([c for c in candidates if isinstance(c, TriggerRecord) and c.index in queued])
    headers = headers | {"Location": f"/v1/events/trigger/bulk/{bulk_id}"}
    return Accepted(bulk_id, verdicts, headers, edit_refusals)


def bulk_id_for(environment_id: str, idempotency_key: str | None) -> str:
    """A new bulk's id; with an Idempotency-Key, the same one on every retry of the request, so
    a retry after a failure part-way (some records already enqueued) re-sends the same records
    under the same transactionIds, which the worker runs once, instead of new ones."""
    if not idempotency_key:
        return new_id()
    return str(uuid.uuid5(_RETRIED_BULKS, f"{environment_id}\n{idempotency_key}"))


def workflows_started_by(environment_id: str, events: set[str]) -> dict[str, list[str]]:
    """Per tracked event name, the active workflows whose `triggerEvent` it is (one Query of the
    environment's workflows)."""
    started: dict[str, list[str]] = {}
    for workflow in workflows.list_all(environment_id):
        if workflow.active and workflow.trigger_event in events:
            started.setdefault(workflow.trigger_event, []).append(workflow.workflow_id)
    return started

"""Accept a bulk of trigger records. Dialect-free: records arrive already parsed, refusals already
decided; this decides the rest against their workflows and fans the accepted ones out.

AWS calls for a 100-record bulk with warm caches: one SendMessageBatch (its records packed ten a
message, model.packed; more only when their bodies pass SQS's 256 KiB a call), one UpdateItem for the
bulk header, one TransactWriteItems only when callers chose their own transactionIds (to claim
them), and one BatchWriteItem only when some records were refused. (The rate limit adds one.)"""

from __future__ import annotations

from collections.abc import Collection

from aws_lambda_powertools.metrics import MetricUnit

from clarion import clock, queues
from clarion.config import settings
from clarion.ids import generated_transaction_id, is_generated
from clarion.model import RecordOutcome, RecordStatus, TriggerRecord, Verdict, Workflow, packed
from clarion.model.refusal import RefusalType
from clarion.observability import correlate, count_refusals, logger, metrics
from clarion.store import bulks, tenants, transactions, workflows

Candidate = TriggerRecord | RecordOutcome


def accept(
    environment_id: str,
    bulk_id: str,
    created_at: str,
    candidates: list[Candidate],
    *,
    key_lifetime_seconds: int | None = None,
) -> list[Verdict]:
    """Every candidate's verdict, in request order: QUEUED for the enqueued, or why not. A
    caller's own transactionId is claimed as long as the bulk's status lives, or for
    `key_lifetime_seconds` (then a new trigger may use it)."""
    correlate(bulk_id)
    records = [c for c in candidates if isinstance(c, TriggerRecord)]
    names = {r.workflow_id for r in records}
    found = workflows.get_many(environment_id, names) if records else {}
    refusals = {name: _refusal(name, found.get(name)) for name in names}
    verdicts = {c.index: Verdict.of_refusal(c) for c in candidates if isinstance(c, RecordOutcome)}
    named_tenants = {t for t in map(_named_tenant, records) if t}
    known_tenants = tenants.get_many(environment_id, named_tenants) if named_tenants else {}
    # Runnable records by their transactionId: Clarion's own (generated for this very record:
    # unique, nothing to claim) or a caller's. An id in Clarion's generated form that is not this
    # record's was generated for another trigger, which used it: it is refused as reused, never
    # claimed. (Callers' own ids never take that form: see clarion.ids.)
    own: list[TriggerRecord] = []
    foreign: list[TriggerRecord] = []
    to_claim: list[TriggerRecord] = []
    for record in records:
        refusal = refusals[record.workflow_id] or _tenant_refusal(record, known_tenants)
        if refusal is not None:
            verdicts[record.index] = Verdict.of(record, *refusal)
        elif record.transaction_id == generated_transaction_id(bulk_id, record.index):
            own.append(record)
        elif is_generated(record.transaction_id):
            foreign.append(record)
        else:
            to_claim.append(record)
    expires_at = _expires_at()
    now = clock.now_seconds()
    claimed_until = None if key_lifetime_seconds is None else now + key_lifetime_seconds
    claimed, reused = (
        transactions.claim(to_claim, expires_at, now=now, claimed_until=claimed_until)
        if to_claim
        else ([], [])
    )
    claimed, reused = own + claimed, foreign + reused
    for record in reused:
        message = f"transactionId '{record.transaction_id}' was already used in this environment"
        verdicts[record.index] = Verdict.of(
            record, RecordStatus.ERROR, RefusalType.TRANSACTION_ID_REUSED, message
        )
    try:
        sent = _enqueue(claimed)
    except BaseException:
        transactions.release(claimed)  # the send failed outright: a retry may claim these ids again
        raise
    unsent: list[TriggerRecord] = []
    for record, error in sent:
        if error:
            unsent.append(record)
            verdicts[record.index] = Verdict.of(record, RecordStatus.ERROR, RefusalType.ENQUEUE_FAILED, error)
        else:
            verdicts[record.index] = Verdict.of(record, RecordStatus.QUEUED)
    if unsent:
        transactions.release(unsent)
    refused = [v for v in verdicts.values() if v.status is not RecordStatus.QUEUED]
    bulks.create(
        environment_id,
        bulk_id,
        total=len(candidates),
        created_at=created_at,
        expires_at=expires_at,
        refused=refused,
    )
    logger.info("bulk accepted", bulk_id=bulk_id, total=len(candidates), refused=len(refused))
    metrics.add_metric(name="RecordsAccepted", unit=MetricUnit.Count, value=len(candidates) - len(refused))
    metrics.add_metric(name="RecordsRefused", unit=MetricUnit.Count, value=len(refused))
    count_refusals(v.status for v in refused)
    return [verdicts[c.index] for c in candidates]


Refusal = tuple[RecordStatus, RefusalType, str]  # (status, error type, message)


def _refusal(name: str, workflow: Workflow | None) -> Refusal | None:
    """Why no record of workflow `name` can run, in Novu's order of checks (the tenant's last)."""
    if workflow is None:
        return RecordStatus.ERROR, RefusalType.WORKFLOW_NOT_FOUND, f"workflow '{name}' is not defined"
    if not workflow.active:
        return (
            RecordStatus.TRIGGER_NOT_ACTIVE,
            RefusalType.TRIGGER_NOT_ACTIVE,
            f"workflow '{name}' is not active",
        )
    if not workflow.steps:
        return (
            RecordStatus.NO_WORKFLOW_STEPS_DEFINED,
            RefusalType.NO_WORKFLOW_STEPS_DEFINED,
            f"workflow '{name}' has no steps",
        )
    if not any(step.active for step in workflow.steps):
        status = RecordStatus.NO_WORKFLOW_ACTIVE_STEPS_DEFINED
        return status, RefusalType.NO_WORKFLOW_ACTIVE_STEPS_DEFINED, f"workflow '{name}' has no active steps"
    return None


def _tenant_refusal(record: TriggerRecord, known_tenants: Collection[str]) -> Refusal | None:
    tenant = _named_tenant(record)
    if tenant and tenant not in known_tenants:
        return RecordStatus.NO_TENANT_FOUND, RefusalType.NO_TENANT_FOUND, f"tenant '{tenant}' is not defined"
    return None


def _named_tenant(record: TriggerRecord) -> str | None:
    """The identifier of a tenant that must exist (Novu's no_tenant_found); a tenant given with
    name or data is created or updated by the worker instead."""
    if record.tenant and record.tenant_must_exist:
        return str(record.tenant["identifier"])
    return None


def _expires_at() -> int:
    return clock.expires_in_days(settings().status_ttl_days)


def _enqueue(records: list[TriggerRecord]) -> list[tuple[TriggerRecord, str | None]]:
    """Fan out to the TriggerQueues, each queue's records packed up to ten a message
    (model.packed); every record of a message SQS refuses (after retries) is reported with its
    message's error, never dropped."""
    if not records:
        return []
    by_queue: dict[str, list[TriggerRecord]] = {}
    queue_of = {bulk_id: queues.trigger_queue_for(bulk_id) for bulk_id in {r.bulk_id for r in records}}
    for record in records:
        by_queue.setdefault(queue_of[record.bulk_id], []).append(record)
    error_of: dict[int, str] = {}
    for url, queued in by_queue.items():
        messages = packed.pack_messages(queued)
        refused = queues.send(url, [queues.Message(str(i), m.body) for i, m in enumerate(messages)])
        for i, error in refused.items():
            error_of |= {r.index: f"could not enqueue: {error}" for r in messages[int(i)].records}
    return [(r, error_of.get(r.index)) for r in records]

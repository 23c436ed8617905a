"""The worker's SQS batch: run each record, then enqueue the parts it spawned (delays, topic
pages) and report every outcome to the ResultsQueue.

A message holds one record, or several packed by intake (model.packed: up to ten). A record that
cannot be parsed or raises in a message of its own is a batch item failure (retried, then the
DLQ); its neighbours are not affected. On its last attempt (the TriggerQueue's maxReceiveCount) a
record that raises is also reported failed, so its bulk's counts end exact while the message goes
to the DLQ for an operator. A record that raises inside a packed message does not fail its
message: it is re-enqueued alone on its trigger queue (from then on an ordinary single-record
message) and the message succeeds with its neighbours' parts and outcomes; only if SQS refuses
that re-enqueue does the packed message fail, to be retried whole. If enqueuing parts or outcomes
fails the whole batch is retried. Both retries are safe: every side effect is claimed exactly
once and the results count each record of a bulk once.

A crash (SIGKILL, out of memory, a timeout) is seen by no `except`: the whole invocation fails
and SQS delivers every message of the batch again. So a redelivered batch (any message with
ApproximateReceiveCount > 1) first splits its packed messages: their records are sent alone to
the trigger queue and the packed messages deleted, none of their records run in this invocation
(so a crash costs the records of a packed message one extra attempt, and isolation only ever sees
single records). Then the single-record messages run in isolation, record by record
(`isolation_order`): a record marked `done` (store.attempts) is deleted from the queue without
running; every other record is marked `started`, run, its parts and outcome sent at once, marked
`done` and deleted from the queue; the records marked `started` but never `done` (what the last
crash happened in) run last. So each crash costs at most its suspect: the healthy records of the
batch end reported and leave the queue, while the doomed one alone reaches the DLQ (whose
consumer reports it).

AWS calls. A first attempt (every message received once): the batch's reads, then one
SendMessageBatch per ten parts and per ten outcomes for the whole batch (ten messages of ten
records each: a hundred outcomes, ten calls), and one more only when records of packed messages
raised (their re-enqueue). A redelivered batch: one SendMessageBatch per ten records of its packed
messages and one DeleteMessageBatch of those; one BatchGetItem of the markers of the single-record
messages received before, one DeleteMessageBatch for those already done, and per record it runs
two PutItems (started, done), its own SendMessageBatch of parts (if any) and of its outcome (if
any), and one DeleteMessageBatch."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from clarion import queues
from clarion.config import settings
from clarion.engine.parts import Parts
from clarion.engine.recipients import Known, prefetch
from clarion.engine.run import run
from clarion.model import RecordOutcome, RecordStatus, StepStatus, TriggerRecord, packed
from clarion.observability import correlated, count_dead_letter, logger, metrics
from clarion.store import attempts
from clarion.store.attempts import Attempt


@dataclass(frozen=True)
class IsolationOrder:
    """A redelivered batch's message ids: acknowledged without running, run, run last."""

    skip: list[str]
    run: list[str]
    last: list[str]


def isolation_order(message_ids: Sequence[str], markers: Mapping[str, Attempt]) -> IsolationOrder:
    """Done records are skipped; records started but not done (the suspects of the last crash)
    run last; the others run first, in the batch's order."""
    skip = [m for m in message_ids if markers.get(m) == Attempt.DONE]
    last = [m for m in message_ids if markers.get(m) == Attempt.STARTED]
    return IsolationOrder(skip, [m for m in message_ids if m not in markers], last)


def handle_trigger_batch(event: dict[str, Any]) -> PartialItemFailureResponse:
    # A batch whose every record fails is answered like any other (all listed as failures),
    # not raised: the outcomes of records on their last attempt must still be sent.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    messages: list[dict[str, Any]] = event["Records"]
    parsed = _parse(messages)
    redelivered = any(_received(message) > 1 for message in messages)
    known: Known = {}  # the batch's subscribers, resolved once for all the records it runs
    # A redelivered batch splits its packed messages without running them: their records wait.
    running = [r for records in parsed.values() if not (redelivered and len(records) > 1) for r in records]
    _prefetch(running, known)
    if redelivered:
        return _run_isolated(processor, messages, parsed, known)
    return _run_first_attempt(processor, messages, parsed, known)


def _parse(messages: list[dict[str, Any]]) -> dict[str, list[TriggerRecord]]:
    """{message id: the records it holds}; a message that cannot be parsed is left out (its own
    handler fails it)."""
    parsed: dict[str, list[TriggerRecord]] = {}
    for message in messages:
        with contextlib.suppress(ValidationError):
            parsed[message["messageId"]] = packed.records_of(message["body"])
    return parsed


def _prefetch(records: list[TriggerRecord], known: Known) -> None:
    try:
        prefetch(records, known)
    except (BotoCoreError, ClientError) as error:
        logger.warning("batch subscriber read failed; records resolve their own", error=type(error).__name__)


def _run_first_attempt(
    processor: BatchProcessor,
    messages: list[dict[str, Any]],
    parsed: dict[str, list[TriggerRecord]],
    known: Known,
) -> PartialItemFailureResponse:
    """Every record of every message, then the batch's parts and outcomes in few sends, then the
    records that raised inside packed messages re-enqueued alone."""
    outcomes: list[RecordOutcome] = []
    parts = Parts()
    raised: dict[str, list[TriggerRecord]] = {}
    with processor(records=messages, handler=_handler(parsed, known, parts, outcomes, raised)):
        processor.process()
    _send_results(parts, outcomes)
    response = processor.response()
    if raised:
        queue_of = {m["messageId"]: queues.trigger_queue_of(m.get("eventSourceARN", "")) for m in messages}
        refused = _enqueue_alone(raised, queue_of)
        response["batchItemFailures"] += [{"itemIdentifier": message_id} for message_id in refused]
    return response


def _handler(
    parsed: dict[str, list[TriggerRecord]],
    known: Known,
    parts: Parts,
    outcomes: list[RecordOutcome],
    raised: dict[str, list[TriggerRecord]],
) -> Callable[[SQSRecord], None]:
    """Run one message's records, adding their parts and outcomes to the batch's. A message of
    one record fails if it raises; a record that raises inside a packed message is added to
    `raised` (under its message's id) and its neighbours run on."""

    def handle(record: SQSRecord) -> None:  # Powertools passes the message as `record`
        message = record
        records = parsed.get(message.message_id) or packed.records_of(message.body)
        if len(records) == 1:
            _run_record(records[0], known, parts, outcomes, last_attempt=_last_attempt(message))
            return
        for trigger in records:
            try:
                _run_record(trigger, known, parts, outcomes, last_attempt=False)
            except Exception as error:
                logger.warning(
                    "record raised inside a packed message; it is re-enqueued alone",
                    bulk_id=trigger.bulk_id,
                    index=trigger.index,
                    error=type(error).__name__,
                )
                raised.setdefault(message.message_id, []).append(trigger)

    return handle


def _run_record(
    trigger: TriggerRecord, known: Known, parts: Parts, outcomes: list[RecordOutcome], *, last_attempt: bool
) -> None:
    """Run one record, adding its parts and outcome; on its last attempt a record that raises is
    reported dead-lettered before the error goes on."""
    own = Parts()  # a record that raises spawns nothing
    with correlated(trigger.bulk_id, trigger.transaction_id):
        try:
            outcome = run(trigger, own, known)
        except Exception as error:
            if trigger.continuation is None and last_attempt:
                outcomes.append(_dead_lettered(trigger, error))
            raise
    parts.items.extend(own.items)
    if outcome is not None:
        outcomes.append(outcome)


def _enqueue_alone(records: Mapping[str, list[TriggerRecord]], queue_of: Mapping[str, str]) -> set[str]:
    """Send each record alone (a single-record message) to the trigger queue its message came
    from; returns the ids of the messages some of whose records SQS refused."""
    by_queue: dict[str, list[queues.Message]] = {}
    message_of: dict[str, str] = {}
    for n, (message_id, own) in enumerate(records.items()):
        for k, record in enumerate(own):
            entry = queues.Message(f"{n}-{k}", packed.alone(record))
            message_of[entry.id] = message_id
            by_queue.setdefault(queue_of[message_id], []).append(entry)
    refused: set[str] = set()
    for queue_url, entries in by_queue.items():
        refused |= {message_of[entry_id] for entry_id in queues.send(queue_url, entries)}
    if refused:
        logger.warning(
            "records could not be re-enqueued alone; their packed messages are retried", messages=len(refused)
        )
    return refused


def _run_isolated(
    processor: BatchProcessor,
    messages: list[dict[str, Any]],
    parsed: dict[str, list[TriggerRecord]],
    known: Known,
) -> PartialItemFailureResponse:
    """A redelivered batch: packed messages split (acknowledged unrun), then single records one
    by one in `isolation_order`, each finished record's results sent and its message deleted."""
    by_id = {m["messageId"]: m for m in messages}
    trigger_queue = queues.trigger_queue_of(messages[0].get("eventSourceARN", ""))  # one source a batch
    split = [m for m in by_id if len(parsed.get(m, ())) > 1]
    unsplit = _split(trigger_queue, split, parsed, by_id)
    singles = [m for m in by_id if m not in split]
    received_before = {
        m: parsed[m][0].environment_id for m in singles if m in parsed and _received(by_id[m]) > 1
    }
    order = isolation_order(singles, attempts.read(received_before))
    if order.skip:
        logger.info("redelivered batch: records already done are acknowledged", done=len(order.skip))
        queues.delete(trigger_queue, [by_id[m]["receiptHandle"] for m in order.skip])
    if order.last:
        logger.warning("redelivered batch: suspects of the last crash run last", suspects=len(order.last))

    def handle(record: SQSRecord) -> None:
        if record.message_id in unsplit:
            raise RuntimeError("the packed message's records were not all re-enqueued alone; it is retried")
        if record.message_id in split or record.message_id in order.skip:
            return
        environment_id = parsed[record.message_id][0].environment_id if record.message_id in parsed else None
        if environment_id is not None:
            attempts.mark(environment_id, record.message_id, Attempt.STARTED)
        outcomes: list[RecordOutcome] = []
        parts = Parts()
        try:
            (trigger,) = parsed.get(record.message_id) or packed.records_of(record.body)
            _run_record(trigger, known, parts, outcomes, last_attempt=_last_attempt(record))
        except Exception:
            _send_results(parts, outcomes)  # a last attempt's failure is reported before it raises
            raise
        _send_results(parts, outcomes)
        if environment_id is not None:
            attempts.mark(environment_id, record.message_id, Attempt.DONE)
        queues.delete(trigger_queue, [record.receipt_handle])

    ordered = [by_id[m] for m in split + order.skip + order.run + order.last]
    with processor(records=ordered, handler=handle):
        processor.process()
    return processor.response()


def _split(
    queue_url: str,
    message_ids: list[str],
    parsed: Mapping[str, list[TriggerRecord]],
    by_id: Mapping[str, Any],
) -> set[str]:
    """Send every record of these packed messages alone to the trigger queue and delete the
    messages whose records all went (so that a crash later in this invocation does not split
    them again); returns the ids of the others, which fail and are retried."""
    if not message_ids:
        return set()
    refused = _enqueue_alone({m: parsed[m] for m in message_ids}, dict.fromkeys(message_ids, queue_url))
    sent = [m for m in message_ids if m not in refused]
    if sent:
        logger.info("redelivered batch: packed messages split into single records", messages=len(sent))
        queues.delete(queue_url, [by_id[m]["receiptHandle"] for m in sent])
    return refused


def _send_results(parts: Parts, outcomes: list[RecordOutcome]) -> None:
    by_queue: dict[str, list[queues.Message]] = {}
    for i, (part, delay) in enumerate(parts.items):
        message = queues.Message(str(i), packed.alone(part), delay)
        by_queue.setdefault(queues.trigger_queue_for(part.bulk_id), []).append(message)
    for queue_url, messages in by_queue.items():
        _send(queue_url, messages, "parts")
    if outcomes:
        _send(
            settings().require_results_queue(),
            [queues.Message(str(i), outcome.model_dump_json()) for i, outcome in enumerate(outcomes)],
            "outcomes",
        )
    sent = sum(1 for outcome in outcomes for step in outcome.steps if step.status == StepStatus.SENT)
    metrics.add_metric(name="MessagesSent", unit=MetricUnit.Count, value=sent)


def _received(message: Mapping[str, Any]) -> int:
    return int(message.get("attributes", {}).get("ApproximateReceiveCount", "0"))


def _last_attempt(record: SQSRecord) -> bool:
    return _received(record.raw_event) >= settings().trigger_max_receives


def _dead_lettered(record: TriggerRecord, error: Exception) -> RecordOutcome:
    attempts = settings().trigger_max_receives
    count_dead_letter()
    logger.error(
        "record failed its last attempt; it goes to the TriggerDLQ",
        bulk_id=record.bulk_id,
        index=record.index,
        error=type(error).__name__,
    )
    return RecordOutcome.of(
        record,
        RecordStatus.FAILED,
        f"failed {attempts} times, last with {type(error).__name__}; the record is in the dead-letter queue",
        "dead_lettered",
    )


def _send(queue_url: str, messages: list[queues.Message], what: str) -> None:
    refused = queues.send(queue_url, messages)
    if refused:
        raise RuntimeError(f"{len(refused)} {what} were not accepted by SQS; the batch is retried")

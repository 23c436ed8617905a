"""The worker's SQS batch: run each record, then enqueue the parts it spawned (delays, topic
pages) and report every outcome to the ResultsQueue.

A record that cannot be parsed or raises is a batch item failure (retried, then the DLQ); its
neighbours are not affected. On its last attempt (the TriggerQueue's maxReceiveCount) a record
that raises is also reported failed, so its bulk's counts end exact while the message goes to
the DLQ for an operator. If enqueuing fails the whole batch is retried, which is safe: every
side effect is claimed exactly once.

A crash (SIGKILL, out of memory, a timeout) is seen by no `except`: the whole invocation fails
and SQS delivers every message of the batch again. So a redelivered batch (any message with
ApproximateReceiveCount > 1) runs in isolation, record by record (`isolation_order`): a record
marked `done` (store.attempts) is deleted from the queue without running; every other record is
marked `started`, run, its parts and outcome sent at once, marked `done` and deleted from the
queue; the records marked `started` but never `done` (what the last crash happened in) run last.
So each crash costs at most its suspect: the healthy records of the batch end reported and
leave the queue, while the doomed one alone reaches the DLQ (whose consumer reports it).

AWS calls. A first attempt (every message received once), as ever: the batch's reads, then one
SendMessageBatch per ten parts and per ten outcomes for the whole batch. A redelivered batch:
one BatchGetItem of the markers of the messages received before, one DeleteMessageBatch for
those already done, and per record it runs two PutItems (started, done), its own
SendMessageBatch of parts (if any) and of its outcome (if any), and one DeleteMessageBatch."""

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
from clarion.model import RecordOutcome, RecordStatus, StepStatus, TriggerRecord
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
    known: Known = {}  # the batch's subscribers, resolved once for all its records
    parsed: dict[str, TriggerRecord] = {}
    for message in event["Records"]:
        with contextlib.suppress(ValidationError):  # the record's own handler reports it
            parsed[message["messageId"]] = TriggerRecord.model_validate_json(message["body"])
    try:
        prefetch(list(parsed.values()), known)
    except (BotoCoreError, ClientError) as error:
        logger.warning("batch subscriber read failed; records resolve their own", error=type(error).__name__)
    if any(_received(message) > 1 for message in event["Records"]):
        return _run_isolated(processor, event["Records"], parsed, known)

    outcomes: list[RecordOutcome] = []
    parts = Parts()
    handle = _handler(parsed, known, parts, outcomes)
    with processor(records=event["Records"], handler=handle):
        processor.process()
    _send_results(parts, outcomes)
    return processor.response()


def _handler(
    parsed: dict[str, TriggerRecord], known: Known, parts: Parts, outcomes: list[RecordOutcome]
) -> Callable[[SQSRecord], None]:
    """Run one record, adding its parts and outcome to the batch's."""

    def handle(record: SQSRecord) -> None:
        own = Parts()  # a record that raises spawns nothing
        trigger = parsed.get(record.message_id) or TriggerRecord.model_validate_json(record.body)
        with correlated(trigger.bulk_id, trigger.transaction_id):
            try:
                outcome = run(trigger, own, known)
            except Exception as error:
                if trigger.continuation is None and _last_attempt(record):
                    outcomes.append(_dead_lettered(trigger, error))
                raise
        parts.items.extend(own.items)
        if outcome is not None:
            outcomes.append(outcome)

    return handle


def _run_isolated(
    processor: BatchProcessor,
    messages: list[dict[str, Any]],
    parsed: dict[str, TriggerRecord],
    known: Known,
) -> PartialItemFailureResponse:
    received_before = {
        m["messageId"]: parsed[m["messageId"]].environment_id
        for m in messages
        if m["messageId"] in parsed and _received(m) > 1
    }
    order = isolation_order([m["messageId"] for m in messages], attempts.read(received_before))
    by_id = {m["messageId"]: m for m in messages}
    trigger_queue = queues.trigger_queue_of(messages[0].get("eventSourceARN", ""))  # one source a batch
    if order.skip:
        logger.info("redelivered batch: records already done are acknowledged", done=len(order.skip))
        queues.delete(trigger_queue, [by_id[m]["receiptHandle"] for m in order.skip])
    if order.last:
        logger.warning("redelivered batch: suspects of the last crash run last", suspects=len(order.last))

    def handle(record: SQSRecord) -> None:
        if record.message_id in order.skip:
            return
        environment_id = parsed[record.message_id].environment_id if record.message_id in parsed else None
        if environment_id is not None:
            attempts.mark(environment_id, record.message_id, Attempt.STARTED)
        outcomes: list[RecordOutcome] = []
        parts = Parts()
        try:
            _handler(parsed, known, parts, outcomes)(record)
        except Exception:
            _send_results(parts, outcomes)  # a last attempt's failure is reported before it raises
            raise
        _send_results(parts, outcomes)
        if environment_id is not None:
            attempts.mark(environment_id, record.message_id, Attempt.DONE)
        queues.delete(trigger_queue, [record.receipt_handle])

    ordered = [by_id[m] for m in order.skip + order.run + order.last]
    with processor(records=ordered, handler=handle):
        processor.process()
    return processor.response()


def _send_results(parts: Parts, outcomes: list[RecordOutcome]) -> None:
    by_queue: dict[str, list[queues.Message]] = {}
    for i, (part, delay) in enumerate(parts.items):
        message = queues.Message(str(i), part.model_dump_json(), delay)
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

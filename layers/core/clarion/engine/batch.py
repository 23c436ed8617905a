"""The worker's SQS batch: run each record, then enqueue the parts it spawned (delays, topic
pages) and report every outcome to the ResultsQueue.

A record that cannot be parsed or raises is a batch item failure (retried, then the DLQ); its
neighbours are not affected. On its last attempt (the TriggerQueue's maxReceiveCount) a record
that raises is also reported failed, so its bulk's counts end exact while the message goes to
the DLQ for an operator. If enqueuing fails the whole batch is retried, which is safe: every
side effect is claimed exactly once."""

from __future__ import annotations

import contextlib
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


def handle_trigger_batch(event: dict[str, Any]) -> PartialItemFailureResponse:
    # A batch whose every record fails is answered like any other (all listed as failures),
    # not raised: the outcomes of records on their last attempt must still be sent.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    outcomes: list[RecordOutcome] = []
    parts = Parts()
    known: Known = {}  # the batch's subscribers, resolved once for all its records
    parsed: dict[str, TriggerRecord] = {}
    for message in event["Records"]:
        with contextlib.suppress(ValidationError):  # the record's own handler reports it
            parsed[message["messageId"]] = TriggerRecord.model_validate_json(message["body"])
    try:
        prefetch(list(parsed.values()), known)
    except (BotoCoreError, ClientError) as error:
        logger.warning("batch subscriber read failed; records resolve their own", error=type(error).__name__)

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

    with processor(records=event["Records"], handler=handle):
        processor.process()
    _send(
        settings().require_trigger_queue(),
        [
            queues.Message(str(i), part.model_dump_json(), delay)
            for i, (part, delay) in enumerate(parts.items)
        ],
        "parts",
    )
    _send(
        settings().require_results_queue(),
        [queues.Message(str(i), outcome.model_dump_json()) for i, outcome in enumerate(outcomes)],
        "outcomes",
    )
    sent = sum(1 for outcome in outcomes for step in outcome.steps if step.status == StepStatus.SENT)
    metrics.add_metric(name="MessagesSent", unit=MetricUnit.Count, value=sent)
    return processor.response()


def _last_attempt(record: SQSRecord) -> bool:
    received = record.raw_event.get("attributes", {}).get("ApproximateReceiveCount", "0")
    return int(received) >= settings().trigger_max_receives


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

"""The DeadLetterFunction's SQS batch: every trigger record in the TriggerDLQ is reported
`failed` (`dead_lettered`) on the ResultsQueue, as the worker reports outcomes, so its bulk ends
with exact counts even when its worker crashed or timed out on every attempt (and so never
reported anything itself).

A record the worker already reported on its last attempt is reported again here; the results
count each record of a bulk once (store.bulks), so the counts stay exact. A part of a record (a
delay, digest or topic page: `continuation`) reports nothing, as in the worker: its record was
counted when it first ran; a dead part is logged. A message that is not a trigger record cannot
be attributed to a bulk: it is logged and dropped, never retried for ever."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from clarion import queues
from clarion.config import settings
from clarion.model import RecordOutcome, RecordStatus, TriggerRecord
from clarion.observability import correlated, logger, metrics

DEAD_LETTERED = "dead_lettered"


def dead_lettered(record: TriggerRecord) -> RecordOutcome:
    """What a dead record's bulk learns: it failed, and why."""
    attempts = settings().trigger_max_receives
    return RecordOutcome.of(
        record,
        RecordStatus.FAILED,
        f"{DEAD_LETTERED}: the worker did not finish the record in {attempts} attempts (it failed, "
        "crashed or timed out each time); it is not retried",
        DEAD_LETTERED,
    )


def handle_dead_letter_batch(event: dict[str, Any]) -> PartialItemFailureResponse:
    processor = BatchProcessor(event_type=EventType.SQS)
    outcomes: list[queues.Message] = []

    def report(record: SQSRecord) -> None:  # Powertools passes the message as `record`
        message = record
        try:
            trigger = TriggerRecord.model_validate_json(message.body)
        except ValidationError as error:
            logger.error(
                "dead letter is not a trigger record; dropped",
                message_id=message.message_id,
                received=message.attributes.approximate_receive_count,
                errors=error.error_count(),
            )
            return
        with correlated(trigger.bulk_id, trigger.transaction_id):
            if trigger.continuation is not None:
                logger.error(
                    "a part of a record was dead-lettered; its record was counted when it ran",
                    index=trigger.index,
                    part=trigger.continuation.kind,
                    subscriber_id=trigger.continuation.subscriber_id,
                )
                return
            logger.warning("dead-lettered record reported failed", index=trigger.index)
            outcomes.append(queues.Message(message.message_id, dead_lettered(trigger).model_dump_json()))

    with processor(records=event["Records"], handler=report):
        processor.process()
    # One batch send; an entry SQS refuses leaves its message in the TriggerDLQ, retried later.
    refused = queues.send(settings().require_results_queue(), outcomes) if outcomes else {}
    for message_id, error in refused.items():
        logger.warning(
            "outcome refused by SQS; the dead letter is retried", message_id=message_id, error=error
        )
    metrics.add_metric(name="DeadLettersReported", unit=MetricUnit.Count, value=len(outcomes) - len(refused))
    response = processor.response()
    response["batchItemFailures"] += [{"itemIdentifier": message_id} for message_id in refused]
    return response

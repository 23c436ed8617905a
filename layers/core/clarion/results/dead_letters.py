"""The DeadLetterFunction's SQS batch: every trigger record in the TriggerDLQ is reported
`failed` (`dead_lettered`) on the ResultsQueue, as the worker reports outcomes, so its bulk ends
with exact counts even when its worker crashed or timed out on every attempt (and so never
reported anything itself).

A record the worker already reported on its last attempt is reported again here; the results
count each record of a bulk once (store.bulks), so the counts stay exact. A part of a record (a
delay, digest or topic page: `continuation`) reports nothing, as in the worker: its record was
counted when it first ran; a dead part is logged. A message that is not a trigger record cannot
be attributed to a bulk: it is logged and dropped, never retried for ever.

A packed message (several records, model.packed) reaches the TriggerDLQ only when the worker
could not split it on any attempt (a packed record that raises is re-enqueued alone, a crash splits
it): none of its records finished, so each is reported `dead_lettered`."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from clarion import queues
from clarion.config import settings
from clarion.model import RecordOutcome, RecordStatus, TriggerRecord, packed
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
    message_of: dict[str, str] = {}  # outcome entry id -> the dead letter it reports

    def report(record: SQSRecord) -> None:  # Powertools passes the message as `record`
        message = record
        try:
            triggers = packed.records_of(message.body)
        except ValidationError as error:
            logger.error(
                "dead letter is not a trigger record; dropped",
                message_id=message.message_id,
                received=message.attributes.approximate_receive_count,
                errors=error.error_count(),
            )
            return
        for trigger in triggers:
            outcome = _outcome_of(trigger)
            if outcome is not None:
                entry = queues.Message(str(len(outcomes)), outcome.model_dump_json())
                message_of[entry.id] = message.message_id
                outcomes.append(entry)

    with processor(records=event["Records"], handler=report):
        processor.process()
    # One batch send; an entry SQS refuses leaves its message in the TriggerDLQ, retried later.
    refused = queues.send(settings().require_results_queue(), outcomes) if outcomes else {}
    for entry_id, error in refused.items():
        logger.warning(
            "outcome refused by SQS; the dead letter is retried", message_id=message_of[entry_id], error=error
        )
    metrics.add_metric(name="DeadLettersReported", unit=MetricUnit.Count, value=len(outcomes) - len(refused))
    response = processor.response()
    retried = dict.fromkeys(message_of[entry_id] for entry_id in refused)
    response["batchItemFailures"] += [{"itemIdentifier": message_id} for message_id in retried]
    return response


def _outcome_of(trigger: TriggerRecord) -> RecordOutcome | None:
    """A dead record's outcome; a dead part reports nothing (it is logged)."""
    with correlated(trigger.bulk_id, trigger.transaction_id):
        if trigger.continuation is not None:
            logger.error(
                "a part of a record was dead-lettered; its record was counted when it ran",
                index=trigger.index,
                part=trigger.continuation.kind,
                subscriber_id=trigger.continuation.subscriber_id,
            )
            return None
        logger.warning("dead-lettered record reported failed", index=trigger.index)
        return dead_lettered(trigger)

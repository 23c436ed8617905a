"""The worker's SQS batch: run each record, report every outcome to the ResultsQueue.

A record that cannot be parsed or raises is a batch item failure (retried, then the DLQ);
its neighbours are not affected. Outcomes are reported after the batch; if that fails the
whole batch is retried, which is safe because every side effect is claimed exactly once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from clarion import aws
from clarion.config import settings
from clarion.engine.run import run
from clarion.model import RecordOutcome, TriggerRecord
from clarion.observability import metrics


def handle_trigger_batch(event: dict[str, Any]) -> PartialItemFailureResponse:
    processor = BatchProcessor(event_type=EventType.SQS)
    outcomes: list[RecordOutcome] = []

    def handle(record: SQSRecord) -> None:
        outcomes.append(run(TriggerRecord.model_validate_json(record.body)))

    with processor(records=event["Records"], handler=handle):
        processor.process()
    report(outcomes)
    sent = sum(1 for outcome in outcomes for step in outcome.steps if step.status == "sent")
    metrics.add_metric(name="MessagesSent", unit=MetricUnit.Count, value=sent)
    return processor.response()


def report(outcomes: list[RecordOutcome]) -> None:
    """Send outcomes to the ResultsQueue in tens; a refused entry fails the batch (retried)."""
    client = aws.sqs()
    queue_url = settings().require_results_queue()
    for start in range(0, len(outcomes), 10):
        chunk = outcomes[start : start + 10]
        answer = client.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": o.model_dump_json()} for i, o in enumerate(chunk)],
        )
        if answer.get("Failed"):
            raise RuntimeError(f"{len(answer['Failed'])} outcomes were not accepted by the ResultsQueue")

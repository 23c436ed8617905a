"""The ResultsFunction's SQS batch: parse outcomes (a bad one is an item failure), aggregate the rest."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from clarion.model import RecordOutcome
from clarion.results.aggregate import aggregate


def handle_outcome_batch(event: dict[str, Any]) -> PartialItemFailureResponse:
    processor = BatchProcessor(event_type=EventType.SQS)
    outcomes: list[RecordOutcome] = []

    def parse(record: SQSRecord) -> None:
        outcomes.append(RecordOutcome.model_validate_json(record.body))

    with processor(records=event["Records"], handler=parse):
        processor.process()
    aggregate(outcomes)
    return processor.response()

"""Write a batch of outcomes' record rows together, then count each bulk's group exactly once."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from clarion import aws
from clarion.clock import expires_in_days, now_iso
from clarion.config import settings
from clarion.model import RecordOutcome
from clarion.observability import logger, metrics
from clarion.store import batches, bulks


def aggregate(outcomes: list[RecordOutcome]) -> int:
    """Count outcomes exactly once; returns how many were new (duplicates count zero)."""
    groups: dict[tuple[str, str], list[RecordOutcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[(outcome.environment_id, outcome.bulk_id)].append(outcome)
    now = now_iso()
    expires_at = expires_in_days(settings().status_ttl_days)
    # Every record's row first, 25 a BatchWriteItem across the batch's bulks (a batch of single
    # triggers is a hundred bulks of one), then each bulk's counters once.
    unique = {(o.environment_id, o.bulk_id, o.index): o for o in outcomes}
    rows: list[Any] = [
        {"PutRequest": {"Item": bulks.record_row(o.environment_id, o, expires_at)}} for o in unique.values()
    ]
    batches.write(aws.dynamodb(), settings().table_name, rows)
    written = 0
    for (environment_id, bulk_id), group in groups.items():
        written += bulks.record_outcomes(environment_id, bulk_id, group, now, expires_at, rows_written=True)
    logger.info("outcomes aggregated", received=len(outcomes), new=written, bulks=len(groups))
    metrics.add_metric(name="OutcomesCounted", unit=MetricUnit.Count, value=written)
    return written

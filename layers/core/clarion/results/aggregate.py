"""Group a batch of outcomes by bulk and write each group as one idempotent transaction."""

from __future__ import annotations

from collections import defaultdict

from aws_lambda_powertools.metrics import MetricUnit

from clarion.clock import expires_in_days, now_iso
from clarion.config import settings
from clarion.model import RecordOutcome
from clarion.observability import logger, metrics
from clarion.store import bulks


def aggregate(outcomes: list[RecordOutcome]) -> int:
    """Count outcomes exactly once; returns how many were new (duplicates count zero)."""
    groups: dict[tuple[str, str], list[RecordOutcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[(outcome.environment_id, outcome.bulk_id)].append(outcome)
    now = now_iso()
    expires_at = expires_in_days(settings().status_ttl_days)
    written = 0
    for (environment_id, bulk_id), group in groups.items():
        written += bulks.record_outcomes(environment_id, bulk_id, group, now, expires_at)
    logger.info("outcomes aggregated", received=len(outcomes), new=written, bulks=len(groups))
    metrics.add_metric(name="OutcomesCounted", unit=MetricUnit.Count, value=written)
    return written

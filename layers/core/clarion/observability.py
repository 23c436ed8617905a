"""Logger, Tracer and Metrics, created once and imported everywhere.

Never log whole events or payloads: bulk payloads carry personal data. Log ids and counts.
The correlation id of a log line is its bulk's id at the API and its record's transactionId in
the worker (`correlated`).

Metrics (namespace `Clarion`, dimension `service`; the dashboard and alarms in template.yaml
read exactly these, checked by tests/integration/test_template_observability.py):
  RecordsAccepted, RecordsRefused                 per bulk, at the API
  RecordsRefused by status                         per bulk and refusal status (`count_refusals`)
  Messages by channel, provider, outcome           per delivered step (`count_delivery`)
  StepLatency by channel (ms)                      record accepted -> step delivered
  RecordsDeadLettered                              records that failed their last attempt
  MessagesSent, OutcomesCounted                    per worker / results batch
Per-dimension metrics are summed over one invocation and published once at its end
(`publish_dimensioned_metrics`), a few lines per invocation instead of one per message.

The Tracer is created on the first invocation, not at import: Powertools' Tracer imports the
X-Ray SDK (and with it botocore), the largest single part of a cold import. With tracing on,
the first invocation pays that import instead; with it off (POWERTOOLS_TRACE_DISABLED, as in
the local stack), nobody does."""

from __future__ import annotations

import contextlib
import functools
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from clarion.clock import milliseconds_since

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger()
metrics = Metrics()
# Routes that record no metric (reads, management) are normal here, not a mistake to warn about.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

Handler = Callable[[Any, Any], Any]


class _FirstUseTracer:
    @functools.cached_property
    def tracer(self) -> Tracer:
        from aws_lambda_powertools import Tracer

        return Tracer()

    def capture_lambda_handler(self, handler: Handler) -> Handler:
        """Powertools' capture_lambda_handler, applied when the handler first runs."""
        if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() == "true":
            return handler

        @functools.wraps(handler)
        def traced(event: Any, context: Any) -> Any:
            return captured()(event, context)

        @functools.cache
        def captured() -> Handler:
            wrapped: Handler = self.tracer.capture_lambda_handler(handler)
            return wrapped

        return traced

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tracer, name)


tracer = _FirstUseTracer()


def _correlation(bulk_id: str, transaction_id: str | None) -> dict[str, str]:
    keys = {"correlation_id": transaction_id or bulk_id, "bulk_id": bulk_id}
    if transaction_id:
        keys["transaction_id"] = transaction_id
    return keys


def correlate(bulk_id: str, transaction_id: str | None = None) -> None:
    """The invocation's remaining log lines carry the correlation id (inject_lambda_context's
    clear_state drops it at the next invocation)."""
    logger.append_keys(**_correlation(bulk_id, transaction_id))


@contextlib.contextmanager
def correlated(bulk_id: str, transaction_id: str | None = None) -> Iterator[None]:
    """Log lines inside carry the correlation id (the transactionId, else the bulk's id)."""
    with logger.append_context_keys(**_correlation(bulk_id, transaction_id)):
        yield


# (metric name, unit, dimensions) -> the invocation's values, published by the handler's wrapper.
_dimensioned: dict[tuple[str, MetricUnit, tuple[tuple[str, str], ...]], list[float]] = {}


def _add(name: str, unit: MetricUnit, value: float, **dimensions: str) -> None:
    _dimensioned.setdefault((name, unit, tuple(sorted(dimensions.items()))), []).append(value)


def count_refusals(statuses: Iterable[str]) -> None:
    """One bulk's refused records, counted by status."""
    counts: dict[str, int] = {}
    for status in statuses:
        counts[str(status)] = counts.get(str(status), 0) + 1
    for status, count in counts.items():
        _add("RecordsRefused", MetricUnit.Count, count, status=status)


def count_delivery(channel: str, provider: str | None, outcome: str, accepted_at: str) -> None:
    """One step delivered (or not) to one subscriber, and how long after its record was accepted."""
    _add("Messages", MetricUnit.Count, 1, channel=channel, provider=provider or "none", outcome=outcome)
    _add("StepLatency", MetricUnit.Milliseconds, milliseconds_since(accepted_at), channel=channel)


def count_dead_letter() -> None:
    metrics.add_metric(name="RecordsDeadLettered", unit=MetricUnit.Count, value=1)


def publish_dimensioned_metrics(handler: Handler) -> Handler:
    """Publishes what count_* gathered during the invocation: one EMF line per dimension set
    (Powertools' Metrics holds one dimension set per line)."""

    @functools.wraps(handler)
    def publishing(event: Any, context: Any) -> Any:
        _dimensioned.clear()
        try:
            return handler(event, context)
        finally:
            _flush_dimensioned()

    return publishing


def _flush_dimensioned() -> None:
    by_dimensions: dict[tuple[tuple[str, str], ...], EphemeralMetrics] = {}
    for (name, unit, dimensions), values in _dimensioned.items():
        line = by_dimensions.get(dimensions)
        if line is None:
            line = by_dimensions[dimensions] = EphemeralMetrics()  # namespace, service: the environment's
            for key, label in dimensions:
                line.add_dimension(name=key, value=label)
        for value in [sum(values)] if unit is MetricUnit.Count else values:
            line.add_metric(name=name, unit=unit, value=value)
    _dimensioned.clear()
    for line in by_dimensions.values():
        line.flush_metrics()

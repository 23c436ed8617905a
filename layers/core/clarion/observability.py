"""Logger, Tracer and Metrics, created once and imported everywhere.

Never log whole events or payloads: bulk payloads carry personal data. Log ids and counts.

The Tracer is created on the first invocation, not at import: Powertools' Tracer imports the
X-Ray SDK (and with it botocore), the largest single part of a cold import. With tracing on,
the first invocation pays that import instead; with it off (POWERTOOLS_TRACE_DISABLED, as in
the local stack), nobody does."""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

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

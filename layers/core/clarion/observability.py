"""Logger, Tracer and Metrics, created once and imported everywhere.

Never log whole events or payloads: bulk payloads carry personal data. Log ids and counts.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()

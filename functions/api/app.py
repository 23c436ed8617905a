"""ApiFunction: HTTPS entry point. Thin: Powertools wiring, then the shared resolver."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from clarion.api.app import app
from clarion.observability import logger, metrics, publish_dimensioned_metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@publish_dimensioned_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

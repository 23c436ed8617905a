"""DeadLetterFunction: reports every record in the TriggerDLQ failed (dead_lettered) to the results."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from clarion.observability import logger, metrics, publish_dimensioned_metrics, tracer
from clarion.results.dead_letters import handle_dead_letter_batch


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@publish_dimensioned_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return handle_dead_letter_batch(event)

"""WorkerFunction: executes trigger records from the TriggerQueue, reports partial batch failures."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from clarion.engine.batch import handle_trigger_batch
from clarion.observability import logger, metrics, publish_dimensioned_metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@publish_dimensioned_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return handle_trigger_batch(event)

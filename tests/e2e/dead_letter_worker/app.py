"""The deployed WorkerFunction (functions/worker/app.py, unchanged), in a runtime that kills
itself with SIGKILL whenever it is about to run step `second` of the record whose transactionId
is $DEAD_LETTER_TEST_DOOMED: a crash no handler can catch, on every attempt, as an out-of-memory
kill or a segfault would be. Used by tests/e2e/test_dead_letter_reports.py through a copy of the
template whose WorkerFunction has this CodeUri."""

import importlib.util
import os
import signal
from typing import Any

from clarion.engine import steps as engine_steps

_spec = importlib.util.spec_from_file_location(
    "deployed_worker_app", os.environ["DEAD_LETTER_TEST_WORKER_APP"]
)
assert _spec and _spec.loader
_deployed = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_deployed)
_deliver = engine_steps.deliver


def _deliver_or_die(context: Any, step: Any, subscriber: Any, scope: Any) -> Any:
    if context.record.transaction_id == os.environ["DEAD_LETTER_TEST_DOOMED"] and step.step_id == "second":
        os.kill(os.getpid(), signal.SIGKILL)
    return _deliver(context, step, subscriber, scope)


engine_steps.deliver = _deliver_or_die
lambda_handler = _deployed.lambda_handler

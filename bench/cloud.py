"""The deployed application in-process on moto's mock_aws, run by the same harness as the
integration tests (clarion_cli.in_process), with every invocation and AWS call counted."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from clarion_cli.in_process import (
    BULK_TRIGGER_PATH,
    EMULATOR_ENDPOINTS,
    MOCK_AWS_ENVIRONMENT,
    MOCK_SQS_ENDPOINT,
    Handler,
    InProcessApp,
    environment,
)
from clarion_cli.seed import DEFAULT_API_KEY

from bench.counting import Recorder

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
API_KEY = DEFAULT_API_KEY
BULK_PATH = BULK_TRIGGER_PATH

# What every bench process needs: fake credentials, one region, Powertools' tracer and metrics
# off (no X-Ray daemon, no EMF lines on stdout).
BASE_ENVIRONMENT = {
    **MOCK_AWS_ENVIRONMENT,
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}

_DEVNULL = io.StringIO()


def silence_stdout_logging() -> None:
    """Functions log JSON lines to stdout; the bench's stdout is for figures. Logging still runs
    (its cost stays in the timings), its output goes nowhere."""
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stdout, sys.__stdout__):
                handler.setStream(_DEVNULL)
    _DEVNULL.seek(0)
    _DEVNULL.truncate()


class MockCloud(InProcessApp):
    """Handlers in-process on mock_aws; every handler call is an invocation on the recorder, and
    the event source mappings' own SQS calls are counted in their own scope (`esm:<queue>`)."""

    module_prefix = "clarion_bench_"

    def __init__(self, recorder: Recorder, parameters: dict[str, str] | None = None) -> None:
        from clarion_cli.template import Template

        super().__init__(Template(TEMPLATE, endpoint=MOCK_SQS_ENDPOINT, parameters=parameters))
        self.recorder = recorder
        self.outcomes: list[dict[str, Any]] = []  # outcome bodies the ResultsFunction received

    def handler(self, function: str) -> Handler:
        loaded = f"{self.module_prefix}{function}" in sys.modules
        handler = super().handler(function)
        if not loaded:
            silence_stdout_logging()
        return handler

    def invocation(self, function: str) -> AbstractContextManager[Any]:
        return self.recorder.invocation(function)

    def receive(self, queue: str, limit: int = 10) -> list[dict[str, Any]]:
        with self.recorder.scope(f"esm:{queue}"):
            return super().receive(queue, limit)

    def delete(self, queue: str, messages: list[dict[str, Any]]) -> None:
        with self.recorder.scope(f"esm:{queue}"):
            super().delete(queue, messages)

    def deliver_batch(
        self, function: str, messages: list[dict[str, Any]], queue: str | None = None
    ) -> list[dict[str, Any]]:
        if function == "ResultsFunction":
            self.outcomes += [json.loads(m["Body"]) for m in messages]
        return super().deliver_batch(function, messages, queue)


@contextmanager
def mock_cloud(
    recorder: Recorder,
    extra_environment: dict[str, str] | None = None,
    parameters: dict[str, str] | None = None,
) -> Iterator[MockCloud]:
    """A fresh account: tables and queues from the template (its parameters overridden as
    `sam deploy --parameter-overrides` would), the development environment seeded. moto runs
    with the patches that make its costs linear in a table's size (the fault-injection test's:
    a query reads its partition, a transaction copies the items it touches), same answers, so
    wall times at 10,000 recipients measure Clarion rather than moto's scans."""
    from clarion import aws
    from clarion_cli import moto_patches
    from moto import mock_aws

    moto_patches.install(moto_patches.LARGE_TABLES)

    with (
        environment({**BASE_ENVIRONMENT, **(extra_environment or {})}, remove=EMULATOR_ENDPOINTS),
        recorder.installed(),
        mock_aws(),
    ):
        aws.reset_clients()
        cloud = MockCloud(recorder, parameters)
        cloud.provision()
        try:
            yield cloud
        finally:
            # Clients go (they point at mock_aws); the caches stay warm for whoever runs next in
            # this process (the latency replay relies on it) and are cleared on the next entry.
            aws.reset_clients()


def novu_bulk(workflow_id: str, size: int = 100, tag: str = "b", recipients: str = "sub") -> dict[str, Any]:
    """A Novu bulk as an SDK sends it: one subscriber per event with inline profile fields."""
    return {
        "events": [
            {
                "name": workflow_id,
                "to": {
                    "subscriberId": f"{recipients}-{i:03d}",
                    "firstName": f"First{i}",
                    "lastName": "Bench",
                    "email": f"{recipients}-{i:03d}@example.com",
                },
                "payload": {"message": f"Hello from bulk {tag}, event {i}", "order": {"id": f"{tag}-{i}"}},
            }
            for i in range(size)
        ]
    }

"""The deployed application in-process, as tests/integration/conftest.py runs it: the real handlers
on moto's mock_aws, tables and queues provisioned from template.yaml (the local stack's own
provisioning), each function invoked with its environment from the template, and the event
source mappings played by the harness (receive a batch, invoke, delete the successes)."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.counting import Recorder

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
MOTO_SQS = "https://sqs.us-east-1.amazonaws.com"
API_KEY = "clarion-dev-key"
BULK_PATH = "/v1/events/trigger/bulk"

# What every bench process needs: fake credentials, one region, Powertools' tracer and metrics
# off (no X-Ray daemon, no EMF lines on stdout).
BASE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


@contextmanager
def environment(variables: dict[str, str], remove: tuple[str, ...] = ()) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in [*variables, *remove]}
    os.environ.update(variables)
    for name in remove:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench-request"
    log_group_name = "bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


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


def load_handler(function: str, code_dir: Path) -> Callable[[dict[str, Any], Any], Any]:
    name = f"clarion_bench_{function}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, code_dir / "app.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        silence_stdout_logging()
    handler: Callable[[dict[str, Any], Any], Any] = sys.modules[name].lambda_handler
    return handler


def api_event(method: str, path: str, body: Any = None, key: str | None = API_KEY) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"ApiKey {key}"
    return {
        "resource": "/v1/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/v1/{proxy+}",
            "httpMethod": method,
            "path": path,
            "stage": "live",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": body if isinstance(body, str) or body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def parse_answer(answer: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    headers = {k: v[0] for k, v in (answer.get("multiValueHeaders") or {}).items()}
    headers |= answer.get("headers") or {}
    body = answer.get("body")
    return answer["statusCode"], headers, json.loads(body) if body else None


class MockCloud:
    """Handlers in-process on mock_aws; every handler call is an invocation on the recorder."""

    def __init__(self, recorder: Recorder) -> None:
        import boto3
        from clarion_cli.template import Template

        self.recorder = recorder
        self.template = Template(TEMPLATE, endpoint=MOTO_SQS)
        self.functions = self.template.functions()
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.outcomes: list[dict[str, Any]] = []  # outcome bodies the ResultsFunction received

    @contextmanager
    def configured_as(self, function: str) -> Iterator[None]:
        from clarion import config

        with environment(self.functions[function].environment):
            config.settings.cache_clear()
            try:
                yield
            finally:
                config.settings.cache_clear()

    def handler(self, function: str) -> Callable[[dict[str, Any], Any], Any]:
        return load_handler(function, self.functions[function].code_dir)

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        handler = self.handler(function)
        with self.configured_as(function), self.recorder.invocation(function):
            return handler(event, Context())

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
        return parse_answer(self.invoke("ApiFunction", api_event(method, path, body)))

    # --- the event source mappings ----------------------------------------------------------
    def batch_size(self, function: str) -> int:
        return self.functions[function].sqs_sources[0].batch_size

    def receive(self, queue: str, limit: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        with self.recorder.scope(f"esm:{queue}"):
            while len(messages) < limit:
                got = self.sqs.receive_message(
                    QueueUrl=self.template.queue_url(queue),
                    MaxNumberOfMessages=min(10, limit - len(messages)),
                    AttributeNames=["All"],
                ).get("Messages", [])
                if not got:
                    break
                messages += got
        return messages

    def delete(self, queue: str, messages: list[dict[str, Any]]) -> None:
        with self.recorder.scope(f"esm:{queue}"):
            for start in range(0, len(messages), 10):
                self.sqs.delete_message_batch(
                    QueueUrl=self.template.queue_url(queue),
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(messages[start : start + 10])
                    ],
                )

    @staticmethod
    def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m.get("MD5OfBody", ""),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": queue_arn,
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
        }

    def deliver_batch(self, function: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Invoke on one batch; returns the messages it did not fail (and deletes them)."""
        queue = self.functions[function].sqs_sources[0].queue
        if function == "ResultsFunction":
            self.outcomes += [json.loads(m["Body"]) for m in messages]
        answer = self.invoke(function, self.sqs_event(messages, self.template.get_att(queue, "Arn")))
        failed = {f["itemIdentifier"] for f in (answer or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        self.delete(queue, done)
        return done

    def deliver(self, function: str) -> int:
        queue = self.functions[function].sqs_sources[0].queue
        delivered = 0
        while messages := self.receive(queue, self.batch_size(function)):
            done = self.deliver_batch(function, messages)
            delivered += len(done)
            if len(done) < len(messages):
                break
        return delivered

    def drain(self) -> None:
        """Run the worker, then the results function, until both queues are empty."""
        while self.deliver("WorkerFunction") + self.deliver("ResultsFunction"):
            pass


@contextmanager
def mock_cloud(recorder: Recorder, extra_environment: dict[str, str] | None = None) -> Iterator[MockCloud]:
    """A fresh account: tables and queues from the template, the development environment seeded."""
    from clarion import aws
    from clarion.store import environments, workflows
    from clarion_cli import emulator
    from clarion_cli.seed import seed
    from moto import mock_aws

    with (
        environment(
            {**BASE_ENVIRONMENT, **(extra_environment or {})},
            remove=("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"),
        ),
        recorder.installed(),
        mock_aws(),
    ):
        aws.reset_clients()
        environments.forget_cached_keys()
        workflows.forget_cached_workflows()
        cloud = MockCloud(recorder)
        emulator.provision(cloud.template)
        with cloud.configured_as("ApiFunction"):
            seed(API_KEY)
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

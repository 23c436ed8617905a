"""Real handlers, in-process, on moto's mock_aws, with tables and queues built from template.yaml
(the same provisioning the local stack uses), and each function's environment from the template."""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from clarion import aws, config
from clarion.observability import metrics
from clarion.store import environments, integrations, workflows
from clarion_cli import emulator
from clarion_cli.seed import DEFAULT_API_KEY, DEVELOPMENT, seed
from clarion_cli.template import Template
from moto import mock_aws

from tests.conftest import ROOT, TEMPLATE

MOTO_SQS = "https://sqs.us-east-1.amazonaws.com"


def _load_handler(function: str, code_dir: Path) -> Any:
    name = f"clarion_test_{function}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, code_dir / "app.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name].lambda_handler


class Context:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "test-request"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class Cloud:
    """The deployed application, in-process: invoke functions, move messages between queues."""

    def __init__(self, template: Template, monkeypatch: pytest.MonkeyPatch) -> None:
        self.template = template
        self.functions = template.functions()
        self.monkeypatch = monkeypatch
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.dynamodb = boto3.client("dynamodb", region_name="us-east-1")

    @contextmanager
    def configured_as(self, function: str) -> Iterator[None]:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in self.functions[function].environment.items():
                patch.setenv(name, value)
            config.settings.cache_clear()
            yield
        config.settings.cache_clear()

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        handler = _load_handler(function, self.functions[function].code_dir)
        with self.configured_as(function):
            try:
                return handler(event, Context())
            finally:
                metrics.clear_metrics()  # disabled metrics are never flushed: keep them from piling up

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        key: str | None = DEFAULT_API_KEY,
        query: dict[str, str] | None = None,
        raw_body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        headers = {"Content-Type": "application/json", **(headers or {})}
        if key is not None:
            headers["Authorization"] = f"ApiKey {key}"
        event = {
            "resource": "/v1/{proxy+}",
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
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
            "body": raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
            "isBase64Encoded": False,
        }
        answer = self.invoke("ApiFunction", event)
        response_headers = {k: v[0] for k, v in (answer.get("multiValueHeaders") or {}).items()}
        response_headers |= answer.get("headers") or {}
        return (
            answer["statusCode"],
            response_headers,
            json.loads(answer["body"]) if answer.get("body") else None,
        )

    def queue_url(self, logical_id: str) -> str:
        return self.template.queue_url(logical_id)

    def receive(self, logical_id: str, limit: int = 10) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < limit:
            got = self.sqs.receive_message(
                QueueUrl=self.queue_url(logical_id),
                MaxNumberOfMessages=min(10, limit - len(messages)),
                AttributeNames=["All"],
            ).get("Messages", [])
            if not got:
                break
            messages += got
        return messages

    @staticmethod
    def sqs_event(
        messages: list[dict[str, Any]], queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:q"
    ) -> dict[str, Any]:
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

    def deliver(self, function: str, queue: str, batch_size: int = 10) -> int:
        """What the event source mapping does: receive a batch, invoke, delete the successes."""
        delivered = 0
        while messages := self.receive(queue, batch_size):
            answer = self.invoke(function, self.sqs_event(messages))
            failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
            done = [m for m in messages if m["MessageId"] not in failed]
            for start in range(0, len(done), 10):
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url(queue),
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(done[start : start + 10])
                    ],
                )
            delivered += len(done)
            if failed:
                break
        return delivered

    def drain(self) -> None:
        """Run the worker and results functions until both queues are empty."""
        while self.deliver("WorkerFunction", "TriggerQueue") + self.deliver(
            "ResultsFunction", "ResultsQueue", 100
        ):
            pass


def use_moto_credentials(monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    """What a test on in-process moto needs in its environment (and no running emulator's
    endpoint, which a developer's shell may hold)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        **extra,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_SQS", raising=False)


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    use_moto_credentials(monkeypatch, POWERTOOLS_TRACE_DISABLED="true", POWERTOOLS_METRICS_DISABLED="true")
    with mock_aws():
        aws.reset_clients()
        environments.forget_cached_keys()
        workflows.forget_cached_workflows()
        integrations.forget_cached_integrations()
        template = Template(TEMPLATE, endpoint=MOTO_SQS)
        emulator.provision(template)
        app = Cloud(template, monkeypatch)
        with app.configured_as("ApiFunction"):
            seed(DEFAULT_API_KEY)
        yield app
    aws.reset_clients()


__all__ = ["DEVELOPMENT", "ROOT", "Cloud"]

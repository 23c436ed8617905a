"""The template's functions called in this process, as Lambda calls them: each handler imported
once from its code directory, invoked with a Lambda context and the function's environment from
template.yaml, API requests made into API Gateway proxy events, and the event source mappings
played on demand (receive a batch, invoke, delete the successes). The integration tests and the
bench run the application this way on moto's mock_aws; the local stack's runtimes import their
handler and build their context here too."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clarion_cli.lambda_events import (
    api_gateway_answer,
    api_gateway_event,
    delete_messages,
    failed_message_ids,
    receive_messages,
    sqs_event,
)
from clarion_cli.seed import DEFAULT_API_KEY, seed
from clarion_cli.template import ACCOUNT_ID, REGION, Function, Template

Handler = Callable[[dict[str, Any], Any], Any]

# In-process moto: fake credentials, one region, and no emulator endpoint (a developer's shell
# may hold one). moto answers SQS at the queue URLs the template gives under this endpoint.
MOCK_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}
EMULATOR_ENDPOINTS = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS")
MOCK_SQS_ENDPOINT = f"https://sqs.{REGION}.amazonaws.com"
BULK_TRIGGER_PATH = "/v1/events/trigger/bulk"


@dataclass
class LambdaContext:
    """What a handler's `context` offers (Powertools reads the name, memory, ARN and request id)."""

    function_name: str
    memory_limit_in_mb: int
    deadline: float  # time.time() at which the invocation times out
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"

    @classmethod
    def starting_now(cls, function: Function) -> LambdaContext:
        return cls(function.name, function.memory, time.time() + function.timeout)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self.deadline - time.time()) * 1000), 0)


def import_handler(code_dir: Path, handler: str, module_name: str | None = None) -> Handler:
    """The function `handler` ("app.lambda_handler") names in code_dir, its module imported once
    under `module_name` (functions whose modules share a name need their own in one process)."""
    module_path, _, attribute = handler.rpartition(".")
    name = module_name or module_path
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, code_dir / f"{module_path.replace('.', '/')}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    found: Handler = getattr(sys.modules[name], attribute)
    return found


@contextmanager
def environment(variables: Mapping[str, str], remove: tuple[str, ...] = ()) -> Iterator[None]:
    """os.environ with `variables` set and `remove` unset, restored on leaving."""
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


def api_request(
    method: str,
    path: str,
    body: Any = None,
    *,
    key: str | None = DEFAULT_API_KEY,
    query: Mapping[str, str] | None = None,
    raw_body: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The proxy event of a JSON request with an API key: `body` is sent as JSON, `raw_body` as it is."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if key is not None:
        sent["Authorization"] = f"ApiKey {key}"
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    return api_gateway_event(
        method, path, sent, text, query={name: [value] for name, value in (query or {}).items()}
    )


def json_answer(result: Mapping[str, Any]) -> tuple[int, dict[str, str], Any]:
    """A proxy answer as status, headers and the body parsed as JSON (None when empty)."""
    status, headers, payload = api_gateway_answer(result)
    return status, headers, json.loads(payload) if payload else None


class InProcessApp:
    """The deployed application in this process, on whatever AWS boto3 resolves (mock_aws)."""

    context_type: type[LambdaContext] = LambdaContext
    module_prefix = "clarion_in_process_"

    def __init__(self, template: Template) -> None:
        import boto3

        self.template = template
        self.functions = template.functions()
        self.sqs = boto3.client("sqs", region_name=REGION)

    def provision(self) -> None:
        """A fresh account: tables and queues from the template, the development environment
        seeded with DEFAULT_API_KEY, and no cached key, workflow or integration of an earlier one."""
        from clarion.store import environments, integrations, rate_buckets, workflows

        from clarion_cli import emulator

        environments.forget_cached_keys()
        rate_buckets.forget()  # what this container saw of the buckets
        workflows.forget_cached_workflows()
        integrations.forget_cached_integrations()
        emulator.provision(self.template)
        with self.configured_as("ApiFunction"):
            seed(DEFAULT_API_KEY)

    @contextmanager
    def configured_as(self, function: str) -> Iterator[None]:
        from clarion import config

        with environment(self.functions[function].environment):
            config.settings.cache_clear()
            try:
                yield
            finally:
                config.settings.cache_clear()

    def handler(self, function: str) -> Handler:
        spec = self.functions[function]
        return import_handler(spec.code_dir, spec.handler, f"{self.module_prefix}{function}")

    def invocation(self, function: str) -> AbstractContextManager[Any]:
        """Around each handler call (the bench times and counts it)."""
        return nullcontext()

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        from clarion.observability import metrics

        handler = self.handler(function)
        context = self.context_type.starting_now(self.functions[function])
        with self.configured_as(function):
            try:
                with self.invocation(function):
                    return handler(event, context)
            finally:
                metrics.clear_metrics()  # disabled metrics are never flushed: keep them from piling up

    def api(
        self, method: str, path: str, body: Any = None, **request: Any
    ) -> tuple[int, dict[str, str], Any]:
        """The ApiFunction's answer to `api_request(method, path, body, **request)`: status,
        headers, the body parsed as JSON."""
        return json_answer(self.invoke("ApiFunction", api_request(method, path, body, **request)))

    def trigger_bulk(self, *events: Any, **request: Any) -> tuple[int, dict[str, str], Any]:
        """A Novu bulk trigger of `events`."""
        return self.api("POST", BULK_TRIGGER_PATH, {"events": list(events)}, **request)

    # --- the event source mappings ----------------------------------------------------------
    def queue_url(self, logical_id: str) -> str:
        return self.template.queue_url(logical_id)

    def receive(self, queue: str, limit: int = 10) -> list[dict[str, Any]]:
        return receive_messages(self.sqs, self.queue_url(queue), limit)

    def delete(self, queue: str, messages: list[dict[str, Any]]) -> None:
        delete_messages(self.sqs, self.queue_url(queue), messages)

    def deliver_batch(
        self, function: str, messages: list[dict[str, Any]], queue: str | None = None
    ) -> list[dict[str, Any]]:
        """Invoke on one batch; returns the messages it did not fail (and deletes them)."""
        queue = queue or self.functions[function].sqs_sources[0].queue
        answer = self.invoke(function, sqs_event(messages, self.template.get_att(queue, "Arn")))
        failed = failed_message_ids(answer)
        done = [m for m in messages if m["MessageId"] not in failed]
        self.delete(queue, done)
        return done

    def deliver(self, function: str, queue: str | None = None, batch_size: int | None = None) -> int:
        """What the function's event source mapping does until its queue is empty or a batch
        fails: receive a batch, invoke, delete the successes. Returns how many succeeded."""
        sources = self.functions[function].sqs_sources
        if queue is None and len(sources) > 1:  # one mapping per queue (the template's TriggerQueues)
            return sum(self.deliver(function, source.queue, batch_size) for source in sources)
        source = next((s for s in sources if s.queue == queue), sources[0])
        queue = queue or source.queue
        delivered = 0
        while messages := self.receive(queue, batch_size or source.batch_size):
            done = self.deliver_batch(function, messages, queue)
            delivered += len(done)
            if len(done) < len(messages):
                break
        return delivered

    def drain(self) -> None:
        """Run the worker, then the results function, until both queues are empty."""
        while self.deliver("WorkerFunction") + self.deliver("ResultsFunction"):
            pass

"""Fault injection for the in-process cloud (tests/integration/conftest.py's `Cloud`).

Three instruments, each counting what it did:

- `AwsFaults`: fails HTTP attempts of AWS calls with throttling (ProvisionedThroughputExceeded,
  ThrottlingException) and 5xx (InternalServerError, ServiceUnavailable) answers, and answers
  batch calls (BatchWriteItem, BatchGetItem, SendMessageBatch) in part: a 200 that hands some
  entries back as UnprocessedItems / UnprocessedKeys / Failed, as the services do under load.

  Where the faults hit: *inside* botocore's retry loop, per attempt, exactly where the network
  is. botocore emits `before-send` for every attempt and moto answers it (its stubber is a
  `before-send` handler); a faulted attempt is answered by us *instead of* moto, so the
  request never reaches the emulated service, as a throttled request never reaches the real
  one. botocore then parses the error and its retry handler decides (retry mode `standard`,
  `AWS_MAX_ATTEMPTS` attempts): most faults are absorbed by a retry, some survive every attempt
  and reach Clarion as a ClientError. The backoff botocore would sleep is added up, not slept.
  A fault is therefore never ambiguous (executed but answered with an error): that case is
  not modelled here. A partial answer is a 200, which botocore does not retry: Clarion's own
  loops deal with the entries handed back.

  Hot keys: every DynamoDB request that names one is refused with ProvisionedThroughputExceeded,
  always: a record naming one can never run and must end in the DLQ. (Harsher than DynamoDB,
  which would process a batch's other items and hand only the hot one back.)

  Faults are only injected while a function runs (`inside(function)`): the harness's own
  calls (what Lambda's event source mapping does on AWS's side) are not faulted.

- `WorkerKill`: the worker process dies between a provider's answer and the record of it
  (raised from `store.messages.settle` when it settles a `sending` claim). It is a
  BaseException, so it escapes Powertools' BatchProcessor and the handler, as a killed
  process would: the whole batch fails and every message in it is received again.

- `EventSourceMapping`: Lambda's SQS poller over the *real* moto queues (redrive policies from
  template.yaml): receives a window of messages, shuffles them, invokes the function in
  batches, deletes the successes, makes failures visible again at once (visibility 0), and
  redelivers some successes a second time (SQS is at-least-once). moto moves a message to the
  DLQ when it is received after `maxReceiveCount` receives, as SQS does.
"""

from __future__ import annotations

import binascii
import inspect
import json
import random
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.endpoint
import botocore.handlers
import pytest
from botocore.awsrequest import AWSResponse
from clarion_cli.lambda_events import (
    delete_messages,
    failed_message_ids,
    receive_messages,
    release_messages,
    sqs_event,
)
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse

FAULT_HEADER = "x-clarion-injected-fault"

# (error code, HTTP status, services it applies to (None: all)), by kind.
FAULT_KINDS: dict[str, list[tuple[str, int, frozenset[str] | None]]] = {
    "throttling": [
        ("ProvisionedThroughputExceededException", 400, frozenset({"dynamodb"})),
        ("ThrottlingException", 400, None),
    ],
    "5xx": [
        ("InternalServerError", 500, None),
        ("ServiceUnavailable", 503, None),
    ],
}
# Batch operations also fail in part: a 200 whose answer hands some entries back.
PARTIAL = {
    "dynamodb.BatchWriteItem": "UnprocessedItems",
    "dynamodb.BatchGetItem": "UnprocessedKeys",
    "sqs.SendMessageBatch": "Failed",
}
_QUERY_PROTOCOL = frozenset({"sns", "ses", "sts", "cloudformation"})  # XML error bodies


def _entries(service: str, body: dict[str, Any]) -> int:
    """How many entries a batch request carries."""
    if service == "sqs":
        return len(body.get("Entries", []))
    return sum(
        len(spec["Keys"]) if isinstance(spec, dict) else len(spec)
        for spec in body.get("RequestItems", {}).values()
    )


def _error_response(url: str, service: str, code: str, status: int) -> AWSResponse:
    message = f"injected fault: {code}"
    headers = {FAULT_HEADER: code, "x-amzn-RequestId": "fault"}
    if service in _QUERY_PROTOCOL:
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>fault</RequestId></ErrorResponse>"
        )
        headers["Content-Type"] = "text/xml"
    else:  # json and rest-json (DynamoDB, SQS, SES v2): the code in __type and the header
        body = json.dumps({"__type": code, "message": message, "Message": message})
        headers |= {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}
    return AWSResponse(url, status, headers, MockRawResponse(body))


@dataclass
class Scripted:
    """A deterministic fault: after `skip` matching attempts, fail the next `attempts` ones."""

    function: str
    operation: str  # "sqs.SendMessageBatch"
    contains: str = ""  # a substring the request body must hold
    skip: int = 0
    attempts: int = 2  # as many as botocore makes: the call fails
    code: str = "InternalServerError"
    status: int = 500
    seen: int = 0
    failed: int = 0


@dataclass
class AwsFaults:
    rate: float
    rng: random.Random
    max_attempts: int = 2
    functions: frozenset[str] = frozenset({"ApiFunction", "WorkerFunction", "ResultsFunction"})
    hot_keys: frozenset[str] = frozenset()  # DynamoDB requests naming one are always throttled
    hot_key_functions: frozenset[str] = frozenset({"WorkerFunction"})
    attempts: Counter[str] = field(default_factory=Counter)  # by service
    injected: Counter[tuple[str, str]] = field(default_factory=Counter)  # (function, code)
    surfaced: Counter[tuple[str, str]] = field(default_factory=Counter)  # after every retry
    surfaced_at: Counter[str] = field(default_factory=Counter)  # "ApiFunction dynamodb.PutItem"
    by_operation: Counter[str] = field(default_factory=Counter)  # "dynamodb.PutItem"
    hot_key_faults: int = 0
    backoff_skipped: float = 0.0
    function: str | None = None
    script: list[Scripted] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """In front of moto for every client created from now on; callers reset cached clients."""
        monkeypatch.setenv("AWS_RETRY_MODE", "standard")
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", str(self.max_attempts))
        moto_call = BotocoreStubber.__call__
        faults = self

        def call(stubber: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
            decision = faults._attempt(event_name, request)
            if decision == "partial":
                return faults._partial(lambda: moto_call(stubber, event_name, request, **kwargs), request)
            return decision or moto_call(stubber, event_name, request, **kwargs)

        monkeypatch.setattr(BotocoreStubber, "__call__", call)
        handlers = [*botocore.handlers.BUILTIN_HANDLERS, ("after-call", self._after_call)]
        monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", handlers)
        monkeypatch.setattr(botocore.endpoint, "time", _NoSleep(self))

    @contextmanager
    def inside(self, function: str) -> Iterator[None]:
        self.function = function
        try:
            yield
        finally:
            self.function = None

    def _attempt(self, event_name: str, request: Any) -> AWSResponse | str | None:
        if self.function not in self.functions:
            return None
        _, service, operation = event_name.split(".", 2)
        self.attempts[service] += 1
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        for rule in self.script:
            if (rule.function, rule.operation) != (self.function, f"{service}.{operation}"):
                continue
            if rule.contains not in body or rule.failed >= rule.attempts:
                continue
            rule.seen += 1
            if rule.seen > rule.skip:
                rule.failed += 1
                self.injected[(self.function, rule.code)] += 1
                return _error_response(request.url, service, rule.code, rule.status)
        hot = service == "dynamodb" and self.function in self.hot_key_functions
        if hot and any(key in body for key in self.hot_keys):
            self.hot_key_faults += 1
            return _error_response(request.url, service, "ProvisionedThroughputExceededException", 400)
        if self.rng.random() >= self.rate:
            return None
        choices = [
            (code, status)
            for kind in FAULT_KINDS.values()
            for code, status, services in kind
            if services is None or service in services
        ]
        partial = PARTIAL.get(f"{service}.{operation}")
        if partial and _entries(service, json.loads(body)) > 1:
            choices.append((partial, 200))
        code, status = self.rng.choice(choices)
        self.injected[(self.function, code)] += 1
        self.by_operation[f"{service}.{operation}"] += 1
        if code == partial:
            return "partial"
        return _error_response(request.url, service, code, status)

    def _partial(self, send: Callable[[], AWSResponse], request: Any) -> AWSResponse:
        """Send about half of a batch's entries; answer the rest as unprocessed (DynamoDB) or
        failed (SQS), in a 200, as the services do under load. At least one entry goes through."""
        original = request.body
        body = json.loads(original)
        answer: dict[str, Any]
        if "Entries" in body:  # SQS SendMessageBatch
            kept, back = self._split(body["Entries"])
            body["Entries"] = kept
            failed = [
                {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "injected"}
                for e in back
            ]
            answer = {"Failed": failed}
        elif "Keys" in next(iter(body["RequestItems"].values())):  # BatchGetItem
            unprocessed: dict[str, Any] = {}
            for table, spec in body["RequestItems"].items():
                kept, back = self._split(spec["Keys"])
                spec["Keys"] = kept
                if back:
                    unprocessed[table] = {**spec, "Keys": back}
            body["RequestItems"] = {t: spec for t, spec in body["RequestItems"].items() if spec["Keys"]}
            answer = {"UnprocessedKeys": unprocessed}
        else:  # BatchWriteItem
            unprocessed = {}
            for table, writes in body["RequestItems"].items():
                kept, back = self._split(writes)
                body["RequestItems"][table] = kept
                if back:
                    unprocessed[table] = back
            body["RequestItems"] = {t: w for t, w in body["RequestItems"].items() if w}
            answer = {"UnprocessedItems": unprocessed}
        request.body = json.dumps(body).encode()
        try:
            response = send()
        finally:
            request.body = original
        content = json.loads(response.content or b"{}")
        for name, value in answer.items():
            content[name] = [*content.get(name, []), *value] if name == "Failed" else value
        raw = json.dumps(content).encode()
        headers = {
            k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "x-amz-crc32")
        }
        headers["x-amz-crc32"] = str(binascii.crc32(raw) & 0xFFFFFFFF)
        return AWSResponse(response.url, response.status_code, headers, MockRawResponse(raw))

    def _split(self, entries: list[Any]) -> tuple[list[Any], list[Any]]:
        kept: list[Any] = []
        back: list[Any] = []
        for entry in entries:
            (back if self.rng.random() < 0.5 else kept).append(entry)
        if not kept and back:
            kept.append(back.pop())
        return kept, back

    def _after_call(self, http_response: Any, parsed: Any, event_name: str, **kwargs: Any) -> None:
        code = http_response.headers.get(FAULT_HEADER) if http_response is not None else None
        if code and self.function:
            self.surfaced[(self.function, code)] += 1
            _, service, operation = event_name.split(".", 2)
            self.surfaced_at[f"{self.function} {service}.{operation}"] += 1

    def figures(self) -> dict[str, Any]:
        injected = sum(self.injected.values())
        surfaced = sum(self.surfaced.values())
        partial = sum(n for (_, code), n in self.injected.items() if code in PARTIAL.values())
        by_kind: Counter[str] = Counter()
        for (_, code), count in self.injected.items():
            kinds = [k for k, codes in FAULT_KINDS.items() if any(c[0] == code for c in codes)]
            by_kind[f"{kinds[0] if kinds else 'partial batch'}:{code}"] += count
        return {
            "aws_attempts": dict(self.attempts),
            "injected": injected,
            "injected_by_kind": dict(sorted(by_kind.items())),
            "injected_by_function": dict(
                Counter({f: 0 for f in self.functions})
                + Counter(f for (f, _), n in self.injected.items() for _ in range(n))
            ),
            "absorbed_by_botocore_retries": injected - partial - surfaced,
            "surfaced_to_clarion": surfaced,
            "partial_batch_answers_to_clarion": partial,
            "surfaced_by_function": dict(Counter(f for (f, _), n in self.surfaced.items() for _ in range(n))),
            "surfaced_at": dict(self.surfaced_at.most_common()),
            "hot_key_faults": self.hot_key_faults,
            "backoff_not_slept_s": round(self.backoff_skipped, 1),
        }


class _NoSleep:
    """botocore.endpoint's `time`, with sleep added up instead of slept."""

    def __init__(self, faults: AwsFaults) -> None:
        self._faults = faults

    def sleep(self, seconds: float) -> None:
        self._faults.backoff_skipped += seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


class WorkerKilled(BaseException):
    """The worker process died (not an Exception: nothing in the handler may catch it)."""


@dataclass
class WorkerKill:
    rate: float
    rng: random.Random
    kills: int = 0
    killed: list[tuple[str, str, str]] = field(default_factory=list)  # (transaction, subscriber, step)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from clarion.store import messages

        settle = messages.settle
        signature = inspect.signature(settle)

        def dying_settle(*args: Any, **kwargs: Any) -> bool:
            call = signature.bind(*args, **kwargs).arguments
            after_provider = call["expected_status"] == "sending" and "providerMessageIds" in call["message"]
            if after_provider and self.rng.random() < self.rate:
                self.kills += 1
                self.killed.append((call["transaction_id"], call["subscriber_id"], call["step_id"]))
                raise WorkerKilled(f"worker killed after the provider answered for {call['transaction_id']}")
            return settle(*args, **kwargs)

        monkeypatch.setattr(messages, "settle", dying_settle)


@dataclass
class MappingStats:
    invocations: int = 0
    invocation_errors: Counter[str] = field(default_factory=Counter)  # the whole batch failed
    first_error: dict[str, str] = field(default_factory=dict)  # by exception type: a traceback
    item_failures: int = 0
    received: int = 0
    redeliveries: int = 0  # receives of a message already received before
    duplicates_sent: int = 0  # successes delivered a second time
    max_receive_count: int = 0


@dataclass
class EventSourceMapping:
    """Lambda's SQS event source mapping for one function, with ReportBatchItemFailures."""

    invoke: Callable[[str, dict[str, Any]], Any]
    sqs: Any  # the harness's client: never faulted
    function: str
    queue_url: str
    queue_arn: str
    batch_size: int
    rng: random.Random
    duplicate_rate: float = 0.0
    window: int = 30
    stats: MappingStats = field(default_factory=MappingStats)
    failures: Counter[str] = field(default_factory=Counter)  # by MessageId
    failure_reasons: dict[str, str] = field(default_factory=dict)

    def poll(self) -> int:
        """One round: receive up to `window` messages, run them in shuffled batches."""
        messages = receive_messages(self.sqs, self.queue_url, self.window)
        self.rng.shuffle(messages)
        for message in messages:
            count = int(message["Attributes"]["ApproximateReceiveCount"])
            self.stats.received += 1
            self.stats.redeliveries += count > 1
            self.stats.max_receive_count = max(self.stats.max_receive_count, count)
        start = 0
        while start < len(messages):
            size = self.rng.randint(1, self.batch_size)
            self._run(messages[start : start + size])
            start += size
        return len(messages)

    def history(self, message: dict[str, Any]) -> str:
        """How a message fared: its failures and the last reason."""
        message_id = message["MessageId"]
        return f"{self.failures[message_id]} failures, last: {self.failure_reasons.get(message_id)}"

    def _run(self, batch: list[dict[str, Any]]) -> None:
        self.stats.invocations += 1
        try:
            answer = self.invoke(self.function, sqs_event(batch, self.queue_arn))
        except BaseException as error:  # the invocation failed: the whole batch comes back
            if isinstance(error, KeyboardInterrupt):
                raise
            self.stats.invocation_errors[type(error).__name__] += 1
            self.stats.first_error.setdefault(type(error).__name__, traceback.format_exc(limit=-6))
            failed = {m["MessageId"] for m in batch}
            reason = f"invocation failed: {type(error).__name__}: {str(error).splitlines()[0]}"
        else:
            failed = failed_message_ids(answer)
            self.stats.item_failures += len(failed)
            reason = "reported as a batch item failure"
        for message in batch:
            if message["MessageId"] in failed:
                self.failures[message["MessageId"]] += 1
                self.failure_reasons[message["MessageId"]] = reason
        done = [m for m in batch if m["MessageId"] not in failed]
        back = [m for m in batch if m["MessageId"] in failed]
        delete_messages(self.sqs, self.queue_url, done)
        release_messages(self.sqs, self.queue_url, back)
        for message in done:
            if self.rng.random() < self.duplicate_rate:
                self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=message["Body"])
                self.stats.duplicates_sent += 1

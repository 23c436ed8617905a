"""The AWS emulator (moto server) and the tables and queues the template declares, created in it."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from typing import Any

from clarion_cli.template import REGION, Template

_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
    "StreamSpecification",
)
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
)


def use_local_credentials(endpoint: str, sqs_endpoint: str | None = None) -> dict[str, str]:
    """The variables every process talking to the emulator needs, set here and returned."""
    variables = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_SQS": sqs_endpoint or endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
    os.environ.update(variables)
    return variables


def port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.3)
        return probe.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _moto_application(sqs_port: int | None = None) -> Any:
    """moto's app, served by `wsgi_server` (a thread per kept-alive connection: werkzeug's
    server closes every connection after one answer; waitress hands each request between its
    event loop and a worker thread, which cost a third of the emulator's time under load).
    DynamoDB requests are taken one at a time: moto's DynamoDB backend is not thread-safe (a
    transaction copies tables while another request changes them, and fails with a 500). SQS
    long polls stay concurrent. Each service's app is found once, from the request's signed
    credential scope, instead of by moto's per-request search of every backend. With
    `sqs_port`, SQS requests are passed on to the emulator process that holds the queues."""
    from moto.server import DomainDispatcherApplication, create_backend_app

    dispatcher = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()
    apps: dict[tuple[str, str], Any] = {}
    sqs = _Forward(sqs_port) if sqs_port else None

    def application(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        scope = environ.get("HTTP_AUTHORIZATION", "").partition("Credential=")[2].split("/")
        if len(scope) < 5 or path.startswith("/moto-api"):
            if sqs is not None and path == "/moto-api/reset":  # the queues are reset too
                sqs.reset()
            return dispatcher(environ, start_response)
        if sqs is not None and scope[3] == "sqs":
            return sqs(environ, start_response)
        # SES v1 and v2 sign as the same service: the path's first segment tells them apart.
        route = (scope[3], path.split("/")[1] if path.count("/") > 1 else "")
        if route not in apps:
            apps[route] = dispatcher.get_application(environ)
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            with lock:
                return list(apps[route](environ, start_response))
        return apps[route](environ, start_response)

    return application


def wsgi_server(port: int, application: Any) -> Any:
    """A WSGI server on the standard library's ThreadingHTTPServer: one thread per connection,
    serving that connection's requests in turn for as long as the client keeps it open."""
    import io
    import sys
    import traceback
    from http.server import ThreadingHTTPServer
    from urllib.parse import unquote_to_bytes

    from clarion_cli.serving import KeepAliveHandler

    class Handler(KeepAliveHandler):
        server_version = "clarion-emulator"

        def handle_request(self) -> None:
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            environ = {
                f"HTTP_{name.upper().replace('-', '_')}": value
                for name, value in self.headers.items()
                if name.lower() not in ("content-type", "content-length")
            } | {
                "REQUEST_METHOD": self.command,
                "SCRIPT_NAME": "",
                "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(length),
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": str(port),
                "SERVER_PROTOCOL": self.request_version,
                "REMOTE_ADDR": self.client_address[0],
                "wsgi.version": (1, 0),
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(self.rfile.read(length) if length else b""),
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": True,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
            }
            started: list[Any] = []

            def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
                started[:] = [status, headers]

            try:
                chunks = application(environ, start_response)
                try:
                    body = b"".join(chunks)
                finally:
                    getattr(chunks, "close", lambda: None)()
                status, headers = started
            except Exception:  # moto answers its own errors; this is the emulator failing
                body = traceback.format_exc().encode()
                status, headers = "500 Internal Server Error", [("Content-Type", "text/plain")]
            code, _, reason = status.partition(" ")
            self.answer(int(code), headers, body, reason)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # every runtime and poller connects at once when the stack starts

    return Server(("127.0.0.1", port), Handler)


class _Forward:
    """A WSGI app that passes each request on to another local server, as it came."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections = threading.local()

    def reset(self) -> None:
        import urllib.request

        urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{self.port}/moto-api/reset", method="POST"), timeout=30
        ).read()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        import http.client

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        target = environ.get("PATH_INFO", "/") + (
            f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else ""
        )
        headers = {
            name[5:].replace("_", "-").title(): value
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        for attempt in (1, 2):  # a kept-alive connection the other side closed is opened again
            connection = getattr(self.connections, "connection", None)
            if connection is None:
                connection = self.connections.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=60
                )
            try:
                connection.request(environ["REQUEST_METHOD"], target, body=body, headers=headers)
                answer = connection.getresponse()
                content = answer.read()
                break
            except (ConnectionError, http.client.HTTPException):
                connection.close()
                self.connections.connection = None
                if attempt == 2:
                    raise
        start_response(
            f"{answer.status} {answer.reason}",
            [(k, v) for k, v in answer.getheaders() if k.lower() not in ("connection", "transfer-encoding")],
        )
        return [content]


class Emulator:
    """The emulator: moto in processes of their own (moto is CPU-bound; sharing a GIL with the
    gateway and the pollers halves what either can do on a two-core machine). The queues live in
    a second process, so DynamoDB and SQS each have a core: the local functions and pollers reach
    it through `AWS_ENDPOINT_URL_SQS`; anything else asking `port` for SQS is passed on to it."""

    def __init__(self, port: int) -> None:
        self.sqs_port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self.sqs_endpoint = f"http://127.0.0.1:{self.sqs_port}"
        self.processes = [
            _start(self.sqs_port, None, "clarion-emulator-sqs"),
            _start(port, self.sqs_port, "clarion-emulator"),
        ]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.join(timeout=5)


def _start(port: int, sqs_port: int | None, name: str) -> Any:
    import multiprocessing

    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(port, sqs_port), daemon=True, name=name
    )
    process.start()
    deadline = time.monotonic() + 60
    while not port_open("127.0.0.1", port):
        if not process.is_alive() or time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError(f"the AWS emulator did not start on port {port}")
        time.sleep(0.05)
    return process


def _serve(port: int, sqs_port: int | None) -> None:
    _quick_standard_queue_sends()
    _quick_retention_check()
    _quick_deletes()
    _quick_sqs_clock()
    _quick_action_lookup()
    _quick_expression_traversal()
    _quick_set_values()
    _quick_condition_parse()
    _quick_random_strings()
    wsgi_server(port, _moto_application(sqs_port)).serve_forever()


def start_moto(port: int) -> Emulator:
    return Emulator(port)


def _quick_sqs_clock() -> None:
    """moto's SQS asks for "now" through datetime arithmetic for every message it looks at (each
    receive checks every message's visibility): most of the emulator's time under load. The
    current time in milliseconds is time.time() * 1000: the same value, a hundred times cheaper."""
    import time

    from moto.sqs import models

    original = models.unix_time_millis
    if getattr(original, "clarion_quick", False):
        return

    def unix_time_millis(dt: Any = None) -> float:
        return time.time() * 1000.0 if dt is None else float(original(dt))

    unix_time_millis.clarion_quick = True  # type: ignore[attr-defined]
    models.unix_time_millis = unix_time_millis


def _quick_action_lookup() -> None:
    """moto finds a request's action among its response class's methods with inspect.getmembers,
    on every request (a tenth of a DynamoDB request's time). A class's methods do not change."""
    import functools

    from moto.core import responses

    if not hasattr(responses.method_names_from_class, "cache_info"):
        responses.method_names_from_class = functools.cache(responses.method_names_from_class)  # type: ignore[assignment]


def _quick_expression_traversal() -> None:
    """moto's DynamoDB expression processors rebuild their tuple of node types for every node of
    every expression they walk; the tuple depends only on the processor's class."""
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser

    if getattr(DepthFirstTraverser.nodes_to_be_processed, "clarion_quick", False):
        return
    kinds: dict[type, tuple[type, ...]] = {}

    def nodes_to_be_processed(self: Any) -> tuple[type, ...]:
        found = kinds.get(type(self))
        if found is None:
            found = kinds[type(self)] = tuple(self._processing_map().keys())
        return found

    nodes_to_be_processed.clarion_quick = True  # type: ignore[attr-defined]
    DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed  # type: ignore[method-assign]


def _quick_set_values() -> None:
    """A DynamoDB condition such as contains(#set, :v) reads the set as Python values, which moto
    builds through one DynamoType per member, for every clause. String and number sets are
    their strings and Decimals: the same values, without the objects."""
    from decimal import Decimal

    from moto.dynamodb.models.dynamo_type import DynamoType

    full = DynamoType.cast_value.fget
    if getattr(full, "clarion_quick", False) or full is None:
        return

    def cast_value(self: Any) -> Any:
        if self.type == "NS":
            return {Decimal(member) for member in self.value}
        if self.type == "SS":
            return set(self.value)
        return full(self)

    cast_value.clarion_quick = True  # type: ignore[attr-defined]
    DynamoType.cast_value = property(cast_value)  # type: ignore[method-assign,assignment]


def _quick_condition_parse() -> None:
    """moto parses a condition expression for every request that carries one, twice for a
    conditional write (once to check its names and values are all used, once to apply it), and
    every step's claim carries the same one. The parse of an expression with its names and
    values is an immutable tree, kept here (built from copies of them, so a later change to one
    request's values cannot reach it). Same answers; a failed parse is not kept."""
    import copy

    from moto.dynamodb.comparisons import ConditionExpressionParser

    full = ConditionExpressionParser.parse
    if getattr(full, "clarion_quick", False):
        return
    parsed: dict[str, tuple[Any, list[str], list[str]]] = {}

    def parse(self: Any) -> Any:
        expression = (
            self.condition_expression,
            self.expression_attribute_names,
            self.expression_attribute_values,
        )
        key = repr(expression)  # values may hold bytes (B, BS): repr tells them from strings
        found = parsed.get(key)
        if found is None:
            private = ConditionExpressionParser(*copy.deepcopy(expression))
            found = (full(private), private.expr_attr_names_found, private.expr_attr_values_found)
            if len(parsed) >= 10_000:  # most expressions carry values that never come again
                parsed.clear()
            parsed[key] = found
        self.expr_attr_names_found.extend(found[1])
        self.expr_attr_values_found.extend(found[2])
        return found[0]

    parse.clarion_quick = True  # type: ignore[attr-defined]
    ConditionExpressionParser.parse = parse  # type: ignore[method-assign]


def _quick_retention_check() -> None:
    """moto's ReceiveMessage checks each message it returns against the queue's retention period
    by asking for the queue's attributes, which counts every message in the queue three times:
    receives slow down as a queue fills. The period is the queue's own field. Same answers."""
    from moto.sqs.models import SQSBackend

    if getattr(SQSBackend.is_message_valid_based_on_retention_period, "clarion_quick", False):
        return

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention_period + message.sent_timestamp / 1000 > time.time())

    is_message_valid_based_on_retention_period.clarion_quick = True  # type: ignore[attr-defined]
    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]


def _quick_random_strings() -> None:
    """moto draws every request id (52 characters) and every SQS receipt handle (185) one
    random.choice at a time: a twentieth of each emulator's time. random.choices draws them
    at once, from the same alphabet and moto's same (seedable) generator."""
    import string

    from moto.moto_api._internal import mock_random
    from moto.moto_api._internal.moto_random import MotoRandom
    from moto.sqs import models

    if getattr(MotoRandom.get_random_string, "clarion_quick", False):
        return

    def get_random_string(
        self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False
    ) -> str:
        pool = string.ascii_letters + (string.digits if include_digits else "")
        drawn = "".join(self.choices(pool, k=length))
        return drawn.lower() if lower_case else drawn

    def generate_receipt_handle() -> str:
        return "".join(mock_random.choices(string.ascii_lowercase, k=185))

    get_random_string.clarion_quick = True  # type: ignore[attr-defined]
    MotoRandom.get_random_string = get_random_string  # type: ignore[method-assign]
    models.generate_receipt_handle = generate_receipt_handle


def _quick_deletes() -> None:
    """moto's DeleteMessage looks for the receipt handle through every message of the queue
    twice, building each message's list of past handles both times: a fifth of the queues'
    time while a bulk waits in them. One pass, the same checks, the same answers; and the
    message leaves the list in place (moto put a new list in, dropping a message that another
    request sent while it looked)."""
    from moto.sqs.exceptions import ReceiptHandleIsInvalid
    from moto.sqs.models import Queue

    if getattr(Queue.delete_message, "clarion_quick", False):
        return

    def delete_message(self: Any, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return  # already deleted: deleting again succeeds
        found = [
            message
            for message in self._messages
            if message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles
        ]
        if not found:
            raise ReceiptHandleIsInvalid()
        for message in found:
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)
            self._messages.remove(message)  # in place: a message sent meanwhile stays

    delete_message.clarion_quick = True  # type: ignore[attr-defined]
    Queue.delete_message = delete_message  # type: ignore[method-assign]


def _quick_standard_queue_sends() -> None:
    """moto's SendMessage reads `queue.attributes` to learn whether a queue deduplicates by
    content, and computing them counts every message in the queue: sends slow down as a queue
    fills (300 messages/s empty, 70 at 1,000). A standard queue has no such attribute, so its
    mapping is built only when something else is read from it. Same answers, no scan."""
    from collections.abc import Iterator, Mapping

    from moto.sqs.models import Queue

    full = Queue.attributes.fget
    if getattr(full, "clarion_quick", False) or full is None:
        return

    class _Attributes(Mapping[str, Any]):
        def __init__(self, queue: Any) -> None:
            self.queue = queue
            self.built: dict[str, Any] | None = None

        def _all(self) -> dict[str, Any]:
            if self.built is None:
                self.built = full(self.queue)
            return self.built

        def get(self, name: str, default: Any = None) -> Any:
            if name == "ContentBasedDeduplication" and not self.queue.fifo_queue:
                return default  # never set on a standard queue
            return self._all().get(name, default)

        def __getitem__(self, name: str) -> Any:
            return self._all()[name]

        def __iter__(self) -> Iterator[str]:
            return iter(self._all())

        def __len__(self) -> int:
            return len(self._all())

    def quick(queue: Any) -> Any:
        return _Attributes(queue)

    quick.clarion_quick = True  # type: ignore[attr-defined]
    Queue.attributes = property(quick)  # type: ignore[method-assign,assignment]


def provision(
    template: Template, endpoint_url: str | None = None, sqs_endpoint_url: str | None = None
) -> None:
    """Create every DynamoDB table and SQS queue of the template (idempotent).

    endpoint_url None means boto3's own resolution (in-process moto in the tests)."""
    import boto3

    session = boto3.session.Session()
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url, region_name=REGION)
    sqs = session.client("sqs", endpoint_url=sqs_endpoint_url or endpoint_url, region_name=REGION)
    existing_tables = set(dynamodb.list_tables()["TableNames"])
    for logical_id, resource in template.of_type("AWS::DynamoDB::Table").items():
        props = template.resolve(resource["Properties"])
        name = props.get("TableName") or template.physical_name(logical_id)
        if name not in existing_tables:
            dynamodb.create_table(TableName=name, **{k: props[k] for k in _TABLE_KEYS if k in props})
            ttl = props.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
                )
    kms = session.client("kms", endpoint_url=endpoint_url, region_name=REGION)
    aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    for logical_id in template.of_type("AWS::KMS::Alias"):
        name = template.ref(logical_id)
        if name not in aliases:
            key_id = kms.create_key(Description=template.physical_name(logical_id))["KeyMetadata"]["KeyId"]
            kms.create_alias(AliasName=name, TargetKeyId=key_id)
    queues = template.of_type("AWS::SQS::Queue")
    for logical_id, resource in queues.items():
        props = template.resolve(resource.get("Properties", {}))
        attributes = {
            k: str(props[k]).lower() if isinstance(props[k], bool) else str(props[k])
            for k in _QUEUE_ATTRIBUTES
            if k in props
        }
        sqs.create_queue(QueueName=template.physical_name(logical_id), Attributes=attributes)
    for logical_id, resource in queues.items():
        redrive = template.resolve(resource.get("Properties", {})).get("RedrivePolicy")
        if redrive:
            sqs.set_queue_attributes(
                QueueUrl=template.queue_url(logical_id),
                Attributes={"RedrivePolicy": json.dumps(redrive)},
            )

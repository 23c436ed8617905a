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


def use_local_credentials(endpoint: str) -> dict[str, str]:
    """The variables every process talking to the emulator needs, set here and returned."""
    variables = {
        "AWS_ENDPOINT_URL": endpoint,
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


class _Emulator:
    """moto's server, with DynamoDB requests taken one at a time: moto's DynamoDB backend is not
    thread-safe (a transaction copies tables while another request changes them, and fails with
    a 500). SQS long polls stay concurrent. Each service's app is found once, from the request's
    signed credential scope, instead of by moto's per-request search of every backend."""

    def __init__(self, port: int) -> None:
        from moto.moto_server.threaded_moto_server import MotoRequestHandler
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        dispatcher = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()
        apps: dict[tuple[str, str], Any] = {}

        def application(environ: dict[str, Any], start_response: Any) -> Any:
            path = environ.get("PATH_INFO", "")
            scope = environ.get("HTTP_AUTHORIZATION", "").partition("Credential=")[2].split("/")
            if len(scope) < 5 or path.startswith("/moto-api"):
                return dispatcher(environ, start_response)
            # SES v1 and v2 sign as the same service: the path's first segment tells them apart.
            route = (scope[3], path.split("/")[1] if path.count("/") > 1 else "")
            if route not in apps:
                apps[route] = dispatcher.get_application(environ)
            if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
                with lock:
                    return list(apps[route](environ, start_response))
            return apps[route](environ, start_response)

        class KeepAlive(MotoRequestHandler):  # type: ignore[misc,valid-type]
            protocol_version = "HTTP/1.1"  # one connection per client, not one per request

        self.server = make_server("127.0.0.1", port, application, threaded=True, request_handler=KeepAlive)


class _EmulatorProcess:
    """The emulator in a process of its own: moto is CPU-bound, and sharing a GIL with the
    gateway and the pollers halves what either can do on a two-core machine."""

    def __init__(self, port: int) -> None:
        import multiprocessing

        self.process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(port,), daemon=True, name="clarion-emulator"
        )
        self.process.start()
        deadline = time.monotonic() + 60
        while not port_open("127.0.0.1", port):
            if not self.process.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the AWS emulator did not start on port {port}")
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(timeout=5)


def _serve(port: int) -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the gateway logs requests, not the emulator
    _quick_standard_queue_sends()
    _quick_sqs_clock()
    _Emulator(port).server.serve_forever()


def start_moto(port: int) -> Any:
    return _EmulatorProcess(port)


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


def provision(template: Template, endpoint_url: str | None = None) -> None:
    """Create every DynamoDB table and SQS queue of the template (idempotent).

    endpoint_url None means boto3's own resolution (in-process moto in the tests)."""
    import boto3

    session = boto3.session.Session()
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url, region_name=REGION)
    sqs = session.client("sqs", endpoint_url=endpoint_url, region_name=REGION)
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

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
    from clarion_cli import moto_patches

    moto_patches.install(moto_patches.EMULATOR)
    wsgi_server(port, _moto_application(sqs_port)).serve_forever()


def start_moto(port: int) -> Emulator:
    return Emulator(port)


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

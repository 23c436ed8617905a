"""The HTTP gateway on :3000: each request becomes an API Gateway (REST, proxy) event for the
function whose template `Api` event matches, and the function's answer becomes the response."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from clarion_cli.runtime import InvocationError
from clarion_cli.serving import KeepAliveHandler
from clarion_cli.template import ApiRoute

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")  # what API Gateway routes


def proxy_event(
    method: str,
    raw_path: str,
    headers: dict[str, str],
    body: bytes,
    route: ApiRoute,
    path_parameters: dict[str, str],
    stage: str,
) -> dict[str, Any]:
    split = urlsplit(raw_path)
    multi_query = parse_qs(split.query, keep_blank_values=True)
    text_body: str | None = None
    is_base64 = False
    if body:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            text_body, is_base64 = base64.b64encode(body).decode(), True
    now = time.time()
    return {
        "resource": route.path,
        "path": split.path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path,
            "httpMethod": method,
            "path": f"/{stage}{split.path}",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent")},
            "accountId": "123456789012",
            "apiId": "local",
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


def make_server(
    host: str,
    port: int,
    routes: list[tuple[ApiRoute, str]],
    invoke: Callable[[str, dict[str, Any]], Any],
    stage: str,
    log: Callable[[str], None],
) -> ThreadingHTTPServer:
    compiled = [(route, route.pattern(), function) for route, function in routes]

    class Handler(KeepAliveHandler):
        server_version = "clarion-local"

        def handle_request(self) -> None:
            started = time.perf_counter()
            status = self._dispatch()
            log(f"{self.command} {self.path} {status} {(time.perf_counter() - started) * 1000:.0f}ms")

        def _dispatch(self) -> int:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self.rfile.read(length)
                return self._send(
                    413, {"Content-Type": "application/json"}, b'{"message":"Request Too Long"}'
                )
            body = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            for route, pattern, function in compiled:
                match = pattern.match(path)
                if match and self.command in METHODS and route.method in ("ANY", self.command):
                    headers = {k: v for k, v in self.headers.items()}
                    event = proxy_event(
                        self.command, self.path, headers, body, route, match.groupdict(), stage
                    )
                    try:
                        result = invoke(function, event)
                    except InvocationError as error:
                        return self._send(
                            502,
                            {"Content-Type": "application/json"},
                            json.dumps(
                                {"message": "Internal server error", "error": error.payload.get("errorType")}
                            ).encode(),
                        )
                    return self._reply(result)
            return self._send(
                403, {"Content-Type": "application/json"}, b'{"message":"Missing Authentication Token"}'
            )

        def _reply(self, result: dict[str, Any]) -> int:
            headers: dict[str, str] = dict(result.get("headers") or {})
            for name, values in (result.get("multiValueHeaders") or {}).items():
                headers[name] = ", ".join(str(v) for v in values)
            body = result.get("body") or ""
            payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
            return self._send(int(result.get("statusCode", 200)), headers, payload)

        def _send(self, status: int, headers: dict[str, str], payload: bytes) -> int:
            return self.answer(status, headers.items(), payload)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server

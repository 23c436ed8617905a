"""The HTTP gateway on :3000: each request becomes an API Gateway (REST, proxy) event for the
function whose template `Api` event matches, and the function's answer becomes the response.
When the template puts a CloudFront distribution in front, its viewer-request function sees each
request first (clarion_cli.edge), as CloudFront's does before API Gateway."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from clarion_cli.edge import ViewerRequestFunction
from clarion_cli.lambda_events import api_gateway_answer, api_gateway_event
from clarion_cli.runtime import InvocationError
from clarion_cli.serving import KeepAliveHandler
from clarion_cli.template import ApiRoute

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")  # what API Gateway routes


def make_server(
    host: str,
    port: int,
    routes: list[tuple[ApiRoute, str]],
    invoke: Callable[[str, dict[str, Any]], Any],
    stage: str,
    log: Callable[[str], None],
    edge: ViewerRequestFunction | None = None,
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
            split = urlsplit(self.path)
            query = parse_qs(split.query, keep_blank_values=True)
            if edge is not None:
                answer = edge.answer(
                    self.command, split.path, query, dict(self.headers.items()), self.client_address[0]
                )
                if answer is not None:
                    self.rfile.read(length)
                    return self._send(*answer)
            if length > MAX_BODY_BYTES:
                self.rfile.read(length)
                return self._send(
                    413, {"Content-Type": "application/json"}, b'{"message":"Request Too Long"}'
                )
            body = self.rfile.read(length) if length else b""
            for route, pattern, function in compiled:
                match = pattern.match(split.path)
                if match and self.command in METHODS and route.method in ("ANY", self.command):
                    event = api_gateway_event(
                        self.command,
                        split.path,
                        dict(self.headers.items()),
                        body,
                        query=query,
                        resource=route.path,
                        path_parameters=match.groupdict(),
                        stage=stage,
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
            return self._send(*api_gateway_answer(result))

        def _send(self, status: int, headers: dict[str, str], payload: bytes) -> int:
            return self.answer(status, headers.items(), payload)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server

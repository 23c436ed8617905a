"""A tiny HTTP server on loopback that records every request an SDK sends, byte for byte.

It either answers from a function (to see how an SDK reads an answer Clarion does not give yet)
or forwards to an upstream (the local stack) and records the answer too, so a test can assert
on exactly what went over the wire in both directions.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


@dataclass
class Exchange:
    method: str
    path: str
    headers: list[tuple[str, str]]  # as sent: original case and order
    body: bytes
    status: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)

    def response_json(self) -> Any:
        return json.loads(self.response_body)


@dataclass
class Answer:
    """What the server says when it does not forward: `body` is JSON-encoded unless it is bytes."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Responder = Callable[[Exchange], Answer]


class CaptureServer:
    """`with CaptureServer(respond=...) as server:` or `CaptureServer(upstream=stack.url)`."""

    def __init__(self, respond: Responder | None = None, upstream: str | None = None) -> None:
        if (respond is None) == (upstream is None):
            raise ValueError("give exactly one of respond or upstream")
        self.respond = respond
        self.upstream = upstream
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> CaptureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def take(self) -> list[Exchange]:
        with self._lock:
            taken, self.exchanges = self.exchanges, []
        return taken

    def _forward(self, exchange: Exchange) -> tuple[int, list[tuple[str, str]], bytes]:
        assert self.upstream is not None
        target = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        try:
            headers = {k: v for k, v in exchange.headers if k.lower() not in HOP_BY_HOP}
            headers["Host"] = target.netloc
            connection.request(exchange.method, exchange.path, body=exchange.body or None, headers=headers)
            answer = connection.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _handle(self) -> None:
                exchange = Exchange(self.command, self.path, list(self.headers.items()), self._read_body())
                if server.respond is not None:
                    answer = server.respond(exchange)
                    if isinstance(answer.body, bytes):  # raw, e.g. an HTML error page from a proxy
                        body, content_type = answer.body, "text/plain; charset=utf-8"
                    else:
                        body = b"" if answer.body is None else json.dumps(answer.body).encode()
                        content_type = "application/json; charset=utf-8"
                    headers = [("Content-Type", content_type), *answer.headers.items()]
                    status = answer.status
                else:
                    status, upstream_headers, body = server._forward(exchange)
                    headers = [(k, v) for k, v in upstream_headers if k.lower() not in HOP_BY_HOP]
                exchange.status, exchange.response_headers, exchange.response_body = status, headers, body
                with server._lock:
                    server.exchanges.append(exchange)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        return Handler

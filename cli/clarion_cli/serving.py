"""What the local gateway and the emulator share: HTTP/1.1 request handling on the standard
library's ThreadingHTTPServer, one thread per connection, kept alive for as long as the
client keeps it."""

from __future__ import annotations

from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any

_SERVER_HEADERS = ("content-length", "connection", "transfer-encoding", "date", "server")  # set here


class KeepAliveHandler(BaseHTTPRequestHandler):
    """Every method reaches `handle_request`; `answer` sends a response in one write."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # an answer is one write; never wait for the client's ACK
    wbufsize = 1 << 16  # headers and body leave in that one write (flushed after each request)

    def handle_request(self) -> None:
        raise NotImplementedError

    def answer(
        self, status: int, headers: Iterable[tuple[str, str]], body: bytes, reason: str | None = None
    ) -> int:
        self.send_response(status, reason)
        for name, value in headers:
            if name.lower() not in _SERVER_HEADERS:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return status

    def log_message(self, format: str, *args: Any) -> None:  # the gateway logs one line per request itself
        pass

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # every method, as API Gateway and AWS's endpoints take any
            return self.handle_request
        raise AttributeError(name)

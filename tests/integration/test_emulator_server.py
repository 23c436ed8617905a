"""The emulator's HTTP server: every request of a client on one kept-alive connection, answered
in one piece, as the AWS SDKs expect of the emulator on :4566."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from clarion_cli.emulator import free_port, wsgi_server


def _echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("the app failed")
    body = environ["wsgi.input"].read()
    seen = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} ?{environ['QUERY_STRING']} "
    seen += f"{environ.get('HTTP_X_AMZ_TARGET', '-')} {environ['CONTENT_TYPE']} {len(body)}"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "999")])
    return [seen.encode(), b"|", body]


@pytest.fixture
def server() -> Iterator[int]:
    port = free_port()
    running = wsgi_server(port, _echo)
    threading.Thread(target=running.serve_forever, daemon=True).start()
    yield port
    running.shutdown()
    running.server_close()


def test_one_connection_serves_every_request_of_a_client(server: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    sockets = set()
    for i in range(5):
        body = b'{"TableName": "t"}' * i
        connection.request(
            "POST",
            "/a%20b/c?x=1",
            body=body,
            headers={
                "X-Amz-Target": "DynamoDB_20120810.PutItem",
                "Content-Type": "application/x-amz-json-1.0",
            },
        )
        answer = connection.getresponse()
        assert connection.sock is not None, "the server closed the connection"
        sockets.add(connection.sock.getsockname()[1])  # the client's port names the connection
        assert answer.status == 200
        assert answer.read() == (
            f"POST /a b/c ?x=1 DynamoDB_20120810.PutItem application/x-amz-json-1.0 {len(body)}|".encode()
            + body
        )
        assert answer.getheader("Connection") != "close"
    assert len(sockets) == 1  # kept alive: no request opened a new connection


def test_content_length_is_the_bodys_and_head_has_none(server: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    connection.request("GET", "/x")
    answer = connection.getresponse()
    body = answer.read()
    assert answer.getheader("Content-Length") == str(len(body))  # not the app's wrong 999
    connection.request("HEAD", "/x")
    head = connection.getresponse()
    assert head.read() == b"" and head.status == 200
    connection.request("GET", "/y")  # the connection is still usable after a HEAD
    assert connection.getresponse().read().startswith(b"GET /y")


def test_an_app_that_raises_answers_500_and_the_server_goes_on(server: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    connection.request("POST", "/boom", body=b"{}")
    failed = connection.getresponse()
    assert failed.status == 500 and b"the app failed" in failed.read()
    connection.request("GET", "/after")
    assert connection.getresponse().status == 200

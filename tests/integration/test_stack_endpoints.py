"""Issue 11, point 5: where loopback is allowed (the `development` environment), a webhook step
still cannot reach the stack's own endpoints (its AWS endpoints, its gateway), and an endpoint's
answer reaches execution details only as a short, redacted excerpt."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.integration.conftest import Cloud

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/moto/core/responses.py", line 312, in dispatch\n'
    "    return cls()._dispatch(*args, **kwargs)\n"
    "KeyError: 'aws_secret_access_key=AKIAIOSFODNN7EXAMPLE'\n"
)


class Endpoint:
    """A real HTTP server on 127.0.0.1 that records what reaches it and answers `status`/`answer`."""

    def __init__(self, status: int = 200, answer: bytes = b"ok") -> None:
        self.status, self.answer, self.received = status, answer, 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                endpoint.received += 1
                self.send_response(endpoint.status)
                self.send_header("Content-Length", str(len(endpoint.answer)))
                self.end_headers()
                self.wfile.write(endpoint.answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def url(self, host: str = "127.0.0.1", path: str = "/hook") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoints() -> Iterator[list[Endpoint]]:
    opened: list[Endpoint] = []
    yield opened
    for endpoint in opened:
        endpoint.close()


def hook_workflow(cloud: Cloud, urls: dict[str, str]) -> None:
    steps = [
        {
            "stepId": name,
            "type": "webhook",
            "content": {"url": url, "secret": "whsec"},
            "onFailure": "continue",
        }
        for name, url in urls.items()
    ]
    assert cloud.api("POST", "/v1/workflows", {"workflowId": "hooks", "steps": steps})[0] == 201


def run(cloud: Cloud, transaction_id: str) -> dict[str, dict[str, Any]]:
    assert (
        cloud.api(
            "POST", "/v1/events/trigger", {"name": "hooks", "to": "ada", "transactionId": transaction_id}
        )[0]
        == 201
    )
    cloud.drain()
    rows = cloud.api("GET", "/v1/execution-details", query={"transactionId": transaction_id})[2]["data"]
    return {row["stepId"]: row for row in rows}


def test_webhook_to_the_stacks_own_endpoints_is_refused_where_loopback_is_allowed(
    cloud: Cloud, endpoints: list[Endpoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator, gateway, sqs, user = Endpoint(), Endpoint(), Endpoint(), Endpoint()
    endpoints += [emulator, gateway, sqs, user]
    # What the local stack gives its functions: botocore's endpoint variables and the gateway's URL.
    # (Services the worker does not call here, so moto keeps answering the ones it does.)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", emulator.url(path=""))
    monkeypatch.setenv("AWS_ENDPOINT_URL_KINESIS", sqs.url(host="localhost", path=""))
    monkeypatch.setenv("CLARION_LOCAL_GATEWAY_URL", gateway.url(path=""))
    hook_workflow(
        cloud,
        {
            "emulator": emulator.url(path="/moto-api/reset"),
            "emulator-as-localhost": emulator.url(host="localhost"),
            "emulator-other-loopback": emulator.url(host="127.0.0.2"),
            "sqs": sqs.url(),
            "gateway": gateway.url(path="/v1/events/trigger"),
            "user": user.url(),
        },
    )
    rows = run(cloud, "own-endpoints")
    for name in ("emulator", "emulator-as-localhost", "emulator-other-loopback", "sqs", "gateway"):
        assert rows[name]["status"] == "failed", name
        assert "stack's own endpoint: refused" in rows[name]["detail"], name
    assert f"localhost:{sqs.port} is the stack's own endpoint" in rows["sqs"]["detail"]
    assert "moto-api" not in rows["emulator"]["detail"]  # reasons never show a path
    assert (emulator.received, gateway.received, sqs.received) == (0, 0, 0)
    assert rows["user"]["status"] == "sent"  # another loopback port is still allowed in development
    assert user.received == 1


def test_an_endpoints_error_page_is_shown_as_a_short_redacted_excerpt(
    cloud: Cloud, endpoints: list[Endpoint]
) -> None:
    trace = Endpoint(500, b"Internal error in handler\n" + TRACEBACK.encode())
    html = Endpoint(
        500,
        b"<!doctype html><html><head><title>KeyError // Werkzeug Debugger</title></head><body>"
        + TRACEBACK.encode()
        + b"</body></html>",
    )
    secret = Endpoint(401, b'{"error": "bad token sk_live_0123456789abcdefghijklmnop"}\nplease retry')
    long = Endpoint(400, b"x" * 1000)
    endpoints += [trace, html, secret, long]
    hook_workflow(
        cloud, {"trace": trace.url(), "html": html.url(), "secret": secret.url(), "long": long.url()}
    )
    rows = run(cloud, "answers")
    assert rows["trace"]["detail"] == "HTTP 500: Internal error in handler"
    assert rows["html"]["detail"] == "HTTP 500: KeyError // Werkzeug Debugger"
    assert rows["secret"]["detail"] == "HTTP 401: please retry"
    assert rows["long"]["detail"] == "HTTP 400: <redacted>"
    for row in rows.values():
        assert row["status"] == "failed"
        assert len(row["detail"]) <= 200
        for leaked in ("Traceback", "File ", "AKIA", "sk_live", "aws_secret"):
            assert leaked not in row["detail"]

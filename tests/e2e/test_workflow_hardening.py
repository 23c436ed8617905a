"""Issue 11, points 5 to 7 over HTTP on the local stack: a looping template, an impossible delay
and a webhook aimed at the stack itself each fail their own step with a reason, and the records
beside them are delivered."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.e2e.conftest import RunningStack
from tests.e2e.test_local_stack import wait_for


class Hook:
    """A user's webhook endpoint on loopback: counts what it receives."""

    def __init__(self) -> None:
        self.received = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hook.received += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def hook() -> Iterator[Hook]:
    listening = Hook()
    yield listening
    listening.server.shutdown()


def create(stack: RunningStack, workflow_id: str, steps: list[dict[str, Any]]) -> None:
    answer = stack.call("POST", "/v1/workflows", json={"workflowId": workflow_id, "steps": steps})
    assert answer.status_code == 201, answer.text


def finished_bulk(stack: RunningStack, location: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        status = stack.call("GET", location).json()["data"]
        return status if status["status"] in ("completed", "partially_failed") else None

    return dict(wait_for(done, timeout=60))


def details(stack: RunningStack, transaction_id: str) -> dict[str, dict[str, Any]]:
    rows = stack.call("GET", "/v1/execution-details", params={"transactionId": transaction_id}).json()["data"]
    return {row["stepId"]: row for row in rows}


def _settled(rows: dict[str, dict[str, Any]], steps: int) -> dict[str, dict[str, Any]] | None:
    """The rows once every step has one and none is still being sent (a webhook's row reads
    `sending` between its claim and the provider's answer)."""
    if len(rows) == steps and all(row["status"] != "sending" for row in rows.values()):
        return rows
    return None


def test_looping_template_and_inf_delay_fail_their_steps_and_the_neighbours_are_delivered(
    stack: RunningStack,
) -> None:
    create(
        stack,
        "e2e-looping",
        [
            {
                "stepId": "inbox",
                "type": "in_app",
                "content": {"body": "{% for i in (1..100000000) %}x{% endfor %}"},
            }
        ],
    )
    create(
        stack,
        "e2e-waiting",
        [
            {
                "stepId": "wait",
                "type": "delay",
                "content": {"amount": "{{ payload.wait }}", "unit": "seconds"},
            },
            {"stepId": "inbox", "type": "in_app", "content": {"body": "later"}},
        ],
    )
    create(
        stack, "e2e-plain", [{"stepId": "inbox", "type": "in_app", "content": {"body": "Hi {{ payload.n }}"}}]
    )
    events = [
        {"name": "e2e-plain", "to": f"e2e-n{i}", "payload": {"n": i}, "transactionId": f"e2e-ok-{i}"}
        for i in range(8)
    ]
    events.insert(3, {"name": "e2e-looping", "to": "e2e-victim", "transactionId": "e2e-loop"})
    events.insert(
        6, {"name": "e2e-waiting", "to": "e2e-waiter", "payload": {"wait": "inf"}, "transactionId": "e2e-inf"}
    )
    started = time.monotonic()
    answer = stack.call("POST", "/v1/events/trigger/bulk", json={"events": events})
    assert answer.status_code == 201, answer.text

    status = finished_bulk(stack, answer.headers["Location"])
    print(
        f"bulk of 10 with a looping template and an inf delay finished in {time.monotonic() - started:.1f}s"
    )
    assert status["status"] == "partially_failed"
    assert status["counts"].get("completed") == 8 and status["counts"].get("failed") == 2
    looping = details(stack, "e2e-loop")["inbox"]
    assert looping["status"] == "failed"
    assert "template limit reached in body: loop iteration limit" in looping["detail"]
    waiting = details(stack, "e2e-inf")["wait"]
    assert waiting["status"] == "failed" and "a number >= 0" in waiting["detail"]
    for i in range(8):
        assert details(stack, f"e2e-ok-{i}")["inbox"]["status"] == "sent"
        feed = stack.call("GET", f"/v1/subscribers/e2e-n{i}/notifications/feed").json()["data"]
        assert [m["content"]["body"] for m in feed] == [f"Hi {i}"]


def test_webhook_cannot_reach_the_emulator_or_the_gateway_in_development(
    stack: RunningStack, hook: Hook
) -> None:
    targets = {
        "emulator": f"{stack.endpoint}/moto-api/reset",
        "emulator-as-localhost": stack.endpoint.replace("127.0.0.1", "localhost") + "/",
        "gateway": f"{stack.url}/v1/events/trigger",
        "user": hook.url,
    }
    create(
        stack,
        "e2e-hooks",
        [
            {"stepId": name, "type": "webhook", "content": {"url": url, "secret": "whsec"}}
            for name, url in targets.items()
        ],
    )
    answer = stack.call(
        "POST",
        "/v1/events/trigger",
        json={"name": "e2e-hooks", "to": "e2e-hooked", "transactionId": "e2e-hooks"},
    )
    assert answer.status_code == 201, answer.text
    rows = wait_for(lambda: _settled(details(stack, "e2e-hooks"), steps=4), timeout=60)
    for name in ("emulator", "emulator-as-localhost", "gateway"):
        assert rows[name]["status"] == "failed", name
        assert "is the stack's own endpoint: refused" in rows[name]["detail"], name
        assert "Traceback" not in rows[name]["detail"]
    assert rows["user"]["status"] == "sent"  # loopback elsewhere is still allowed in development
    assert hook.received == 1
    assert stack.call("GET", "/v1/workflows/e2e-hooks").status_code == 200  # the emulator was not reset

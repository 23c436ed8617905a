"""`clarion trigger --file` as a user runs it, against the local stack, through a loopback proxy
that counts what really reaches the API, answers one 429 per run and slows each bulk a little so
that the run can be killed part-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import API_KEY, RunningStack

BULK = "/v1/events/trigger/bulk"


class CountingProxy:
    """Forwards every request to the stack; records each bulk POST's key, answer and event
    numbers; answers the next `inject_429` bulk POSTs with 429 + Retry-After: 1 itself."""

    def __init__(self, target: str, delay: float) -> None:
        self.target, self.delay = target, delay
        self.inject_429 = 0
        self.posts: list[dict[str, object]] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                bulk_post = self.command == "POST" and self.path == BULK
                if bulk_post:
                    with proxy.lock:
                        injected = proxy.inject_429 > 0
                        proxy.inject_429 -= injected
                    if injected:
                        self.send_response(429)
                        self.send_header("Retry-After", "1")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        proxy.posts.append({"status": 429})
                        return
                    time.sleep(proxy.delay)
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                }
                answer = requests.request(
                    self.command, proxy.target + self.path, data=body, headers=headers, timeout=60
                )
                if bulk_post:
                    proxy.posts.append(
                        {
                            "status": answer.status_code,
                            "key": self.headers.get("Idempotency-Key"),
                            "replay": answer.headers.get("Idempotency-Replay") == "true",
                            "location": answer.headers.get("Location"),
                            "numbers": [e["payload"]["n"] for e in json.loads(body)["events"]],
                        }
                    )
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in (
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "content-encoding",
                    ):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def proxy(stack: RunningStack) -> Iterator[CountingProxy]:
    running = CountingProxy(stack.url, delay=0.4)
    yield running
    running.server.shutdown()


def clarion(*args: str, url: str) -> list[str]:
    return [sys.executable, "-m", "clarion_cli", *args, "--url", url, "--api-key", API_KEY]


def cli_environment() -> dict[str, str]:
    environment = {**os.environ}
    environment.pop("CLARION_URL", None)
    environment.pop("CLARION_API_KEY", None)
    return environment


def test_trigger_file_of_1050_events_survives_a_429_and_a_kill_and_sends_each_event_once(
    stack: RunningStack, proxy: CountingProxy, tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(
            json.dumps({"name": "welcome", "to": f"cli-{n % 40}", "payload": {"n": n}}) + "\n"
            for n in range(1050)
        )
    )
    state = tmp_path / "events.jsonl.clarion-state.json"
    command = clarion("trigger", "--file", str(events), "--concurrency", "2", "--json", url=proxy.url)

    # Given a first run that meets a 429 and is killed after a few bulks are answered
    proxy.inject_429 = 1
    first = subprocess.Popen(command, env=cli_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (state.exists() and len(json.loads(state.read_text())["chunks"]) >= 3):
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    answered_before = len(json.loads(state.read_text())["chunks"])
    assert 3 <= answered_before < 11

    # When the same command runs again (and meets another 429)
    proxy.inject_429 = 1
    second = subprocess.run(command, env=cli_environment(), capture_output=True, text=True, timeout=240)
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)

    # Then it resumed, retried the 429, and the file went out as 11 bulks of 100 (the last of 50)
    assert summary["resumedChunks"] == answered_before
    assert summary["retried"] == {"429": 1}
    assert summary["chunks"] == 11 and len(summary["bulks"]) == 11
    assert [b["total"] for b in summary["bulks"]] == [100] * 10 + [50]
    assert summary["failedRecords"] == 0 and summary["unsentChunks"] == []

    # And the API accepted each event exactly once: every fresh (non-replayed) 201 carried new
    # events, together all 1,050 once; a request whose answer the kill lost was replayed
    accepted = [p for p in proxy.posts if p["status"] == 201]
    fresh = [n for p in accepted if not p["replay"] for n in p["numbers"]]  # type: ignore[attr-defined]
    assert sorted(fresh) == list(range(1050))
    assert len({p["location"] for p in accepted}) == 11
    assert sum(1 for p in proxy.posts if p["status"] == 429) == 2

    # And its summary counts are the status endpoint's
    counts: dict[str, int] = {}
    for bulk in summary["bulks"]:
        view = stack.call("GET", f"{BULK}/{bulk['bulkId']}").json()["data"]
        assert view["status"] == "completed"
        for name, count in view["counts"].items():
            counts[name] = counts.get(name, 0) + count
    assert summary["counts"] == counts == {"completed": 1050}

    # And a third run sends nothing: every chunk is in the state file
    posts_before = len(proxy.posts)
    third = subprocess.run(command, env=cli_environment(), capture_output=True, text=True, timeout=120)
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout)["resumedChunks"] == 11
    assert len(proxy.posts) == posts_before


def test_failed_events_go_to_a_file_that_trigger_file_resends(stack: RunningStack, tmp_path: Path) -> None:
    tenant = f"cli-tenant-{time.monotonic_ns()}"
    events = tmp_path / "events.csv"
    events.write_text(
        "name,to,payload.greeting,payload,tenant\n"
        'welcome,cli-a,hi,"{""n"": 1}",\n'
        f"welcome,cli-b,hello,,{tenant}\n"
        "welcome,cli-c,,,\n"
        f'welcome,"{{""subscriberId"": ""cli-d"", ""email"": ""d@example.com""}}",hey,,{tenant}\n'
    )
    run = subprocess.run(
        clarion("trigger", "--file", str(events), "--json", url=stack.url),
        env=cli_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["counts"] == {"completed": 2, "no_tenant_found": 2}
    failed_file = tmp_path / "events.failed.jsonl"
    assert summary["failedFile"] == str(failed_file)
    failed = [json.loads(line) for line in failed_file.read_text().splitlines()]
    assert [f["to"] for f in failed] == ["cli-b", {"subscriberId": "cli-d", "email": "d@example.com"}]
    assert [f["_clarion"]["source"] for f in failed] == ["events.csv:3", "events.csv:5"]
    assert failed[0]["_clarion"]["error"] == f"tenant '{tenant}' is not defined"
    assert failed[0]["payload"] == {"greeting": "hello"}

    # Once the tenant exists, the file of failed events is sent as it is
    created = stack.call("POST", "/v1/tenants", json={"identifier": tenant, "name": "Acme"})
    assert created.status_code == 201, created.text
    again = subprocess.run(
        clarion("trigger", "--file", str(failed_file), "--json", url=stack.url),
        env=cli_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["counts"] == {"completed": 2}


def test_trigger_file_keeps_to_a_low_rate_limit_the_server_enforces(
    stack: RunningStack, tmp_path: Path
) -> None:
    from tests.e2e.test_keys_cli import clarion as clarion_admin
    from tests.e2e.test_keys_cli import new_key

    environment = f"cli-limits-{time.monotonic_ns() % 10**8}"
    key = new_key(clarion_admin(stack, "env", "create", environment))
    clarion_admin(stack, "env", "limits", environment, "--per-second", "100", "--burst", "200")
    workflows = tmp_path / "workflows.yaml"
    workflows.write_text(
        "- {workflowId: paced, steps: [{stepId: inbox, type: in_app, content: {body: hi}}]}\n"
    )
    own = {**cli_environment(), "CLARION_URL": stack.url, "CLARION_API_KEY": key}
    applied = subprocess.run(
        [sys.executable, "-m", "clarion_cli", "workflows", "apply", "-f", str(workflows)],
        env=own,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert applied.stdout.splitlines()[0] == "paced: created", applied.stderr
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps({"name": "paced", "to": f"p-{n}"}) + "\n" for n in range(600)))

    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "clarion_cli", "trigger", "-f", str(events), "--concurrency", "4", "--json"],
        env=own,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    # 4 bulks of 100 at once against a burst of 200: the server refuses at least one with 429
    # (the stack's two API runtimes take them two at a time while the bucket refills)
    assert summary["retried"].get("429", 0) >= 1
    assert summary["counts"] == {"completed": 600} and len(summary["bulks"]) == 6
    assert time.monotonic() - started >= (600 - 200) / 100  # the bucket refills at 100/s

"""Throughput of the local stack over real HTTP, started as tests/e2e/conftest.py's start_stack()
starts it (`python -m clarion_cli dev` on free ports): bulks of 100 to `welcome`, then the bulk
status endpoints polled until every bulk is complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.cloud import TEMPLATE, novu_bulk
from bench.figures import Figure, Section, median

API_KEY = "bench-key"
DONE = ("completed", "partially_failed", "failed")


class Stack:
    def __init__(self, directory: Path) -> None:
        from clarion_cli.emulator import free_port

        self.port, self.emulator_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / "stack.log"
        environment = {**os.environ, "CLARION_API_KEY": API_KEY, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}
        environment.pop("AWS_ENDPOINT_URL", None)
        environment.pop("AWS_ENDPOINT_URL_SQS", None)
        started = time.monotonic()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "clarion_cli",
                "dev",
                "--template",
                str(TEMPLATE),
                "--port",
                str(self.port),
                "--emulator-port",
                str(self.emulator_port),
            ],
            cwd=directory,
            env=environment,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 120
        while "Ctrl-C stops it." not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the local stack did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.2)
        self.started_in = time.monotonic() - started

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        import requests

        headers = {"Authorization": f"ApiKey {API_KEY}"}
        return requests.request(method, self.url + path, headers=headers, timeout=60, **kwargs)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _progress(views: dict[str, dict[str, Any]]) -> int:
    return sum(n for v in views.values() for status, n in v.get("counts", {}).items() if status != "queued")


def _wait(
    stack: Stack, locations: list[str], timeout: float, stall: float = 20
) -> tuple[dict[str, dict[str, Any]], float]:
    """Poll until every bulk is done (or nothing moved for `stall` seconds); returns the last
    views and when the last one finished. Only the oldest unfinished bulk is polled (they
    finish about in order; a later one already done is seen done when its turn comes), so the
    measurement adds ten status reads a second to the stack, not ten per bulk."""
    views: dict[str, dict[str, Any]] = {}
    finished_at = time.monotonic()
    deadline = time.monotonic() + timeout
    pending = list(locations)
    progress, moved_at = -1, time.monotonic()
    while pending and time.monotonic() < deadline and time.monotonic() - moved_at < stall:
        answer = stack.call("GET", pending[0])
        if answer.status_code == 200:
            views[pending[0]] = answer.json()["data"]
            if views[pending[0]].get("status") in DONE:
                pending.pop(0)
                finished_at = time.monotonic()
                continue
        if _progress(views) != progress:
            progress, moved_at = _progress(views), time.monotonic()
        time.sleep(0.1)
    return views, finished_at


def _troubles(log: str) -> list[str]:
    """What went wrong inside the stack, from its log: failed function batches, emulator errors."""
    failed = [line for line in log.splitlines() if " failed a batch of " in line]
    errors = [line for line in log.splitlines() if line.startswith(("RuntimeError", "KeyError", "Exception"))]
    notes = []
    if failed:
        kinds = sorted({line.split(": ", 1)[-1][:120] for line in failed})
        notes.append(f"local: {len(failed)} function batches failed in the stack ({'; '.join(kinds[:3])})")
    if log.count("Traceback"):
        notes.append(
            f"local: {log.count('Traceback')} tracebacks in the stack log"
            + (f", e.g. {errors[0][:120]}" if errors else "")
        )
    return notes


def _round(
    stack: Stack, name: str, bulks: int, size: int, timeout: float, section: Section
) -> tuple[int, float, list[float]]:
    """Post `bulks` bulks at once and wait for them: (records completed, seconds from the first
    POST until the last bulk reported complete, each POST's seconds)."""
    locations: list[str] = []
    post_seconds: list[float] = []
    started = time.monotonic()
    for b in range(bulks):
        sent = time.monotonic()
        answer = stack.call(
            "POST", "/v1/events/trigger/bulk", json=novu_bulk("welcome", size, f"{name}-{b}", f"{name}-{b}")
        )
        post_seconds.append(time.monotonic() - sent)
        if answer.status_code != 201:
            section.notes.append(f"local: {name} bulk {b} answered {answer.status_code}: {answer.text[:200]}")
            continue
        locations.append(answer.headers["Location"])
    views, finished_at = _wait(stack, locations, timeout)
    elapsed = finished_at - started
    completed = sum(v.get("counts", {}).get("completed", 0) for v in views.values())
    unfinished = [loc for loc in locations if views.get(loc, {}).get("status") not in DONE]
    if unfinished:
        section.notes.append(
            f"local: {name}: {len(unfinished)} of {len(locations)} bulks unfinished when polling stopped "
            f"({timeout:.0f} s at most, 20 s without progress); the rate counts what completed"
        )
        elapsed = time.monotonic() - started
    elif completed < bulks * size:
        section.notes.append(
            f"local: {name}: {bulks * size - completed} of {bulks * size} records did not complete"
        )
    return completed, elapsed, post_seconds


def local_stack_section(bulks: int = 10, size: int = 100, rounds: int = 3, timeout: float = 60) -> Section:
    section = Section("local", "Local stack over HTTP: notifications per second")
    rates: list[float] = []
    post_seconds: list[float] = []
    with tempfile.TemporaryDirectory(prefix="clarion-bench-") as directory:
        stack = Stack(Path(directory))
        try:
            steps = 1
            workflow = stack.call("GET", "/v1/workflows/welcome")
            if workflow.status_code == 200:
                steps = sum(1 for s in workflow.json()["data"].get("steps", []) if s.get("active", True)) or 1
            # Warm-up, not measured: every runtime (two per function) imports what it imports on
            # first use and fills its caches. Cold starts are the cold_import figures' business.
            _round(stack, "warm", 2, size, 30, section)
            for r in range(rounds):
                completed, elapsed, posts = _round(stack, f"load{r}", bulks, size, timeout, section)
                rates.append(completed * steps / elapsed if elapsed > 0 else 0.0)
                post_seconds += posts
        finally:
            stack.stop()
            section.notes += _troubles(stack.log.read_text())
    section.figures += [
        Figure(
            "local_e2e_notifications_per_s",
            median(rates) if rates else None,
            "/s",
            ">= 200",
            f"{bulks} bulks of {size} to `welcome` ({steps} in-app step) over HTTP through the local "
            "stack (moto server, 2 warm runtimes per function): notifications delivered / seconds "
            f"from the first POST until the last bulk reported complete; the median of {rounds} rounds "
            "on one warm stack (this machine's speed varies by a quarter from one minute to the next)",
        ),
        Figure(
            "local_accept_ms_per_bulk",
            median(post_seconds) * 1000 if post_seconds else None,
            "ms",
            None,
            "median HTTP round trip of those POSTs (the API answering while the pipeline runs)",
        ),
        Figure(
            "local_stack_start_s", stack.started_in, "s", None, "time until the stack printed it is ready"
        ),
    ]
    section.details += [
        f"Rounds of {bulks * size * steps} notifications: "
        + ", ".join(f"{rate:.0f}/s" for rate in rates)
        + f"; the stack started in {stack.started_in:.1f} s.",
    ]
    return section

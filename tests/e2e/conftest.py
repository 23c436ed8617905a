"""The local stack, started as a user starts it (`clarion dev`), on free ports, driven over HTTP."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import requests
from clarion_cli.emulator import free_port

from tests.conftest import ROOT

API_KEY = "e2e-key"


@dataclass
class RunningStack:
    url: str
    endpoint: str
    process: subprocess.Popen[str]
    banner: str
    started_in: float
    log: Path

    def call(self, method: str, path: str, **kwargs: object) -> requests.Response:
        headers = {"Authorization": f"ApiKey {API_KEY}", **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]

    def client(self, service: str) -> object:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def start_stack(tmp: Path, template: Path = ROOT / "template.yaml") -> RunningStack:
    port, emulator_port = free_port(), free_port()
    log = tmp / "stack.log"
    environment = {**os.environ, "CLARION_API_KEY": API_KEY, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}
    environment.pop("AWS_ENDPOINT_URL", None)
    environment.pop("AWS_ENDPOINT_URL_SQS", None)
    started = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clarion_cli",
            "dev",
            "--template",
            str(template),
            "--port",
            str(port),
            "--emulator-port",
            str(emulator_port),
        ],
        cwd=tmp,
        env=environment,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 90
    while "Ctrl-C stops it." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"local stack did not start:\n{log.read_text()}")
        time.sleep(0.2)
    return RunningStack(
        f"http://127.0.0.1:{port}",
        f"http://127.0.0.1:{emulator_port}",
        process,
        log.read_text(),
        time.monotonic() - started,
        log,
    )


def stop_stack(stack: RunningStack) -> int:
    stack.process.send_signal(signal.SIGINT)
    try:
        return stack.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("stack"))
    print(f"\nlocal stack started in {running.started_in:.1f}s")
    yield running
    if running.process.poll() is None:
        stop_stack(running)


def curl_line(banner: str) -> list[str]:
    """The `curl` command the stack prints, as the argument list a shell would make of it."""
    import shlex

    text = banner.split("try:", 1)[1].split("Ctrl-C", 1)[0]
    return shlex.split(re.sub(r"\\\n", " ", text))


@dataclass
class SequenzyClient:
    """A Sequenzy client's view of Clarion: its own environment, `Authorization: Bearer <key>`."""

    stack: RunningStack
    key: str

    def call(self, method: str, path: str, **kwargs: object) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.key}", **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return requests.request(method, self.stack.url + path, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def sequenzy(stack: RunningStack) -> SequenzyClient:
    """A fresh environment per test (its settings, such as optInMode, are the test's own)."""
    import uuid

    from tests.e2e.test_suprsend_node_sdk import new_environment

    return SequenzyClient(stack, new_environment(stack, f"sequenzy-{uuid.uuid4().hex[:12]}"))

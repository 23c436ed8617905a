"""Every file in events/ is invoked through the Docker-free invoke (`clarion invoke`), so no
sample can rot. A fresh emulator is started for each, as `sam local invoke` starts a container."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from clarion_cli.emulator import free_port

from tests.conftest import ROOT

FUNCTION_BY_PREFIX = {
    "api_": "ApiFunction",
    "worker_": "WorkerFunction",
    "results_": "ResultsFunction",
    "dead_letter_": "DeadLetterFunction",
}
SAMPLES = sorted((ROOT / "events").glob("*.json"))


def function_for(name: str) -> str:
    matches = [f for prefix, f in FUNCTION_BY_PREFIX.items() if name.startswith(prefix)]
    assert matches, f"events/{name} names no function: start it with one of {list(FUNCTION_BY_PREFIX)}"
    return matches[0]


def test_there_are_samples_for_every_function() -> None:
    assert {function_for(p.name) for p in SAMPLES} == set(FUNCTION_BY_PREFIX.values())


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_sample_event_invokes_cleanly(sample: object) -> None:
    environment = {**os.environ, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}
    environment.pop("AWS_ENDPOINT_URL", None)
    environment.pop("AWS_ENDPOINT_URL_SQS", None)
    environment.pop("CLARION_API_KEY", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "clarion_cli",
            "invoke",
            function_for(sample.name),
            str(sample),  # type: ignore[attr-defined]
            "--template",
            str(ROOT / "template.yaml"),
            "--emulator-port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=environment,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout)
    if sample.name.startswith("api_"):  # type: ignore[attr-defined]
        assert answer["statusCode"] == 201, answer
        body = json.loads(answer["body"])
        assert [item["status"] for item in body["data"]] == ["processed"] * len(body["data"])
    else:
        assert answer == {"batchItemFailures": []}

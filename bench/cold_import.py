"""Cold import: a fresh interpreter importing a function's app.py, against a fresh interpreter
creating one boto3 client, measured in the same run (interleaved, median of `runs`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from bench.cloud import ROOT, TEMPLATE
from bench.figures import Figure, Section, median

FUNCTIONS = {"api": "ApiFunction", "worker": "WorkerFunction", "results": "ResultsFunction"}
BASELINE = "import boto3; boto3.client('sqs', region_name='us-east-1')"
_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def _environment(function: str | None) -> dict[str, str]:
    """A Lambda-like environment: the function's variables from the template, no tracing daemon."""
    variables = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    if function is not None:
        from clarion_cli.template import Template

        variables |= Template(TEMPLATE).functions()[function].environment
        variables["PYTHONPATH"] = str(ROOT / "layers" / "core")
    return variables


def _command(name: str | None) -> tuple[list[str], Path, dict[str, str]]:
    if name is None:
        return [sys.executable, "-c", BASELINE], ROOT, _environment(None)
    return (
        [sys.executable, "-c", "import app"],
        ROOT / "functions" / name,
        _environment(FUNCTIONS[name]),
    )


def _time_once(name: str | None) -> float:
    argv, cwd, env = _command(name)
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def heaviest_packages(name: str, top: int = 6) -> dict[str, float]:
    """Self import time (python -X importtime) summed per top-level package, in ms."""
    argv, cwd, env = _command(name)
    result = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]],
        cwd=cwd,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    totals: dict[str, float] = defaultdict(float)
    for line in result.stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            totals[match.group(4).split(".")[0]] += int(match.group(1)) / 1000
    return dict(sorted(totals.items(), key=lambda item: -item[1])[:top])


def cold_import_section(runs: int = 7) -> Section:
    section = Section("cold", "Cold import of each function vs. a bare boto3 client")
    names: list[str | None] = [None, *FUNCTIONS]
    for name in names:  # warm-up: byte-compile, fill the OS page cache
        _time_once(name)
    samples: dict[str | None, list[float]] = {name: [] for name in names}
    for _ in range(runs):
        for name in names:
            samples[name].append(_time_once(name))
    baseline = median(samples[None]) * 1000
    section.figures.append(
        Figure(
            "cold_import_ms_baseline",
            baseline,
            "ms",
            None,
            f'fresh `python -c "{BASELINE}"` (median of {runs})',
        )
    )
    rows = []
    for name, function in FUNCTIONS.items():
        ms = median(samples[name]) * 1000
        heavy = heaviest_packages(name)
        section.figures.append(
            Figure(
                f"cold_import_ms_{name}",
                ms,
                "ms",
                None,
                f'fresh `python -c "import app"` in functions/{name} (median of {runs})',
                breakdown=heavy,
            )
        )
        section.figures.append(
            Figure(
                f"cold_import_ratio_{name}",
                ms / baseline,
                "x",
                "<= 1.5",
                f"{function}'s cold import over the boto3 baseline measured in the same run",
            )
        )
        rows.append(
            f"| {name} | {ms:.0f} | {ms / baseline:.2f} | "
            + ", ".join(f"{package} {t:.0f}" for package, t in heavy.items())
            + " |"
        )
    section.details += [
        f"Baseline (`{BASELINE}`): {baseline:.0f} ms.",
        "",
        "| function | ms | ratio | heaviest packages by self import time, ms (`-X importtime`, one run) |",
        "|---|---:|---:|---|",
        *rows,
    ]
    return section

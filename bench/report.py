"""Output: `name value` lines, a table on the terminal, and docs/PERFORMANCE.md."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench.cloud import ROOT
from bench.cost import PRICES_CHECKED, price_table
from bench.figures import Figure, Section, fmt

DOC = ROOT / "docs" / "PERFORMANCE.md"


def lines(sections: list[Section]) -> list[str]:
    """One `name value` line per figure, then its breakdown as `name.part value` lines."""
    out: list[str] = []
    for section in sections:
        for figure in section.figures:
            out.append(f"{figure.name} {figure.shown()}")
            out += [f"{figure.name}.{part} {fmt(value)}" for part, value in figure.breakdown.items()]
    return out


def notes(sections: list[Section]) -> list[str]:
    out = [f"# note: {note}" for section in sections for note in section.notes]
    out += [f"# error: {s.key}: {s.error}" for s in sections if s.error]
    return out


def _verdict(figure: Figure) -> str:
    met = figure.met()
    return "" if met is None else ("met" if met else "MISSED")


def print_table(sections: list[Section]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        for section in sections:
            for f in section.figures:
                print(f"{f.name:48} {f.shown():>12} {f.unit:6} {f.goal or '':>8} {_verdict(f)}")
        return
    table = Table(title="Clarion benchmarks", title_justify="left", show_lines=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    table.add_column("goal", justify="right")
    table.add_column("")
    for section in sections:
        if section.error:
            table.add_row(f"[red]{section.key}: failed[/red]", "", "", "", "")
        for f in section.figures:
            verdict = _verdict(f)
            style = {"met": "green", "MISSED": "bold red"}.get(verdict, "")
            table.add_row(
                f.name, f.shown(), f.unit, f.goal or "", f"[{style}]{verdict}[/{style}]" if style else ""
            )
        table.add_section()
    Console(width=None if sys.stdout.isatty() else 120).print(table)


def _commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs"],  # docs: this run's
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" (with uncommitted changes)" if dirty else "")


METHOD = """\
## Method

`make bench` (or `.venv/bin/python -m bench`; `--only accept,e2e` runs some sections and leaves this
file alone) runs every figure below in one process on the machine at hand, in about ten minutes on
two idle cores (most of it the two 10,000-recipient growth cases; several times that on a shared,
loaded machine). Figures are measurements, never assertions: a slow machine changes the timings,
never the exit code (an exception in a section does, and is printed as `# error:`).

**In-process cloud.** The AWS figures run the real handlers of `functions/*/app.py` in-process on
moto's `mock_aws`, with tables and queues provisioned from `template.yaml` by the local stack's own
code and each function's environment from the template, as `tests/integration/conftest.py` does
(`bench/cloud.py`). The harness plays the event source mappings: it receives a batch (the worker's
`BatchSize`, 10; the results function's, 100), invokes, and deletes what succeeded.

**Counting calls.** Every botocore client created during a measurement gets a `before-parameter-build`
and an `after-call` hook (`bench/counting.py`); a call is counted when it is made inside a function's
invocation, so the harness's own calls never are, and clients Clarion does not create through
`clarion.aws` (Powertools Idempotency's, for example) are. Calls the event source mappings make are
counted apart (`esm:<queue>`): they are billed to the account but are not the functions' calls.

- `accept_aws_calls_per_100`: two 100-event Novu bulks (`POST /v1/events/trigger/bulk`, workflow
  `welcome`, one subscriber per event with inline profile fields); the second is counted (API key,
  rate limit and workflow cached).
- `results_writes_per_100_outcomes`: a bulk of 100 (and, separately, 5 bulks of 20) runs through
  the API and the worker; the 100 outcomes on the ResultsQueue go to the ResultsFunction as one batch
  and its DynamoDB write calls are counted.
- `e2e_*`, `wcu_per_notification`: a workflow of one in_app and one email step (`E2E_STEPS` in
  `bench/aws_calls.py`; email through an active `ses` integration, its sender's domain verified in
  moto); a first bulk of 100 creates the subscribers and warms the caches, a second bulk to the same
  subscribers is counted across the API, worker and results functions and divided by the
  notifications sent (steps with status `sent` in the outcomes the ResultsFunction received). The
  `_first_contact` figures are the first bulk's.

**Write and read units.** moto's `ConsumedCapacity` is a constant, so units are computed from the
items themselves, per DynamoDB's sizing rules: an item's size is the UTF-8 length of its attribute
names and values (numbers about one byte per two significant digits plus one; lists and maps three
bytes plus one per element). A write costs 1 WRU per started KB of the larger of the item before and
after it (images read from moto's backend, not through the API), at least 1; a conditional write that
fails still costs it; writes (and condition checks) inside `TransactWriteItems` cost twice, and a
cancelled transaction is charged for all its items (an upper bound); every GSI the old or new item
projects into costs again at 1x (a changed index key: a delete and a put). A read costs 1 RRU per
started 4 KB (half when eventually consistent, twice in a transaction); `BatchGetItem` charges each
key like a `GetItem` (a missing item at the minimum); `Query` charges the returned items' total.

**Cost growth** (`bench/growth.py`). Each case in a fresh account: recipients seeded with
`BatchWriteItem` straight into the table (not counted), a warm-up event, then the case's trigger run
until both queues are empty; calls and units of the three functions divided by the notifications
stored as `sent`. Worker peak memory is tracemalloc's peak inside one WorkerFunction invocation
(traced in one invocation in three; moto's own allocations during it included, so a topic page's
query, which moto answers by copying the partition, shows). The digest case holds the engine's clock
still while its events arrive, then moves it past the window's end.

**Side by side** (`bench/baseline.py`). The same bulk of the same two-step workflow, in the same
account, built as a Powertools user would: pydantic validation, a bulk item and `SendMessageBatch`;
a `BatchProcessor` worker reading the batch's subscribers with one `BatchGetItem` and wrapping each
step's send in Powertools Idempotency (`idempotent_function`, DynamoDB persistence); one `UpdateItem`
ADD per outcome for the counters. The ratios divide Clarion's per-notification figures by the
baseline's, both counted by the same hooks.

**Scale on paper** (`bench/scaling.py`, docs/SCALING.md). Arithmetic on the measured counts and the
modelled Lambda durations against AWS's default quotas; every partition key the measured windows
wrote is listed with its write units and its WCU/s at 6,000 and 60,000 events/s. The 10x line
(`sustained_events_per_s_10x_quotas`) takes the worker's and the results function's seconds an event
from the same loads measured again with the worker's batch at its most (`WorkerBatchSize` 100,
`WorkerBatchingWindow` 1: a bulk of 100, and 100 single triggers accepted before the worker runs),
with the account quotas raised 10x and the template's parameters at their most (`TriggerQueues` 4:
four worker event sources of 1,000 concurrent each; `ResultsMaxConcurrency` 1,000).

**Cold import.** `python -c "import app"` in a fresh interpreter with `cwd=functions/<name>`,
`PYTHONPATH=layers/core` and the function's environment from the template
(`POWERTOOLS_TRACE_DISABLED=true`: no X-Ray daemon here), against
`python -c "import boto3; boto3.client('sqs', region_name='us-east-1')"`, interleaved, one warm-up
each (byte code compiled), median of 7. The heaviest packages come from one `-X importtime` run.

**Accept latency.** The recorded answers of a warm 100-event bulk on moto are replayed to the
ApiFunction handler through botocore's `Stubber` (nothing leaves the process); the floor is pydantic
validation of the same body against a model as strict as Novu's event (`bench/latency.py`) plus the
ten `SendMessageBatch` calls to enqueue it, stubbed the same way. The clock runs for the handler
call alone (its answer is read after it stops). Medians of 60 interleaved runs after 5 warm-ups.

**Local stack throughput.** `python -m clarion_cli dev` on free ports, as `tests/e2e/conftest.py`
starts it (moto server, two warm runtimes per function, pollers honouring the template's batching);
after a warm-up of two bulks, three rounds: in each, 10 bulks of 100 to `welcome` are POSTed one
after another and the oldest unfinished bulk's status polled until all are complete. A round's rate
is notifications delivered over seconds from its first POST to its last completion; the figure is
the median round (each round is listed below: this VM's speed drifts by a quarter from one minute to
the next). This measures the local emulator on this machine, not AWS.

**Cost.** List prices (below) applied to the counted steady-state bulk of the end-to-end run: Lambda
requests and GB-seconds at the template's `MemorySize`, one API Gateway REST request per ApiFunction
invocation, SQS requests (the functions' and the event source mappings', every started 64 KB of
payload a request), and the computed WRU and RRU. Lambda durations are modelled, not taken raw: an
invocation's in-process time, minus the bench's own hook time and minus the time moto spent
answering (moto's `TransactWriteItems` deep-copies the whole table for every item of a transaction,
seconds where DynamoDB takes milliseconds), plus a typical in-region latency per AWS call
(`AWS_LATENCY_MS` in `bench/cost.py`, an assumption), rounded up to the millisecond. What providers
charge for delivering (SES, $0.10 per 1,000 emails) is reported apart, in
`usd_per_million_notifications_with_providers`. Free tiers, CloudWatch Logs, X-Ray, data transfer,
the pollers' empty receives while idle, status polling and Lambda's billed INIT time are left out.
"""


def write_doc(sections: list[Section], seconds: float) -> Path:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = ["| figure | value | unit | goal | | what |", "|---|---:|---|---:|---|---|"]
    for section in sections:
        for f in section.figures:
            rows.append(
                f"| `{f.name}` | {f.shown()} | {f.unit} | {f.goal or ''} | {_verdict(f)} | {f.what} |"
            )
    body = [
        "# Performance",
        "",
        "Generated by `make bench` (`bench/`); do not edit by hand. The table is the latest run.",
        "",
        f"Last run: {now}, commit {_commit()}, Python {platform.python_version()} on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; the bench took {seconds:.0f} s.",
        "",
        *rows,
        "",
    ]
    all_notes = [n for s in sections for n in s.notes] + [
        f"{s.key} failed: {s.error}" for s in sections if s.error
    ]
    if all_notes:
        body += ["Notes from this run:", "", *[f"- {n}" for n in all_notes], ""]
    body += ["## Detail", ""]
    for section in sections:
        if section.details:
            body += [f"### {section.title}", "", *section.details, ""]
    body += [
        METHOD,
        f"## Prices (us-east-1, last checked {PRICES_CHECKED})",
        "",
        *price_table(),
        "",
        "Defined in `bench/cost.py`; check them against the AWS pricing pages before relying on them.",
        "",
    ]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(body))
    return DOC

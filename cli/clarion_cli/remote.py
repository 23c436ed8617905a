"""The commands that drive a Clarion API over HTTP: trigger, status, workflows, subscribers.
Each takes --url/--api-key (or CLARION_URL/CLARION_API_KEY) and --json, and prints an error as
one line on stderr with exit status 1."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clarion_cli import subscribers_import, trigger_file, workflows_apply
from clarion_cli.api_client import Client, ClientError
from clarion_cli.record_files import RecordFileError, read_records, write_jsonl
from clarion_cli.seed import DEFAULT_API_KEY

UrlOption = Annotated[str, typer.Option("--url", envvar="CLARION_URL", help="The API's base URL.")]
ApiKeyOption = Annotated[
    str,
    typer.Option(
        "--api-key", envvar="CLARION_API_KEY", help="The environment's API key.", show_default=False
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout, for scripts.")]
LOCAL_URL = "http://127.0.0.1:3000"

stderr = Console(stderr=True)
workflows_app = typer.Typer(no_args_is_help=True, help="Workflows from a file: apply.")
subscribers_app = typer.Typer(no_args_is_help=True, help="Subscribers from a file: import.")


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(1)


@contextlib.contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except (ClientError, RecordFileError) as error:
        _fail(str(error))
    except KeyboardInterrupt:
        print("error: interrupted; run the same command again to resume", file=sys.stderr)
        raise typer.Exit(130) from None


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        disable=quiet,
    )


def _emit(document: Any) -> None:
    json.dump(document, sys.stdout, indent=2)
    print()


def trigger(
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            "-f",
            help="Novu events: .jsonl (one per line), .json (array or {events: [...]}) or .csv with "
            "columns name,to,payload,overrides,actor,tenant,transactionId (to/payload/... may hold "
            "JSON; dotted columns payload.x or to.email set one key, as a string).",
        ),
    ],
    url: UrlOption = LOCAL_URL,
    api_key: ApiKeyOption = DEFAULT_API_KEY,
    concurrency: Annotated[int, typer.Option(min=1, max=32, help="Bulks in flight at once.")] = 4,
    chunk_size: Annotated[int, typer.Option(min=1, max=100, help="Events per bulk.")] = 100,
    state: Annotated[
        Path | None, typer.Option(help="State file for resuming [default: <file>.clarion-state.json].")
    ] = None,
    failed_file: Annotated[
        Path | None, typer.Option(help="Where failed events go [default: <file stem>.failed.jsonl].")
    ] = None,
    restart: Annotated[
        bool, typer.Option(help="Forget the state: send the whole file again, new keys.")
    ] = False,
    wait: Annotated[bool, typer.Option(help="Wait until every bulk is final before the summary.")] = True,
    wait_timeout: Annotated[float, typer.Option(help="Seconds to wait for the bulks to be final.")] = 600,
    json_output: JsonOption = False,
) -> None:
    """Trigger a file of events in bulks of 100; run it again after an interruption to resume
    (chunks already answered are not sent again). Failed events go to a file this command re-sends."""
    with _one_line_errors():
        events = read_records(
            file, key="events", fields=trigger_file.EVENT_FIELDS, json_fields=trigger_file.EVENT_JSON_FIELDS
        )
        if not events.records:
            raise ClientError(f"{file}: no events in it")
        run = trigger_file.RunState(
            state or trigger_file.state_path_for(file), events.sha256, chunk_size, restart=restart
        )
        chunks = trigger_file.plan(events, chunk_size, run.run)
        client = Client(url, api_key)
        resumed = [c for c in chunks if (r := run.result(c.index)) is not None and trigger_file.is_final(r)]
        with _progress(json_output) as progress:
            sending = progress.add_task(
                "sending", total=len(events.records), completed=sum(len(c.events) for c in resumed)
            )
            results = trigger_file.send_all(
                client,
                chunks,
                run,
                concurrency,
                lambda chunk, _: progress.advance(sending, len(chunk.events)),
            )
            bulk_ids = [r.bulk_id for r in results if r.bulk_id]
            statuses = _wait_final(client, bulk_ids, progress, wait_timeout) if wait else {}
        statuses = statuses or trigger_file.bulk_statuses(client, bulk_ids)
        failed = trigger_file.failed_records(client, chunks, results, statuses)
        failed_path = failed_file or file.with_name(f"{file.stem}.failed.jsonl")
        if failed:
            write_jsonl(failed_path, failed)
        summary = trigger_file.summary(
            events.records, chunks, results, statuses, resumed, client.retried, failed, failed_path
        )
    if json_output:
        _emit(summary)
    else:
        _print_trigger_summary(summary)
    if summary["unsentChunks"]:
        raise typer.Exit(1)


def _wait_final(
    client: Client, bulk_ids: list[str], progress: Progress, timeout: float
) -> dict[str, dict[str, Any]]:
    processing = progress.add_task("processing", total=None)
    deadline = time.monotonic() + timeout
    while True:
        statuses = trigger_file.bulk_statuses(client, bulk_ids)
        total = sum(s["total"] for s in statuses.values())
        finished = sum(s["total"] - s["counts"].get("queued", 0) for s in statuses.values())
        progress.update(processing, total=total, completed=finished)
        if (
            all(s["status"] in trigger_file.FINAL_STATUSES for s in statuses.values())
            or time.monotonic() > deadline
        ):
            return statuses
        time.sleep(1)


def _print_trigger_summary(summary: dict[str, Any]) -> None:
    print(f"{summary['records']} events, {len(summary['bulks'])} bulks")
    table = Table()
    table.add_column("status")
    table.add_column("records", justify="right")
    for name, count in sorted(summary["counts"].items()):
        table.add_row(name, str(count))
    for chunk in summary["refusedChunks"] + summary["unsentChunks"]:
        table.add_row(f"chunk {chunk['chunk']}: HTTP {chunk['httpStatus']}", chunk["error"] or "")
    Console().print(table)
    notes = []
    if summary["resumedChunks"]:
        notes.append(f"resumed: {summary['resumedChunks']} chunks were already sent")
    if summary["retried"]:
        notes.append("retried " + ", ".join(f"{n} x HTTP {s}" for s, n in summary["retried"].items()))
    if summary["failedFile"]:
        notes.append(
            f"{summary['failedRecords']} failed events in {summary['failedFile']} (re-send with --file)"
        )
    if summary["unsentChunks"]:
        notes.append(f"{len(summary['unsentChunks'])} chunks not sent: run the same command again to resume")
    for note in notes:
        print(note)


def status(
    bulk_id: Annotated[str, typer.Argument(help="The bulkId (the Location header of a bulk answer).")],
    watch: Annotated[bool, typer.Option(help="Show a live progress bar until the bulk is final.")] = False,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between polls with --watch.")] = 1.0,
    url: UrlOption = LOCAL_URL,
    api_key: ApiKeyOption = DEFAULT_API_KEY,
    json_output: JsonOption = False,
) -> None:
    """A bulk's status and counts; with --watch, until it is completed or partially_failed."""
    with _one_line_errors():
        client = Client(url, api_key)
        route = f"{trigger_file.BULK_ROUTE}/{bulk_id}"
        view = client.get_data(route)
        if watch:
            with _progress(json_output) as progress:
                task = progress.add_task(f"bulk {bulk_id}", total=view["total"])
                while True:
                    progress.update(task, completed=view["total"] - view["counts"].get("queued", 0))
                    if view["status"] in trigger_file.FINAL_STATUSES:
                        break
                    time.sleep(interval)
                    view = client.get_data(route)
    if json_output:
        _emit(view)
        return
    print(f"bulk {view['bulkId']}: {view['status']} ({view['total']} records)")
    table = Table()
    table.add_column("status")
    table.add_column("records", justify="right")
    for name, count in sorted(view["counts"].items()):
        table.add_row(name, str(count))
    Console().print(table)


@workflows_app.command("apply")
def workflows_apply_command(
    file: Annotated[
        Path, typer.Option("--file", "-f", help="YAML: a list of workflows, or {workflows: [...]}.")
    ],
    dry_run: Annotated[bool, typer.Option(help="Show the diff; change nothing.")] = False,
    url: UrlOption = LOCAL_URL,
    api_key: ApiKeyOption = DEFAULT_API_KEY,
    json_output: JsonOption = False,
) -> None:
    """Create or update the file's workflows so the server matches it; show what changed."""
    with _one_line_errors():
        changes = workflows_apply.apply(Client(url, api_key), file, dry_run=dry_run)
    if json_output:
        _emit([c.to_json() for c in changes])
        return
    console = Console(highlight=False)
    for change in changes:
        console.print(f"{change.workflow_id}: {change.action}")
        for line in change.diff:
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
            console.print(f"  {line}", style=style, markup=False)


@subscribers_app.command("import")
def subscribers_import_command(
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            "-f",
            help="Subscribers: .jsonl, .json (array or {subscribers: [...]}) or .csv with columns "
            "subscriberId,email,firstName,lastName,phone,avatar,locale,timezone,data,channels "
            "(data/channels may hold JSON; data.x columns set one key, as a string).",
        ),
    ],
    concurrency: Annotated[int, typer.Option(min=1, max=16, help="Requests in flight at once.")] = 4,
    failed_file: Annotated[
        Path | None, typer.Option(help="Where refused subscribers go [default: <file stem>.failed.jsonl].")
    ] = None,
    url: UrlOption = LOCAL_URL,
    api_key: ApiKeyOption = DEFAULT_API_KEY,
    json_output: JsonOption = False,
) -> None:
    """Upsert a file of subscribers, 500 a request; refused ones are listed and written to a file."""
    with _one_line_errors():
        result = subscribers_import.import_file(Client(url, api_key), file, concurrency=concurrency)
    failed_path = failed_file or file.with_name(f"{file.stem}.failed.jsonl")
    if result.failed:
        write_jsonl(failed_path, result.failed)
    if json_output:
        _emit({**result.to_json(), "failedFile": str(failed_path) if result.failed else None})
        return
    print(f"created {result.created}, updated {result.updated}, failed {len(result.failed)}")
    for failure in result.to_json()["failed"]:
        print(f"  {failure['source']}: {failure['error']}")
    if result.failed:
        print(f"refused subscribers written to {failed_path}")


def register(app: typer.Typer) -> None:
    app.command()(trigger)
    app.command()(status)
    app.add_typer(workflows_app, name="workflows")
    app.add_typer(subscribers_app, name="subscribers")

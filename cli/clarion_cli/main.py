"""`clarion`: run the local stack, invoke one function on one event."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from clarion_cli import emulator
from clarion_cli.runtime import InvocationError
from clarion_cli.seed import DEFAULT_API_KEY, DEVELOPMENT
from clarion_cli.stack import LocalStack

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Clarion's Docker-free local stack.")

TemplateOption = Annotated[Path, typer.Option(help="The SAM template the stack is built from.")]


def _api_key() -> str:
    return os.environ.get("CLARION_API_KEY") or DEFAULT_API_KEY


def _log(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)


@app.command()
def dev(
    template: TemplateOption = Path("template.yaml"),
    port: Annotated[int, typer.Option(help="HTTP gateway port.")] = 3000,
    emulator_port: Annotated[int, typer.Option(help="AWS emulator (moto server) port.")] = 4566,
    concurrency: Annotated[int, typer.Option(help="Warm runtimes per function.")] = 2,
) -> None:
    """Run the local stack: emulator, tables and queues, functions, gateway and pollers."""
    started = time.perf_counter()
    stack = LocalStack(
        template,
        api_key=_api_key(),
        port=port,
        emulator_port=emulator_port,
        concurrency=concurrency,
        log=_log,
        log_dir=Path(".clarion/logs"),
    )
    stack.start()
    key = _api_key()
    _log(f"Clarion local stack ready in {time.perf_counter() - started:.1f}s")
    print(f"  API        http://127.0.0.1:{port}   (environment '{DEVELOPMENT}', key '{key}')")
    print(f"  emulator   {stack.endpoint}")
    print(f"  functions' logs in {Path('.clarion/logs').resolve()}")
    print("  try:")
    print(f"    curl -i -X POST http://127.0.0.1:{port}/v1/events/trigger/bulk \\")
    print(f"      -H 'Authorization: ApiKey {key}' -H 'Content-Type: application/json' \\")
    print('      -d \'{"events":[{"name":"welcome","to":"ada","payload":{"message":"Hi!"}}]}\'')
    print("  Ctrl-C stops it.", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    _log("stopping")
    stack.stop()
    _log("stopped")


@app.command()
def invoke(
    function: Annotated[str, typer.Argument(help="Logical id of a function in the template.")],
    event: Annotated[Path, typer.Argument(help="A JSON event file, e.g. events/api_bulk_trigger.json.")],
    template: TemplateOption = Path("template.yaml"),
    emulator_port: Annotated[
        int, typer.Option(help="Use the emulator on this port; start one if none.")
    ] = 4566,
) -> None:
    """Invoke one function of the template on one event, like `sam local invoke`, without Docker."""
    try:
        result = invoke_once(template, function, json.loads(event.read_text()), emulator_port)
    except InvocationError as error:
        json.dump(error.payload, sys.stdout, indent=2)
        print()
        raise typer.Exit(1) from error
    json.dump(result, sys.stdout, indent=2)
    print()


def invoke_once(template: Path, function: str, event: dict, emulator_port: int = 4566) -> object:
    if not emulator.port_open("127.0.0.1", emulator_port):
        emulator_port = emulator.free_port()
    stack = LocalStack(
        template,
        api_key=_api_key(),
        emulator_port=emulator_port,
        concurrency=1,
        log=lambda line: print(line, file=sys.stderr),
    )
    if function not in stack.functions:
        raise typer.BadParameter(f"{function} is not a function of {template}: {', '.join(stack.functions)}")
    stack.start_emulator()
    try:
        return stack.invoke(function, event)
    finally:
        stack.stop()


if __name__ == "__main__":
    app()

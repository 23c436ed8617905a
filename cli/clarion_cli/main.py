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
from typing import Annotated, NoReturn

import typer

from clarion_cli import emulator, match_fields, remote
from clarion_cli.runtime import InvocationError
from clarion_cli.seed import DEFAULT_API_KEY, DEVELOPMENT
from clarion_cli.stack import LocalStack
from clarion_cli.template import Template

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Clarion: run the local stack, manage environments and keys, and drive an API (local or deployed).",
)

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
    print(
        f"  Inbox      applicationIdentifier '{stack.application_identifier}'   (Novu's <Inbox />, @novu/js)"
    )
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


env_app = typer.Typer(no_args_is_help=True, help="Environments: create one, show one, set its rate limit.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys: list, rotate, revoke.")
app.add_typer(env_app, name="env")
app.add_typer(keys_app, name="keys")
remote.register(app)
env_app.command("match-fields")(match_fields.match_fields)  # Altcraft's profile matching

EndpointOption = Annotated[
    str | None,
    typer.Option(help="AWS endpoint: the local emulator by default; pass '' for real AWS with --table."),
]
TableOption = Annotated[str | None, typer.Option(help="Deployed table name (stack output TableName).")]
SecretsKeyOption = Annotated[
    str | None, typer.Option(help="Deployed KMS alias (stack output SecretsKeyAlias).")
]


def _configure(template: Path, endpoint: str | None, table: str | None, secrets_key: str | None) -> None:
    """Point clarion.store at the local emulator (configured from the template, as the API is)
    or at a deployed stack's table and KMS key."""
    from clarion import aws, config

    if table:
        os.environ["CLARION_TABLE_NAME"] = table
        if secrets_key:
            os.environ["CLARION_SECRETS_KEY_ID"] = secrets_key
    else:
        local = endpoint or "http://127.0.0.1:4566"
        if not emulator.port_open("127.0.0.1", int(local.rsplit(":", 1)[1])):
            raise typer.BadParameter(f"no emulator at {local}: start `make dev`, or pass --table for AWS")
        emulator.use_local_credentials(local)
        os.environ.update(Template(template, endpoint=local).functions()["ApiFunction"].environment)
    config.settings.cache_clear()
    aws.reset_clients()


def _environment_id(value: str) -> str:
    """Typer callback: an environment id as clarion.model.identifiers allows it."""
    from clarion.model.identifiers import check_environment_id

    try:
        return check_environment_id(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error


EnvironmentArgument = Annotated[
    str, typer.Argument(help="The environment's id (SuprSend's workspace key).", callback=_environment_id)
]


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(1)


@env_app.command("create")
def env_create(
    environment: EnvironmentArgument,
    force: Annotated[
        bool,
        typer.Option("--force", help="If it exists: add a new key and keep its limits, keys and settings."),
    ] = False,
    template: TemplateOption = Path("template.yaml"),
    endpoint: EndpointOption = None,
    table: TableOption = None,
    secrets_key: SecretsKeyOption = None,
) -> None:
    """Create an environment and print its first API key (shown once; only its hash is kept)."""
    from clarion.store import environments

    _configure(template, endpoint, table, secrets_key)
    key = environments.new_api_key()
    try:
        environments.create_environment(environment, key, force=force)
    except environments.EnvironmentExistsError:
        _fail(f"environment {environment} exists; --force adds a new key and keeps everything else")
    done = "exists; new" if force else "created;"
    _print_new_key(f"environment {environment} {done} API key", key)
    _print_application_identifier(environment)


def _print_new_key(what: str, key: str) -> None:
    print(f"{what} (store it now, it is not shown again):\n{key}")


def _print_application_identifier(environment: str) -> None:
    from clarion.store import environment_settings

    print(
        f"applicationIdentifier (public, for Novu's <Inbox />): {environment_settings.application_identifier(environment)}"
    )


@env_app.command("show")
def env_show(
    environment: EnvironmentArgument,
    template: TemplateOption = Path("template.yaml"),
    endpoint: EndpointOption = None,
    table: TableOption = None,
) -> None:
    """Show an environment's public applicationIdentifier and its Inbox settings."""
    from clarion.store import environment_settings, environments

    _configure(template, endpoint, table, None)
    try:
        _print_application_identifier(environment)
    except environments.EnvironmentNotFoundError:
        _fail(f"no environment {environment!r}; create it with `clarion env create {environment}`")
    inbox = environment_settings.inbox_settings(environment)
    print(
        f"Inbox: subscriberHash {'required' if inbox.subscriber_hash_required else 'optional'}, "
        f"origins {', '.join(inbox.allowed_origins)}"
    )


@env_app.command("limits")
def env_limits(
    environment: EnvironmentArgument,
    per_second: Annotated[int, typer.Option(min=1, help="Records per second, sustained.")],
    burst: Annotated[int, typer.Option(min=1, help="Records at once (the bucket's size).")],
    template: TemplateOption = Path("template.yaml"),
    endpoint: EndpointOption = None,
    table: TableOption = None,
) -> None:
    """Set the environment's token bucket: a bulk of N records costs N."""
    from clarion.store import environments

    _configure(template, endpoint, table, None)
    try:
        environments.set_rate_limit(environment, environments.RateLimit(per_second=per_second, burst=burst))
    except environments.EnvironmentNotFoundError as error:
        _fail(f"{error}; create it with `clarion env create {environment}`")
    print(f"{environment}: {per_second} records/s, burst {burst}")


@keys_app.command("list")
def keys_list(
    environment: EnvironmentArgument,
    template: TemplateOption = Path("template.yaml"),
    endpoint: EndpointOption = None,
    table: TableOption = None,
) -> None:
    """The environment's keys, by hash (a key itself is never stored)."""
    from clarion.store import environments

    _configure(template, endpoint, table, None)
    for key in environments.list_keys(environment):
        print(f"{key['keyHash'][:16]}  created {key['createdAt']}")


@keys_app.command("rotate")
def keys_rotate(
    environment: EnvironmentArgument,
    revoke_old: Annotated[bool, typer.Option("--revoke-old", help="Revoke every older key at once.")] = False,
    template: TemplateOption = Path("template.yaml"),
    endpoint: EndpointOption = None,
    table: TableOption = None,
    secrets_key: SecretsKeyOption = None,
) -> None:
    """Issue a new key; older keys keep working (ApiKey, Bearer and as HMAC secrets) until revoked."""
    from clarion.store import environments

    _configure(template, endpoint, table, secrets_key)
    if not environments.exists(environment):
        _fail(f"no environment {environment!r}; create it with `clarion env create {environment}`")
    old = [k["keyHash"] for k in environments.list_keys(environment)]
    key = environments.new_api_key()
    environments.add_key(environment, key)
    if revoke_old:
        for key_hash in old:
            environments.revoke_key(environment, key_hash)
    _print_new_key(f"new API key for {environment}", key)


@keys_app.command("revoke")
def keys_revoke(
    environment: EnvironmentArgument,
    key_hash: Annotated[
        str, typer.Argument(help="The key's hash, or its first 8+ characters (see `keys list`).")
    ],
    template: TemplateOption = Path("template.yaml"),
    endpoint: EndpointOption = None,
    table: TableOption = None,
) -> None:
    """Revoke keys by hash prefix, HMAC secrets with them. Containers stop accepting them within a
    minute (their cache)."""
    from clarion.store import environments

    _configure(template, endpoint, table, None)
    try:
        revoked = environments.revoke_key(environment, key_hash)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    if not revoked:
        raise typer.BadParameter(f"no key of {environment} starts with {key_hash}")
    print("revoked " + ", ".join(h[:16] for h in revoked))


if __name__ == "__main__":
    app()

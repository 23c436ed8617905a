"""`clarion env match-fields <env> [FIELD ...]`: the subscriber `data` fields Altcraft's profile
matching may use (store.profile_match), as `PATCH /v1/environment {"matchFields": [...]}` sets
them. Without fields it shows them; with fields it makes them the environment's (`--clear`
declares none); fields new to the environment are back-filled from its stored subscribers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

FieldsArgument = Annotated[
    list[str] | None, typer.Argument(help="Subscriber data fields to match on (email and phone always are).")
]


def match_fields(
    environment: Annotated[str, typer.Argument(help="The environment's id.")],
    fields: FieldsArgument = None,
    clear: Annotated[bool, typer.Option(help="Declare no data fields.")] = False,
    template: Annotated[Path, typer.Option(help="The SAM template the stack is built from.")] = Path(
        "template.yaml"
    ),
    endpoint: Annotated[str | None, typer.Option(help="The local emulator's URL.")] = None,
    table: Annotated[str | None, typer.Option(help="Deployed table name (stack output TableName).")] = None,
) -> None:
    """Show or set the environment's match fields."""
    from clarion.store import environment_settings, environments, profile_match

    from clarion_cli.main import _configure, _environment_id, _fail

    environment = _environment_id(environment)
    for field in fields or []:
        if not re.fullmatch(profile_match.FIELD_NAME, field):
            raise typer.BadParameter(f"{field!r}: letters, digits, '_', '.', '-', at most 64")
    if fields and clear:
        raise typer.BadParameter("give fields or --clear, not both")
    _configure(template, endpoint, table, None)
    if fields or clear:
        try:
            written = profile_match.declare(environment, list(fields or []))
        except environments.EnvironmentNotFoundError:
            _fail(f"no environment {environment!r}; create it with `clarion env create {environment}`")
        print(f"{environment}: back-filled {written} index entries")
    item = environment_settings.environment_item(environment)
    if item is None:
        _fail(f"no environment {environment!r}; create it with `clarion env create {environment}`")
    declared = environment_settings.match_fields(environment, item)
    print(f"{environment}: match fields email, phone" + "".join(f", data.{f}" for f in declared))

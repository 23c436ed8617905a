"""`clarion workflows apply -f workflows.yaml`: make the server's workflows what the file says.

The file is a list of workflows (or `{workflows: [...]}`, or one workflow), each in the body
shape `POST /v1/workflows` takes (Clarion's `{workflowId, name, steps}` or Novu's). A workflow
that does not exist is created; one that exists is compared field by field (the fields the file
gives, normalized by the same model the API uses, so defaults and Novu's step shape compare
equal) and replaced with `PUT` only if one differs. Fields the file leaves out are kept as
stored; nothing is deleted."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from clarion_cli.api_client import Client, ClientError


@dataclass
class Change:
    workflow_id: str
    action: str  # created | updated | unchanged (| would create / would update with --dry-run)
    diff: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"workflowId": self.workflow_id, "action": self.action, "diff": self.diff}


def read_workflows(path: Path) -> list[dict[str, Any]]:
    try:
        loaded = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ClientError(f"{path}: {error.strerror or error}") from error
    except yaml.YAMLError as error:
        raise ClientError(f"{path}: not YAML ({str(error).splitlines()[0]})") from error
    if isinstance(loaded, dict) and isinstance(loaded.get("workflows"), list):
        loaded = loaded["workflows"]
    elif isinstance(loaded, dict):
        loaded = [loaded]
    if not isinstance(loaded, list) or not all(isinstance(w, dict) for w in loaded):
        raise ClientError(f"{path}: expected a list of workflows, or {{workflows: [...]}}")
    return loaded


def desired(path: Path, index: int, spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The workflow's id and the fields the spec sets, as the API would store them."""
    from clarion.api.errors import ApiError, field_errors
    from clarion.api.workflows import WorkflowChanges, WorkflowCreate
    from pydantic import ValidationError

    where = f"{path}: workflows[{index}]"
    try:
        workflow_id = WorkflowCreate.model_validate(spec).to_workflow().workflow_id
        fields = WorkflowChanges.model_validate(spec).fields()
    except ValidationError as error:
        named = field_errors(error.errors(include_url=False))
        first = next(iter(named.items()))
        raise ClientError(f"{where}: {first[0]}: {first[1]['messages'][0]}") from error
    except ApiError as error:
        raise ClientError(f"{where}: {error.message}") from error
    return workflow_id, _pruned(fields)


def _pruned(value: Any) -> Any:
    """Without null fields, as the API's answers leave them out."""
    if isinstance(value, dict):
        return {k: _pruned(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def diff_lines(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    def dump(value: dict[str, Any]) -> list[str]:
        return yaml.safe_dump(value, sort_keys=True, allow_unicode=True).splitlines() if value else []

    return [
        line
        for line in difflib.unified_diff(dump(before), dump(after), "server", "file", lineterm="", n=2)
        if not line.startswith(("---", "+++", "@@"))
    ]


def apply(client: Client, path: Path, *, dry_run: bool = False) -> list[Change]:
    specs = read_workflows(path)
    planned = [desired(path, i, spec) for i, spec in enumerate(specs)]  # all valid before any call
    ids = [workflow_id for workflow_id, _ in planned]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise ClientError(f"{path}: workflowId {', '.join(twice)} appears more than once")
    # The list, not GET /v1/workflows/{id}: that read is cached per container for a while, so
    # right after a create or update another container may still answer the old workflow (or 404).
    stored_by_id = {w["workflowId"]: w for w in client.get_data("/v1/workflows")}
    changes = []
    for spec, (workflow_id, fields) in zip(specs, planned, strict=True):
        stored = stored_by_id.get(workflow_id)
        if stored is None:
            if not dry_run:
                client.call("POST", "/v1/workflows", spec)
            changes.append(
                Change(workflow_id, "would create" if dry_run else "created", diff_lines({}, fields))
            )
            continue
        current = {name: _pruned(stored.get(name)) for name in fields if stored.get(name) is not None}
        if _canonical(current) == _canonical(fields):
            changes.append(Change(workflow_id, "unchanged"))
            continue
        if not dry_run:
            client.call("PUT", f"/v1/workflows/{quote(workflow_id, safe='')}", spec)
        changes.append(
            Change(workflow_id, "would update" if dry_run else "updated", diff_lines(current, fields))
        )
    return changes


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)

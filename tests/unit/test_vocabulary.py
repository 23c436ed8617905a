"""The shared vocabulary lives in model/: refusal reasons are one StrEnum, field errors are
formatted in one place, and the dialect adapters import neither the API nor intake."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from clarion.api import errors
from clarion.dialects import novu, suprsend
from clarion.model import RecordOutcome, RecordStatus
from clarion.model.refusal import VALIDATION_ERROR, RefusalType, field_errors, field_messages
from pydantic import BaseModel, ValidationError

from tests.conftest import ROOT

DIALECTS = ROOT / "layers" / "core" / "clarion" / "dialects"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("module", sorted(DIALECTS.glob("*.py")), ids=lambda p: p.name)
def test_no_dialect_imports_the_api_or_intake(module: Path) -> None:
    upward = {m for m in imported_modules(module) if m.startswith(("clarion.api", "clarion.intake"))}
    assert upward == set()


def test_validation_error_is_defined_once_and_shared() -> None:
    assert novu.VALIDATION_ERROR is suprsend.VALIDATION_ERROR is VALIDATION_ERROR
    assert VALIDATION_ERROR is RefusalType.VALIDATION_ERROR
    assert errors.field_errors is field_errors


def test_an_outcome_carries_a_typed_refusal_and_refuses_an_unknown_one() -> None:
    fields = {"environment_id": "e", "bulk_id": "b", "index": 0, "transaction_id": "t"}
    outcome = RecordOutcome(**fields, status=RecordStatus.ERROR, error_type="workflow_not_found")
    assert outcome.error_type is RefusalType.WORKFLOW_NOT_FOUND
    again = RecordOutcome.model_validate_json(outcome.model_dump_json())
    assert again.error_type is RefusalType.WORKFLOW_NOT_FOUND
    with pytest.raises(ValidationError):
        RecordOutcome(**fields, status=RecordStatus.ERROR, error_type="workflow-not-found")


class Event(BaseModel):
    name: str
    to: list[str]


def test_field_messages_name_every_field() -> None:
    with pytest.raises(ValidationError) as raised:
        Event.model_validate({"to": [1]})
    problems = raised.value.errors(include_url=False)
    assert field_messages(problems) == "name: Field required; to.0: Input should be a valid string"
    assert field_errors(problems, ("events", 3)) == {
        "events.3.name": {"messages": ["Field required"], "type": "missing"},
        "events.3.to.0": {"messages": ["Input should be a valid string"], "type": "string_type"},
    }

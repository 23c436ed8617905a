"""Shared by every test: the repository's paths and its template."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from clarion_cli.template import Template

if TYPE_CHECKING:
    from clarion.clock import ControlledClock

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="session")
def template() -> Template:
    return Template(TEMPLATE)


@pytest.fixture
def controlled() -> Iterator[ControlledClock]:
    """The test runs on a controlled clock, Clarion's and moto SQS's (tests.controlled_clock)."""
    from tests.controlled_clock import controlled_clock

    with controlled_clock() as clock:
        yield clock

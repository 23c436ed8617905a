"""Shared by every test: the repository's paths and its template."""

from __future__ import annotations

from pathlib import Path

import pytest
from clarion_cli.template import Template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="session")
def template() -> Template:
    return Template(TEMPLATE)

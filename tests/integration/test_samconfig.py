"""samconfig.toml's environments (dev, prod, and default = dev) deploy the template as it is: every
parameter they override exists in template.yaml and takes the value given."""

from __future__ import annotations

import shlex
import tomllib
from typing import Any

import pytest
from clarion_cli.template import Template

from tests.conftest import ROOT, TEMPLATE

CONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text())
ENVIRONMENTS = ("dev", "prod")


def _overrides(environment: str) -> dict[str, str]:
    text = CONFIG[environment]["deploy"]["parameters"]["parameter_overrides"]
    return dict(pair.split("=", 1) for pair in shlex.split(text))


def _parameters() -> dict[str, Any]:
    return dict(Template(TEMPLATE).doc["Parameters"])


def test_default_is_the_dev_environment() -> None:
    assert CONFIG["default"] == CONFIG["dev"]
    assert (
        CONFIG["dev"]["global"]["parameters"]["stack_name"]
        != CONFIG["prod"]["global"]["parameters"]["stack_name"]
    )


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_environment_deploys_with_parameters_the_template_takes(environment: str) -> None:
    parameters = _parameters()
    deploy = CONFIG[environment]["deploy"]["parameters"]
    assert deploy["capabilities"] == "CAPABILITY_IAM" and deploy["region"] and deploy["resolve_s3"]
    for name, value in _overrides(environment).items():
        assert name in parameters, f"{environment}: {name} is not a parameter of template.yaml"
        declared = parameters[name]
        if "AllowedValues" in declared:
            assert value in [str(v) for v in declared["AllowedValues"]], (environment, name, value)
        if declared.get("Type") == "Number":
            number = float(value)
            assert number >= float(declared.get("MinValue", number)), (environment, name, value)
            assert number <= float(declared.get("MaxValue", number)), (environment, name, value)

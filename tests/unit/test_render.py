from __future__ import annotations

import pytest
from clarion.engine.render import TemplateError, render_content


def test_liquid_renders_payload_and_subscriber() -> None:
    scope = {"payload": {"n": 3}, "subscriber": {"firstName": "Ada"}}
    assert render_content({"body": "{{ subscriber.firstName }} has {{ payload.n }}", "n": 1}, scope) == {
        "body": "Ada has 3",
        "n": 1,
    }


def test_templates_cannot_reach_python_objects() -> None:
    scope = {"payload": {}, "subscriber": {}}
    assert render_content({"body": "{{ payload.__class__ }}{{ payload.keys }}"}, scope) == {"body": ""}


def test_broken_template_is_a_template_error_naming_the_field() -> None:
    with pytest.raises(TemplateError, match="subject"):
        render_content({"subject": "{% if %}"}, {})

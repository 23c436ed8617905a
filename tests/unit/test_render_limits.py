"""Issue 11, point 6: Liquid is rendered within limits, and a template over one fails fast with a
template-limit error naming the field (python-liquid's own limits, plus a time budget)."""

from __future__ import annotations

import time

import pytest
from clarion.engine import render
from clarion.engine.render import TemplateError, TemplateLimitError, render_content

SCOPE = {"payload": {"items": list(range(5000)), "csv": ",".join(str(i) for i in range(5000))}}
HOSTILE = {
    "loop from the issue": ("{% for i in (1..100000000) %}x{% endfor %}", "loop iteration limit"),
    "nested loops": ("{% for i in (1..1000) %}{% for j in (1..1000) %}x{% endfor %}{% endfor %}", "loop"),
    "tablerow": ("{% tablerow i in (1..100000000) %}x{% endtablerow %}", "loop iteration limit"),
    "range to a filter": ("{{ (1..100000000) | join }}", "sequence of more than 10000 items"),
    "quadratic uniq": ("{{ payload.csv | split: ',' | uniq | size }}", "sequence of more than 2000"),
    "doubling string": (
        "{% assign s = 'xxxxxxxxxx' %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}",
        "built more than",
    ),
    "captured output": (
        "{% capture s %}{% for i in (1..99999) %}xxxxxxxxxx{% endfor %}{% endcapture %}",
        "output stream limit",
    ),
    "replace bomb": (
        "{% capture s %}{% for i in (1..40000) %}xxxxxxxxxx{% endfor %}{% endcapture %}"
        "{{ s | replace: 'x', s }}",
        "would build more than",
    ),
    "squaring numbers": (
        "{% assign n = 9 %}{% for i in (1..50) %}{% assign n = n | times: n %}{% endfor %}",
        "number over 1024 bits",
    ),
    "slow body": ("{% for i in (1..99999) %}{% assign s = payload.items | sort %}{% endfor %}", "time limit"),
    "deep nesting": ("{% if true %}" * 40 + "{% endif %}" * 40, "nesting limit"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_template_fails_fast_with_a_template_limit(name: str) -> None:
    source, reason = HOSTILE[name]
    render_content({"body": "warm"}, SCOPE)
    started = time.monotonic()
    with pytest.raises(TemplateLimitError, match=reason) as raised:
        render_content({"subject": "fine", "body": source}, SCOPE)
    elapsed = time.monotonic() - started
    print(f"{name}: refused in {elapsed:.3f}s")
    assert str(raised.value).startswith("body: ")
    assert elapsed < 10  # the CPU budget is half a second; unbounded, some of these run for minutes


def test_limits_leave_ordinary_templates_alone() -> None:
    content = {
        "subject": "{{ payload.items | size }} items",
        "body": "{% for i in payload.items limit: 3 %}{{ i }},{% endfor %}{{ payload.items | sort | last }}",
        "digest": "{{ payload.csv | split: ',' | join: ';' | size }}",
        "amount": 5,
    }
    assert render_content(content, SCOPE) == {
        "subject": "5000 items",
        "body": "0,1,2,4999",
        "digest": str(len(SCOPE["payload"]["csv"])),
        "amount": 5,
    }


def test_each_render_has_its_own_budget_and_a_cached_template_renders_again() -> None:
    slow = "{% for i in (1..payload.n) %}{% assign s = payload.items | sort %}{% endfor %}done"
    with pytest.raises(TemplateLimitError):
        render_content({"body": slow}, {"payload": {**SCOPE["payload"], "n": 99999}})
    assert render_content({"body": slow}, {"payload": {"items": [3, 1], "n": 3}}) == {"body": "done"}
    assert render._budget.get() is None  # nothing left armed for the next render


def test_a_syntax_error_stays_a_plain_template_error() -> None:
    with pytest.raises(TemplateError) as raised:
        render_content({"subject": "{% if %}"}, {})
    assert not isinstance(raised.value, TemplateLimitError)

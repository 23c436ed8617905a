"""Liquid templates, rendered in python-liquid's sandbox: templates see only the data passed in
(plain dicts and lists), never Python objects, files or imports."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from liquid import BoundTemplate, Environment


class TemplateError(Exception):
    pass


@lru_cache(maxsize=1)
def _environment() -> Environment:
    from liquid import Environment  # on first render: a worker batch of skips never needs it

    return Environment()


@lru_cache(maxsize=512)
def _template(source: str) -> BoundTemplate:
    """A parsed template, reused: a workflow's step renders the same sources for every recipient."""
    return _environment().from_string(source)


def render_content(content: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """Every string field of a step's content rendered against the scope."""
    from liquid.exceptions import LiquidError

    rendered: dict[str, Any] = {}
    for name, value in content.items():
        if isinstance(value, str):
            try:
                rendered[name] = _template(value).render(**scope)
            except LiquidError as error:
                raise TemplateError(f"{name}: {error}") from error
        else:
            rendered[name] = value
    return rendered

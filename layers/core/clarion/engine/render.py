"""Liquid templates, rendered in python-liquid's sandbox: templates see only the data passed in
(plain dicts and lists), never Python objects, files or imports.

A template is also bounded, so that one hostile step cannot tie up a worker (and every record of
its SQS batch with it). python-liquid's own limits: loop iterations (nested loops multiplied),
output size, local variables, context depth, block nesting. Ours, for what those leave open: a
CPU-time budget per step, checked at every loop step, output write and filter call; and the
filters' inputs and results, since one filter call runs unchecked to its end: a sequence of at
most FILTER_ITEMS (`(1..100000000) | join`; fewer for `uniq`, which is quadratic), no `join` or
`replace` whose answer would outgrow the output limit, no string result over it, no integer
over MAX_INTEGER_BITS (`times` in a loop squares a number each turn). A template that reaches any of
them raises TemplateLimitError: that step fails, nothing else does."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sized
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from liquid import BoundTemplate, Environment

LOOP_ITERATIONS = 100_000  # per template
OUTPUT_BYTES = 512 * 1024  # per field; a message's stored size is checked apart (engine.claims)
LOCALS_BYTES = 1024 * 1024  # what `assign` and `capture` may hold
CONTEXT_DEPTH = 30
RENDER_SECONDS = 0.5  # of CPU time per step, all of its fields together (waiting for a core is not counted)
FILTER_ITEMS = 10_000  # the longest sequence a filter iterates
_QUADRATIC_FILTER_ITEMS = {"uniq": 2_000}  # liquid's uniq compares every item with those before it
MAX_INTEGER_BITS = 1024
_UNBOUNDED_FILTERS = frozenset({"size", "first", "last", "default"})  # never iterate their input

_CLOCK_EVERY = 16  # checks between two readings of the clock (a reading costs about a microsecond)


@dataclass
class _Budget:
    ends_at: float  # in time.thread_time()
    checks: int = 0


_budget: ContextVar[_Budget | None] = ContextVar("render_budget", default=None)


class TemplateError(Exception):
    pass


class TemplateLimitError(TemplateError):
    """The template passed a resource limit (loops, output, variables, nesting, time)."""


def _past_deadline() -> str | None:
    budget = _budget.get()
    if budget is None:
        return None
    budget.checks += 1
    if budget.checks % _CLOCK_EVERY == 0 and time.thread_time() > budget.ends_at:
        return f"render time limit of {RENDER_SECONDS:g}s reached"
    return None


def _input_refusal(name: str, left: Any, args: tuple[Any, ...]) -> str | None:
    """Why a filter call would run too long or build too much, before it runs."""
    if name in _UNBOUNDED_FILTERS:
        return None
    most = _QUADRATIC_FILTER_ITEMS.get(name, FILTER_ITEMS)
    for value in (left, *args):
        if isinstance(value, Sized) and not isinstance(value, str | dict) and len(value) > most:
            return f"filter '{name}' given a sequence of more than {most} items"
    if name == "join" and isinstance(left, Sized):
        separator = len(str(args[0])) if args else 1
        if separator * len(left) > OUTPUT_BYTES:
            return f"filter 'join' would build more than {OUTPUT_BYTES} bytes"
    if name == "replace" and isinstance(left, str) and len(args) >= 2:
        old, new = str(args[0]), str(args[1])
        if len(left) + left.count(old) * len(new) > OUTPUT_BYTES:
            return f"filter 'replace' would build more than {OUTPUT_BYTES} bytes"
    return None


def _result_refusal(name: str, result: Any) -> str | None:
    if isinstance(result, str) and len(result) > OUTPUT_BYTES:
        return f"filter '{name}' built more than {OUTPUT_BYTES} bytes"
    if isinstance(result, int) and result.bit_length() > MAX_INTEGER_BITS:
        return f"filter '{name}' built a number over {MAX_INTEGER_BITS} bits"
    return _past_deadline()


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # On first render: a worker batch of skips never needs liquid.
    from liquid import BoundTemplate, Environment, RenderContext
    from liquid.exceptions import ResourceLimitError
    from liquid.output import LimitedStringIO

    class RenderLimitError(ResourceLimitError):
        pass

    def check(reason: str | None) -> None:
        if reason is not None:
            raise RenderLimitError(reason, token=None)

    def timed(items: Iterator[Any]) -> Iterator[Any]:
        for item in items:
            check(_past_deadline())
            yield item

    class TimedOutput(LimitedStringIO):
        def write(self, text: str) -> int:
            check(_past_deadline())
            return super().write(text)

    class BoundedContext(RenderContext):
        def filter(self, name: str, token: Any) -> Any:
            check(_past_deadline())
            chosen = super().filter(name, token)

            def bounded(left: Any, *args: Any, **kwargs: Any) -> Any:
                check(_input_refusal(name, left, (*args, *kwargs.values())))
                result = chosen(left, *args, **kwargs)
                check(_result_refusal(name, result))
                return result

            return bounded

        @contextmanager
        def loop(self, namespace: Any, forloop: Any) -> Iterator[Any]:
            forloop.it = timed(forloop.it)  # the iterator its tag steps through: checked each step
            with super().loop(namespace, forloop) as context:
                yield context

        def get_buffer(self, buf: Any = None) -> Any:
            carry = buf.size if isinstance(buf, LimitedStringIO) else 0
            return TimedOutput(limit=OUTPUT_BYTES - carry)

    class BoundedTemplate(BoundTemplate):
        context_class = BoundedContext

        def _get_buffer(self) -> Any:
            return TimedOutput(limit=OUTPUT_BYTES)

    class BoundedEnvironment(Environment):
        loop_iteration_limit = LOOP_ITERATIONS
        output_stream_limit = OUTPUT_BYTES
        local_namespace_limit = LOCALS_BYTES
        context_depth_limit = CONTEXT_DEPTH
        template_class = BoundedTemplate

    return BoundedEnvironment()


@lru_cache(maxsize=512)
def _template(source: str) -> BoundTemplate:
    """A parsed template, reused: a workflow's step renders the same sources for every recipient.
    Only the parse is cached: each render is bounded on its own."""
    return _environment().from_string(_ALTCRAFT_FIELD.sub(r"{{ payload.\1 }}", source))


# Altcraft's `{apicontent.x}` is the trigger's content, which is the payload: `{{ payload.x }}`.
_ALTCRAFT_FIELD = re.compile(r"(?<!\{)\{apicontent\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}(?!\})")


def render_content(content: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """Every string field of a step's content rendered against the scope, within the limits above.
    Raises TemplateError (TemplateLimitError for a limit) naming the field."""
    from liquid.exceptions import LiquidError, ResourceLimitError

    rendered: dict[str, Any] = {}
    budget = _budget.set(_Budget(time.thread_time() + RENDER_SECONDS))
    try:
        for name, value in content.items():
            if isinstance(value, str):
                try:
                    rendered[name] = _template(value).render(**scope)
                except ResourceLimitError as error:
                    raise TemplateLimitError(f"{name}: {error.message}") from error
                except LiquidError as error:
                    raise TemplateError(f"{name}: {error}") from error
            else:
                rendered[name] = value
    finally:
        _budget.reset(budget)
    return rendered

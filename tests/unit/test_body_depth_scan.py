"""The nesting scan of api.body reads only quotes and brackets, leaving strings out by splitting at
quotes where that is exact (issue 17's accept path). These properties pin it to the string pattern it replaced, on well-formed JSON
and on any text made of the characters that matter (quotes, backslashes, brackets)."""

from __future__ import annotations

import json
import os
from itertools import accumulate
from typing import Any

from clarion.api import body
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import json_values

PROPERTIES = settings(max_examples=int(os.environ.get("CLARION_PROPERTY_EXAMPLES", "300")), deadline=None)
# Texts of the characters the scan reads, and a few it does not.
_SCAN_TEXTS = st.text(alphabet='"\\[]{}a,: u', max_size=200)
# Without backslashes (the scan's quick path), with characters of several UTF-8 lengths and a
# lone surrogate, which the scan encodes as bytes first.
_QUICK_TEXTS = st.text(alphabet='"[]{}a,:é€😀\ud800', max_size=200)


def _reference_too_deep(text: str) -> bool:
    """The scan as it was: the string pattern first, then the brackets' running depth."""
    brackets = body._NOT_BRACKET.sub("", body._STRING.sub("", text))
    if len(brackets) <= body.MAX_DEPTH:
        return False
    return max(accumulate(body._BRACKET_STEP[c] for c in brackets)) > body.MAX_DEPTH


def _nested(levels: int, inner: Any) -> Any:
    for _ in range(levels):
        inner = {"k": [inner, '"]}', "\\"]}
    return inner


@PROPERTIES
@given(text=_SCAN_TEXTS)
def test_any_text_loses_the_same_strings_as_the_pattern_did(text: str) -> None:
    assert body._outside_strings(text) == body._STRING.sub("", text)


@PROPERTIES
@given(text=_SCAN_TEXTS.map(lambda t: "[" * 60 + t + "]" * 10))
def test_any_text_is_judged_too_deep_exactly_as_before(text: str) -> None:
    assert body._nested_too_deep(text) == _reference_too_deep(text)


@PROPERTIES
@given(text=_QUICK_TEXTS.map(lambda t: "{" * 60 + t + "}" * 10))
def test_texts_without_backslashes_are_judged_too_deep_exactly_as_before(text: str) -> None:
    assert body._nested_too_deep(text) == _reference_too_deep(text)


@PROPERTIES
@given(value=json_values, levels=st.integers(min_value=0, max_value=40))
def test_json_bodies_are_judged_too_deep_exactly_as_before(value: Any, levels: int) -> None:
    text = json.dumps(_nested(levels, value), ensure_ascii=False)

    assert body._outside_strings(text) == body._STRING.sub("", text)
    assert body._nested_too_deep(text) == _reference_too_deep(text)


def test_brackets_inside_strings_never_count_and_deep_nesting_still_does() -> None:
    shallow = json.dumps({"payload": {"text": "[" * 500 + "{" * 500}})
    deep = json.dumps(_nested(40, "x"))  # two levels per step: 80 deep
    escaped = json.dumps(_nested(40, 'say "hi"'))

    assert not body._nested_too_deep(shallow)
    assert body._nested_too_deep(deep)
    assert body._nested_too_deep(escaped)
    assert not body._nested_too_deep(json.dumps(_nested(31, "x")))  # 62 deep

"""The emulator's moto speed-ups give moto's own answers. Each is applied here for one test and
taken off again, so the rest of the suite runs moto as it is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from clarion_cli import emulator
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.models.dynamo_type import DynamoType, Item

CONDITIONS: list[tuple[str, dict[str, str] | None, dict[str, Any] | None]] = [
    ("attribute_not_exists(pk)", None, None),
    ("#s = :expected", {"#s": "status"}, {":expected": {"S": "sending"}}),
    ("#s = :expected", {"#s": "status"}, {":expected": {"S": "sent"}}),
    (
        "NOT contains(#counted, :i1) AND NOT contains(#counted, :i7)",
        {"#counted": "counted"},
        {":i1": {"N": "1"}, ":i7": {"N": "7"}},
    ),
    ("tat > :now AND tat <= :latest", None, {":now": {"N": "10"}, ":latest": {"N": "20"}}),
    ("#b = :b", {"#b": "blob"}, {":b": {"B": b"sent"}}),
    ("#b = :b", {"#b": "blob"}, {":b": {"B": "sent"}}),
]
ITEMS = [
    None,
    Item(DynamoType({"S": "p"}), None, {"pk": {"S": "p"}, "status": {"S": "sending"}}),
    Item(DynamoType({"S": "p"}), None, {"pk": {"S": "p"}, "counted": {"NS": ["1", "2"]}, "tat": {"N": "15"}}),
    Item(DynamoType({"S": "p"}), None, {"pk": {"S": "p"}, "blob": {"B": b"sent"}}),
]


def _answers(expression: str, names: Any, values: Any) -> tuple[list[bool], list[str], list[str]]:
    parser = ConditionExpressionParser(expression, names, values)
    condition = parser.parse()
    return (
        [bool(condition.expr(item)) for item in ITEMS],
        parser.expr_attr_names_found,
        parser.expr_attr_values_found,
    )


@pytest.fixture
def quick_condition_parse() -> Iterator[None]:
    original = ConditionExpressionParser.parse
    emulator._quick_condition_parse()
    assert ConditionExpressionParser.parse is not original
    try:
        yield
    finally:
        ConditionExpressionParser.parse = original  # type: ignore[method-assign]


def test_kept_condition_parses_answer_as_moto_does() -> None:
    expected = [_answers(*condition) for condition in CONDITIONS]
    original = ConditionExpressionParser.parse
    emulator._quick_condition_parse()
    try:
        for _ in range(2):  # parsed and kept, then found
            assert [_answers(*condition) for condition in CONDITIONS] == expected
    finally:
        ConditionExpressionParser.parse = original  # type: ignore[method-assign]


def test_a_kept_parse_does_not_follow_a_later_change_to_the_request(quick_condition_parse: None) -> None:
    item = Item(DynamoType({"S": "p"}), None, {"pk": {"S": "p"}, "doc": {"M": {"a": {"S": "x"}}}})
    values = {":doc": {"M": {"a": {"S": "x"}}}}
    first = ConditionExpressionParser("#d = :doc", {"#d": "doc"}, values).parse()
    assert first.expr(item)
    values[":doc"]["M"]["a"]["S"] = "y"  # the first request's values, changed after it was answered
    again = ConditionExpressionParser("#d = :doc", {"#d": "doc"}, {":doc": {"M": {"a": {"S": "x"}}}})
    assert again.parse().expr(item)

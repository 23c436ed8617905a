"""The emulator's moto speed-ups give moto's own answers. Each is applied here for one test and
taken off again, so the rest of the suite runs moto as it is."""

from __future__ import annotations

import time
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


def _deletes(queue_class: Any) -> list[Any]:
    """What a run of deletes does to a queue: each answer, then the messages left and deleted."""
    from moto.sqs.exceptions import ReceiptHandleIsInvalid
    from moto.sqs.models import Message

    queue = queue_class("speedups", region="us-east-1", account_id="123456789012")
    messages = [Message(f"m{i}", f"body {i}") for i in range(5)]
    for i, message in enumerate(messages):
        message.receipt_handle = f"first-{i}"
        queue._messages.append(message)
    messages[1].mark_received()  # a second receive: first-1 is now a past handle
    messages[1].receipt_handle = "second-1"  # (moto's new one is random)
    handles = ["first-1", "second-1", "first-3", "first-3", "never", "first-0"]
    answers = []
    for handle in handles:
        try:
            queue.delete_message(handle)
            answers.append("deleted")
        except ReceiptHandleIsInvalid:
            answers.append("invalid")
    return [answers, [m.id for m in queue._messages], sorted(h for h in queue.deleted_messages if h)]


def test_quick_deletes_answer_as_moto_does() -> None:
    from moto.sqs.models import Queue

    original = Queue.delete_message
    expected = _deletes(Queue)
    emulator._quick_deletes()
    try:
        assert Queue.delete_message is not original
        assert _deletes(Queue) == expected
    finally:
        Queue.delete_message = original  # type: ignore[method-assign]
    assert expected[0] == ["deleted", "deleted", "deleted", "deleted", "invalid", "deleted"]
    assert expected[1] == ["m2", "m4"]


def test_quick_set_values_answer_as_moto_does() -> None:
    values = [
        {"NS": ["1", "2.50", "-3"]},
        {"SS": ["a", "b"]},
        {"S": "x"},
        {"L": [{"S": "y"}]},
        {"BS": [b"z"]},
    ]
    original = DynamoType.cast_value
    expected = [DynamoType(value).cast_value for value in values]
    emulator._quick_set_values()
    try:
        assert DynamoType.cast_value is not original
        assert [DynamoType(value).cast_value for value in values] == expected
    finally:
        DynamoType.cast_value = original  # type: ignore[method-assign]


def test_quick_retention_check_answers_as_moto_does() -> None:
    from moto.sqs.models import Message, SQSBackend

    backend = SQSBackend("us-east-1", "123456789012")
    backend.create_queue("kept", MessageRetentionPeriod="60")
    fresh, old = Message("fresh", "body"), Message("old", "body")
    fresh.sent_timestamp = int(time.time() * 1000)
    old.sent_timestamp = int((time.time() - 120) * 1000)
    original = SQSBackend.is_message_valid_based_on_retention_period
    expected = [backend.is_message_valid_based_on_retention_period("kept", m) for m in (fresh, old)]
    emulator._quick_retention_check()
    try:
        assert SQSBackend.is_message_valid_based_on_retention_period is not original
        assert [
            backend.is_message_valid_based_on_retention_period("kept", m) for m in (fresh, old)
        ] == expected
    finally:
        SQSBackend.is_message_valid_based_on_retention_period = original  # type: ignore[method-assign]
    assert expected == [True, False]


def test_quick_random_strings_keep_moto_s_shapes() -> None:
    import string

    from moto.moto_api._internal import mock_random
    from moto.moto_api._internal.moto_random import MotoRandom
    from moto.sqs import models
    from moto.utilities.aws_headers import gen_amzn_requestid_long

    original = (MotoRandom.get_random_string, models.generate_receipt_handle)
    emulator._quick_random_strings()
    try:
        assert MotoRandom.get_random_string is not original[0]
        request_ids = {gen_amzn_requestid_long() for _ in range(50)}
        assert len(request_ids) == 50
        assert all(len(r) == 52 and set(r) <= set(string.ascii_letters + string.digits) for r in request_ids)
        handle = models.generate_receipt_handle()
        assert len(handle) == 185 and set(handle) <= set(string.ascii_lowercase)
        assert set(mock_random.get_random_string(40, include_digits=False, lower_case=True)) <= set(
            string.ascii_lowercase
        )
        mock_random.seed(7)
        seeded = mock_random.get_random_string(30)
        mock_random.seed(7)
        assert mock_random.get_random_string(30) == seeded  # /moto-api/seed still makes ids repeatable
    finally:
        mock_random.seed()
        MotoRandom.get_random_string, models.generate_receipt_handle = original  # type: ignore[method-assign]

"""The moto patches give moto's own answers (sqs-deletes also closes moto's race, shown here), are
registered truthfully, and leave a moto other than the pinned one unpatched. Each is applied for
one test through monkeypatch and taken off again, so the rest of the suite runs moto as it is."""

from __future__ import annotations

import re
import string
import time
import tomllib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from clarion_cli import moto_patches
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from tests.conftest import ROOT


def patch(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    assert moto_patches.install([name], monkeypatch.setattr) == [name]


def unpatched_then_patched(monkeypatch: pytest.MonkeyPatch, name: str, answers: Callable[[], Any]) -> None:
    expected = answers()
    patch(monkeypatch, name)
    assert answers() == expected


# --- the registry and the version guard -------------------------------------------------------


def test_every_patch_was_written_for_the_moto_pyproject_pins() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = [d for deps in pyproject["project"]["optional-dependencies"].values() for d in deps]
    [moto_pin] = [d for d in pins if d.startswith("moto")]
    assert moto_pin.endswith(f"=={moto_patches.MOTO_PIN}")
    assert {p.written_for for p in moto_patches.REGISTRY.values()} == {moto_patches.MOTO_PIN}
    assert moto_patches.installed_moto_version() == moto_patches.MOTO_PIN
    assert set(moto_patches.EMULATOR) | set(moto_patches.LARGE_TABLES) == set(moto_patches.REGISTRY)


@pytest.mark.parametrize("name", sorted(moto_patches.REGISTRY))
def test_a_patch_replaces_exactly_what_it_registers(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    registered = moto_patches.REGISTRY[name]
    assert registered.summary and registered.replaces
    before = [moto_patches.resolve(path) for path in registered.replaces]
    replaced: list[str] = []

    def recording(target: Any, attribute: str, value: Any) -> None:
        owner = (
            target.__name__
            if isinstance(target, ModuleType)
            else f"{target.__module__}.{target.__qualname__}"
        )
        replaced.append(f"{owner}.{attribute}")
        monkeypatch.setattr(target, attribute, value)

    assert moto_patches.install([name], recording) == [name]
    after = [moto_patches.resolve(path) for path in registered.replaces]
    assert all(b is not a for b, a in zip(before, after, strict=True))
    assert sorted(replaced) == sorted(registered.replaces)
    monkeypatch.undo()
    assert [moto_patches.resolve(path) for path in registered.replaces] == before


def test_a_moto_other_than_the_pinned_one_runs_unpatched_with_one_warning_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    names = moto_patches.EMULATOR + moto_patches.LARGE_TABLES
    before = {path: moto_patches.resolve(path) for n in names for path in moto_patches.REGISTRY[n].replaces}
    monkeypatch.setattr(moto_patches.registry, "installed_moto_version", lambda: "5.3.0")

    assert moto_patches.install(names, monkeypatch.setattr) == []
    assert moto_patches.install(names) == []

    assert {path: moto_patches.resolve(path) for path in before} == before
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2  # one line per install
    assert "moto 5.3.0" in lines[0] and "5.2.5" in lines[0] and "unpatched" in lines[0]


def test_the_one_patch_that_answers_otherwise_than_moto_says_what_it_fixes() -> None:
    fixing = {name: p.fixes for name, p in moto_patches.REGISTRY.items() if p.fixes}
    assert list(fixing) == ["sqs-deletes"]
    assert "lost" in fixing["sqs-deletes"]


# --- DynamoDB ----------------------------------------------------------------------------------

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


def test_kept_condition_parses_answer_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [_answers(*condition) for condition in CONDITIONS]
    original = ConditionExpressionParser.parse
    patch(monkeypatch, "dynamodb-condition-parse")
    assert ConditionExpressionParser.parse is not original
    for _ in range(2):  # parsed and kept, then found
        assert [_answers(*condition) for condition in CONDITIONS] == expected


def test_a_kept_parse_does_not_follow_a_later_change_to_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    patch(monkeypatch, "dynamodb-condition-parse")
    item = Item(DynamoType({"S": "p"}), None, {"pk": {"S": "p"}, "doc": {"M": {"a": {"S": "x"}}}})
    values = {":doc": {"M": {"a": {"S": "x"}}}}
    first = ConditionExpressionParser("#d = :doc", {"#d": "doc"}, values).parse()
    assert first.expr(item)
    values[":doc"]["M"]["a"]["S"] = "y"  # the first request's values, changed after it was answered
    again = ConditionExpressionParser("#d = :doc", {"#d": "doc"}, {":doc": {"M": {"a": {"S": "x"}}}})
    assert again.parse().expr(item)


def test_quick_set_values_answer_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    values = [
        {"NS": ["1", "2.50", "-3"]},
        {"SS": ["a", "b"]},
        {"S": "x"},
        {"L": [{"S": "y"}]},
        {"BS": [b"z"]},
    ]
    original = DynamoType.cast_value
    expected = [DynamoType(value).cast_value for value in values]
    patch(monkeypatch, "dynamodb-set-values")
    assert DynamoType.cast_value is not original
    assert [DynamoType(value).cast_value for value in values] == expected


def _traversers() -> list[type]:
    from moto.dynamodb.parsing import validators  # noqa: F401  (defines the processors)
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser

    found, frontier = [], [DepthFirstTraverser]
    while frontier:
        for subclass in frontier.pop().__subclasses__():
            found.append(subclass)
            frontier.append(subclass)
    return found


def test_kept_node_kinds_are_each_processor_s_own(monkeypatch: pytest.MonkeyPatch) -> None:
    processors = [kind.__new__(kind) for kind in _traversers()]
    assert len(processors) >= 8

    def kinds() -> list[tuple[type, ...]]:
        return [p.nodes_to_be_processed() for p in processors]

    unpatched_then_patched(monkeypatch, "dynamodb-expression-traversal", kinds)
    assert kinds() == kinds()  # kept, then found


def _dynamodb_scenario(
    table_setup: Callable[[Any], None], calls: Callable[[Any], list[Any]]
) -> Callable[[], Any]:
    """moto's answers to `calls`, on a fresh in-process account, with volatile fields removed."""

    def answers() -> Any:
        import boto3
        from moto import mock_aws

        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            table_setup(client)
            return [_without_metadata(answer) for answer in calls(client)]

    return answers


def _without_metadata(answer: Any) -> Any:
    if isinstance(answer, dict):
        return {k: _without_metadata(v) for k, v in answer.items() if k != "ResponseMetadata"}
    if isinstance(answer, list):
        return [_without_metadata(v) for v in answer]
    return answer


def _outcome(call: Callable[[], Any]) -> Any:
    from botocore.exceptions import ClientError

    try:
        return call()
    except ClientError as error:
        return {
            "error": error.response["Error"]["Code"],
            **{k: v for k, v in error.response.items() if k != "Error"},
        }


def _keyed_table(client: Any) -> None:
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.create_table(
        TableName="h",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(3):
        client.put_item(TableName="h", Item={"id": {"S": f"i{i}"}, "n": {"N": str(i)}})
    for p in range(4):
        for s in range(6):
            item = {
                "pk": {"S": f"p{p}"},
                "sk": {"S": f"s{s}"},
                "n": {"N": str(p * 10 + s)},
                "g": {"S": f"g{s % 2}"},
            }
            client.put_item(TableName="t", Item=item)


def test_quick_expression_traversal_updates_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    key = {"pk": {"S": "p1"}, "sk": {"S": "s1"}}

    def calls(client: Any) -> list[Any]:
        update = client.update_item
        return [
            update(
                TableName="t",
                Key=key,
                UpdateExpression="SET #n = #n + :one, l = list_append(if_not_exists(l, :empty), :l) "
                "REMOVE g ADD tags :tags",
                ExpressionAttributeNames={"#n": "n"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":empty": {"L": []},
                    ":l": {"L": [{"S": "x"}]},
                    ":tags": {"SS": ["a", "b"]},
                },
                ReturnValues="ALL_NEW",
            ),
            _outcome(
                lambda: update(
                    TableName="t",
                    Key=key,
                    UpdateExpression="SET n = n + :text",
                    ExpressionAttributeValues={":text": {"S": "no number"}},
                )
            ),
            _outcome(lambda: update(TableName="t", Key=key, UpdateExpression="SET a = missing.path")),
            client.get_item(TableName="t", Key=key),
        ]

    unpatched_then_patched(
        monkeypatch, "dynamodb-expression-traversal", _dynamodb_scenario(_keyed_table, calls)
    )


def test_touched_item_rollback_answers_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    def calls(client: Any) -> list[Any]:
        def put(pk: str, sk: str, **condition: Any) -> dict[str, Any]:
            return {
                "Put": {
                    "TableName": "t",
                    "Item": {"pk": {"S": pk}, "sk": {"S": sk}, "g": {"S": "new"}},
                    **condition,
                }
            }

        cancelled = _outcome(
            lambda: client.transact_write_items(
                TransactItems=[
                    put("p0", "s0"),  # replaces an item, then rolled back
                    put("p9", "s9"),  # a new item, then rolled back
                    {
                        "Update": {
                            "TableName": "t",
                            "Key": {"pk": {"S": "p1"}, "sk": {"S": "s0"}},
                            "UpdateExpression": "SET n = :n",
                            "ExpressionAttributeValues": {":n": {"N": "-1"}},
                        }
                    },
                    {"Put": {"TableName": "h", "Item": {"id": {"S": "i1"}, "n": {"N": "-1"}}}},  # rolled back
                    {"Delete": {"TableName": "h", "Key": {"id": {"S": "i2"}}}},  # rolled back
                    {"Put": {"TableName": "h", "Item": {"id": {"S": "i9"}}}},  # a new item, rolled back
                    put("p2", "s0", ConditionExpression="attribute_not_exists(pk)"),  # fails: cancels all
                ]
            )
        )
        done = client.transact_write_items(TransactItems=[put("p3", "s7"), put("p3", "s0")])
        tables = [sorted(map(str, client.scan(TableName=name)["Items"])) for name in ("t", "h")]
        return [cancelled, done, *tables]

    unpatched_then_patched(
        monkeypatch, "dynamodb-transaction-rollback", _dynamodb_scenario(_keyed_table, calls)
    )


def test_partition_only_key_queries_answer_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    def calls(client: Any) -> list[Any]:
        first = client.query(
            TableName="t",
            KeyConditionExpression="pk = :p AND sk > :s",
            FilterExpression="n < :most",
            ExpressionAttributeValues={":p": {"S": "p2"}, ":s": {"S": "s0"}, ":most": {"N": "25"}},
            ScanIndexForward=False,
            Limit=3,
        )
        return [
            first,
            client.query(
                TableName="t",
                KeyConditionExpression="pk = :p AND sk > :s",
                FilterExpression="n < :most",
                ExpressionAttributeValues={":p": {"S": "p2"}, ":s": {"S": "s0"}, ":most": {"N": "25"}},
                ScanIndexForward=False,
                ExclusiveStartKey=first["LastEvaluatedKey"],
            ),
            client.query(
                TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p1"}}
            ),
            client.query(
                TableName="t",
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "none"}},
            ),
            client.query(
                TableName="h", KeyConditionExpression="id = :i", ExpressionAttributeValues={":i": {"S": "i1"}}
            ),
            client.query(
                TableName="t",
                IndexName="by-g",
                KeyConditionExpression="g = :g",
                ExpressionAttributeValues={":g": {"S": "g1"}},
            ),
        ]

    unpatched_then_patched(monkeypatch, "dynamodb-key-queries", _dynamodb_scenario(_keyed_table, calls))


def _listed_table(client: Any) -> None:
    client.create_table(
        TableName="l",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gsi1pk", "gsi1sk")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": [
                    {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(30):
        item = {"pk": {"S": f"p{i % 7}"}, "sk": {"S": f"s{i:02}"}, "n": {"N": str(i)}}
        if i % 5:  # some items are in no listing
            item |= {"gsi1pk": {"S": f"L{i % 3}"}, "gsi1sk": {"S": f"id{29 - i:02}"}}
        client.put_item(TableName="l", Item=item)


def test_index_queries_answer_as_moto_does_as_items_come_move_and_go(monkeypatch: pytest.MonkeyPatch) -> None:
    def listing(client: Any, pk: str, **extra: Any) -> Any:
        return client.query(
            TableName="l",
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk" + (" AND gsi1sk > :after" if "after" in extra else ""),
            ExpressionAttributeValues={":pk": {"S": pk}}
            | ({":after": {"S": extra.pop("after")}} if "after" in extra else {}),
            **extra,
        )

    def every_listing(client: Any) -> list[Any]:
        return [listing(client, f"L{k}") for k in range(4)]

    def calls(client: Any) -> list[Any]:
        answers = every_listing(client)  # the first index query builds the listing
        first = listing(client, "L1", Limit=3)
        answers += [first, listing(client, "L1", Limit=3, ExclusiveStartKey=first["LastEvaluatedKey"])]
        answers.append(listing(client, "L2", after="id10", ScanIndexForward=False))
        key = {"pk": {"S": "p1"}, "sk": {"S": "s01"}}
        client.update_item(  # moves an item to another listing
            TableName="l",
            Key=key,
            UpdateExpression="SET gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "L3"}},
        )
        client.update_item(  # a new item, created by an update, into a listing
            TableName="l",
            Key={"pk": {"S": "new"}, "sk": {"S": "u"}},
            UpdateExpression="SET gsi1pk = :pk, gsi1sk = :sk",
            ExpressionAttributeValues={":pk": {"S": "L0"}, ":sk": {"S": "id99"}},
        )
        client.update_item(  # leaves every listing
            TableName="l",
            Key={"pk": {"S": "p2"}, "sk": {"S": "s02"}},
            UpdateExpression="REMOVE gsi1pk",
        )
        client.delete_item(TableName="l", Key={"pk": {"S": "p3"}, "sk": {"S": "s03"}})
        client.put_item(  # replaced, in another listing
            TableName="l",
            Item={"pk": {"S": "p4"}, "sk": {"S": "s04"}, "gsi1pk": {"S": "L2"}, "gsi1sk": {"S": "id00"}},
        )
        client.batch_write_item(
            RequestItems={
                "l": [
                    {
                        "PutRequest": {
                            "Item": {
                                "pk": {"S": "b"},
                                "sk": {"S": "b"},
                                "gsi1pk": {"S": "L1"},
                                "gsi1sk": {"S": "b"},
                            }
                        }
                    },
                    {"DeleteRequest": {"Key": {"pk": {"S": "p6"}, "sk": {"S": "s06"}}}},
                ]
            }
        )
        moved = {
            "Update": {
                "TableName": "l",
                "Key": {"pk": {"S": "p0"}, "sk": {"S": "s07"}},
                "UpdateExpression": "SET gsi1pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": "L3"}},
            }
        }
        failing = {
            "ConditionCheck": {
                "TableName": "l",
                "Key": {"pk": {"S": "p1"}, "sk": {"S": "s08"}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        answers.append(_outcome(lambda: client.transact_write_items(TransactItems=[moved, failing])))
        answers += every_listing(client)
        client.transact_write_items(TransactItems=[moved])
        return answers + every_listing(client)

    unpatched_then_patched(monkeypatch, "dynamodb-key-queries", _dynamodb_scenario(_listed_table, calls))


# --- SQS ---------------------------------------------------------------------------------------


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


def test_quick_deletes_answer_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.sqs.models import Queue

    original = Queue.delete_message
    expected = _deletes(Queue)
    patch(monkeypatch, "sqs-deletes")
    assert Queue.delete_message is not original
    assert _deletes(Queue) == expected
    assert expected[0] == ["deleted", "deleted", "deleted", "deleted", "invalid", "deleted"]
    assert expected[1] == ["m2", "m4"]


class _SendLandsAfterTheScan(list):  # type: ignore[type-arg]
    """A queue's message list on which a send lands each time a full scan of it ends, as a send on
    another thread does while DeleteMessage runs."""

    def __init__(self, sends: list[Any]) -> None:
        super().__init__()
        self.sends = sends
        self.landed: list[Any] = []

    def __iter__(self) -> Any:
        yield from list.__iter__(self)
        if self.sends:
            self.landed.append(self.sends.pop(0))
            self.append(self.landed[-1])


def _messages_sent_during_a_delete_survive() -> bool:
    from moto.sqs.models import Message, Queue

    queue = Queue("race", region="us-east-1", account_id="123456789012")
    messages = queue._messages = _SendLandsAfterTheScan(
        [Message(f"late{i}", "sent meanwhile") for i in range(3)]
    )
    for i in range(3):
        message = Message(f"m{i}", f"body {i}")
        message.receipt_handle = f"h{i}"
        messages.append(message)
    queue.delete_message("h0")
    messages.sends.clear()  # no more sends while the answer is read
    assert messages.landed  # a send did land during the delete
    return [m.id for m in queue._messages] == ["m1", "m2", *(m.id for m in messages.landed)]


def test_quick_deletes_keep_a_message_sent_while_they_scan_which_moto_loses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert not _messages_sent_during_a_delete_survive()  # moto's race: a sent message is lost
    patch(monkeypatch, "sqs-deletes")
    assert _messages_sent_during_a_delete_survive()


def test_quick_retention_check_answers_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.sqs.models import Message, SQSBackend

    backend = SQSBackend("us-east-1", "123456789012")
    backend.create_queue("kept", MessageRetentionPeriod="60")
    fresh, old = Message("fresh", "body"), Message("old", "body")
    fresh.sent_timestamp = int(time.time() * 1000)
    old.sent_timestamp = int((time.time() - 120) * 1000)
    original = SQSBackend.is_message_valid_based_on_retention_period
    expected = [backend.is_message_valid_based_on_retention_period("kept", m) for m in (fresh, old)]
    patch(monkeypatch, "sqs-retention-check")
    assert SQSBackend.is_message_valid_based_on_retention_period is not original
    assert [backend.is_message_valid_based_on_retention_period("kept", m) for m in (fresh, old)] == expected
    assert expected == [True, False]


def test_quick_sqs_clock_answers_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime

    from moto.sqs import models

    moto_s = models.unix_time_millis
    moment = datetime.datetime(2025, 3, 1, 12, 30, 15, 250_000)
    patch(monkeypatch, "sqs-clock")
    quick = models.unix_time_millis
    assert quick is not moto_s
    assert quick(moment) == moto_s(moment)
    for _ in range(100):
        before, now, after = moto_s(), quick(), moto_s()
        assert before - 1 <= now <= after + 1  # the same clock, in the same unit, to the millisecond


def test_quick_standard_queue_sends_answer_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    def answers() -> Any:
        import boto3
        from moto import mock_aws

        with mock_aws():
            sqs = boto3.client("sqs", region_name="us-east-1")
            fifo_attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
            standard = sqs.create_queue(QueueName="standard", Attributes={"VisibilityTimeout": "40"})[
                "QueueUrl"
            ]
            fifo = sqs.create_queue(QueueName="q.fifo", Attributes=fifo_attributes)["QueueUrl"]
            seen: list[Any] = [
                sqs.create_queue(QueueName="standard", Attributes={"VisibilityTimeout": "40"})["QueueUrl"],
                _outcome(
                    lambda: sqs.create_queue(QueueName="standard", Attributes={"VisibilityTimeout": "41"})
                ),
            ]
            for i in range(3):
                seen.append(sqs.send_message(QueueUrl=standard, MessageBody=f"m{i}")["MD5OfMessageBody"])
            ids = [
                sqs.send_message(QueueUrl=fifo, MessageBody=b, MessageGroupId="g")["MessageId"] for b in "aab"
            ]
            seen.append([ids.index(i) for i in ids])  # the repeated body was deduplicated
            for url in (standard, fifo):
                attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
                seen.append({k: v for k, v in attributes.items() if not k.endswith("Timestamp")})
                seen.append(
                    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ContentBasedDeduplication"]).get(
                        "Attributes"
                    )
                )
                seen.append(
                    sorted(
                        m["Body"]
                        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
                    )
                )
            return [_without_metadata(answer) for answer in seen]

    unpatched_then_patched(monkeypatch, "sqs-standard-queue-sends", answers)


# --- every service -----------------------------------------------------------------------------


def test_kept_action_lists_are_moto_s_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core import responses
    from moto.dynamodb.responses import DynamoHandler
    from moto.ses.responses import EmailResponse
    from moto.sesv2.responses import SESV2Response
    from moto.sqs.responses import SQSResponse

    classes = [DynamoHandler, SQSResponse, EmailResponse, SESV2Response, responses.BaseResponse]
    original = responses.method_names_from_class
    expected = [original(kind) for kind in classes]
    patch(monkeypatch, "action-lookup")
    assert responses.method_names_from_class is not original
    for _ in range(2):  # found, then kept
        assert [responses.method_names_from_class(kind) for kind in classes] == expected
    assert "transact_write_items" in expected[0] and "receive_message" in expected[1]


def test_quick_random_strings_keep_moto_s_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.moto_api._internal import mock_random
    from moto.moto_api._internal.moto_random import MotoRandom
    from moto.sqs import models
    from moto.utilities.aws_headers import gen_amzn_requestid_long

    original = MotoRandom.get_random_string
    patch(monkeypatch, "random-strings")
    try:
        assert MotoRandom.get_random_string is not original
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
        assert re.fullmatch(r"[A-Za-z0-9]{30}", seeded)
    finally:
        mock_random.seed()

"""Trigger records packed into TriggerQueue message bodies (model.packed) and message bodies split
into SendMessageBatch calls (queues.batches): the limits (10 records and 256 KiB a message; 10
entries and 256 KiB a call), a record at the size limit alone, today's single-record body still
read, and a round trip that gives the records back equal and in order."""

from __future__ import annotations

import itertools
import json
import typing
from collections.abc import Iterator

import pytest
from clarion import queues
from clarion.model import SubscriberProfile, TriggerRecord
from clarion.model.packed import MAX_MESSAGE_BYTES, RECORDS_PER_MESSAGE, alone, pack_messages, records_of
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo


def bodies_of(records: list[TriggerRecord]) -> list[str]:
    """The message bodies intake would send for these records."""
    return [message.body for message in pack_messages(records)]


def record(index: int, payload: dict[str, object] | None = None) -> TriggerRecord:
    return TriggerRecord(
        environment_id="development",
        bulk_id="b1",
        index=index,
        transaction_id=f"tx-{index}",
        workflow_id="welcome",
        recipients=[SubscriberProfile(subscriber_id=f"s{index}")],
        payload=payload or {},
        accepted_at="2026-01-01T00:00:00Z",
    )


def sized(index: int, size: int) -> TriggerRecord:
    """A record whose JSON body is exactly `size` bytes (UTF-8)."""
    bare = len(alone(record(index, {"pad": ""})).encode())
    return record(index, {"pad": "x" * (size - bare)})


def test_a_hundred_small_records_make_ten_messages_of_ten_in_order() -> None:
    records = [record(i) for i in range(100)]

    bodies = bodies_of(records)

    assert len(bodies) == 10
    assert all(len(records_of(body)) == RECORDS_PER_MESSAGE for body in bodies)
    assert [r for body in bodies for r in records_of(body)] == records


def test_each_record_is_serialised_once_into_its_body() -> None:
    records = [record(i, {"name": "Ada", "n": i}) for i in range(3)]

    (body,) = bodies_of(records)

    assert body == '{"records":[' + ",".join(alone(r) for r in records) + "]}"
    assert json.loads(body) == {"records": [json.loads(alone(r)) for r in records]}


def test_a_lone_record_keeps_the_single_record_form() -> None:
    lone = record(0)

    assert bodies_of([lone]) == [alone(lone)]


def test_no_packed_body_passes_the_message_limit() -> None:
    records = [sized(i, 60_000) for i in range(10)]  # four fit in 256 KiB, not five

    messages = pack_messages(records)

    assert [len(m.records) for m in messages] == [4, 4, 2]
    assert all(len(m.body.encode()) <= MAX_MESSAGE_BYTES for m in messages)
    assert [r for m in messages for r in m.records] == records


def test_a_record_at_the_size_limit_goes_alone_between_its_neighbours() -> None:
    big = sized(1, MAX_MESSAGE_BYTES)
    records = [record(0), big, record(2), record(3)]

    messages = pack_messages(records)

    assert [m.records for m in messages] == [(records[0],), (big,), (records[2], records[3])]
    assert messages[1].body == alone(big)
    assert len(messages[1].body.encode()) == MAX_MESSAGE_BYTES


def test_sizes_count_utf8_bytes_not_characters() -> None:
    records = [record(i, {"pad": "é" * 40_000}) for i in range(4)]  # 80 KB each in UTF-8

    messages = pack_messages(records)

    assert [len(m.records) for m in messages] == [3, 1]
    assert all(len(m.body.encode()) <= MAX_MESSAGE_BYTES for m in messages)


def _optional_fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[tuple[str, FieldInfo]]:
    """Every field, in `model` and the models its fields hold (recursively), that admits None."""
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        arguments = typing.get_args(info.annotation)
        if info.annotation is type(None) or type(None) in arguments:
            yield f"{model.__name__}.{name}", info
        stack = [info.annotation]
        while stack:
            kind = stack.pop()
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                yield from _optional_fields(kind, seen)
            stack.extend(typing.get_args(kind))


def test_every_field_of_a_record_that_may_be_none_defaults_to_none() -> None:
    """What lets a body leave out the None fields (packed.alone): reading it back gives each its
    default, None, again. A field added with another default would be read back changed."""
    fields = dict(_optional_fields(TriggerRecord, set()))

    assert {"TriggerRecord.actor", "SubscriberProfile.email", "Continuation.cursor", "Attachment.url"} <= set(
        fields
    )
    assert {
        name for name, info in fields.items() if info.default is not None or info.default_factory
    } == set()


def test_a_body_leaves_out_none_fields_and_keeps_the_nulls_a_payload_holds() -> None:
    full = record(0, {"plan": None, "nested": {"seat": None}, "list": [None]}).model_copy(
        update={"actor": None, "cancellation_key": None}
    )

    body = json.loads(alone(full))

    assert "actor" not in body and "email" not in body["recipients"][0]
    assert body["payload"] == {"plan": None, "nested": {"seat": None}, "list": [None]}
    assert records_of(alone(full)) == [full]
    assert len(alone(full)) < len(full.model_dump_json()) * 2 / 3


def test_the_single_record_body_of_messages_queued_before_packing_is_read() -> None:
    old = record(5, {"plan": "pro"})

    assert records_of(old.model_dump_json()) == [old]
    assert records_of(json.dumps({"records": [json.loads(old.model_dump_json())]}, indent=1)) == [old]


@pytest.mark.parametrize(
    "body",
    ["", "not json", "{}", '{"records":[]}', '{"records":[{"index":1}]}', '{"records":[],"x":1}', "[1]"],
)
def test_a_body_that_is_neither_form_raises_a_validation_error(body: str) -> None:
    with pytest.raises(ValidationError):
        records_of(body)


@settings(max_examples=60, deadline=None)
@given(
    pads=st.lists(st.integers(min_value=0, max_value=120_000), max_size=30),
    text=st.text(max_size=20),
)
def test_packing_round_trips_within_the_limits(pads: list[int], text: str) -> None:
    records = [record(i, {"pad": "y" * pad, "text": text, "none": None}) for i, pad in enumerate(pads)]

    messages = pack_messages(records)

    assert [r for m in messages for r in m.records] == records
    assert [r for m in messages for r in records_of(m.body)] == records
    for message in messages:
        assert 1 <= len(message.records) <= RECORDS_PER_MESSAGE
        assert len(message.records) == 1 or len(message.body.encode()) <= MAX_MESSAGE_BYTES
    for this, following in itertools.pairwise(messages):  # greedy: the next would not fit
        joined = pack_messages([*this.records, following.records[0]])
        assert len(joined) == 2


def test_send_batches_hold_ten_entries_and_256_kib_of_bodies_at_most() -> None:
    small = [queues.Message(f"s{i}", "x" * 100) for i in range(25)]
    large = [queues.Message(f"l{i}", "y" * 100_000) for i in range(5)]

    assert [len(call) for call in queues.batches(small)] == [10, 10, 5]
    assert [[m.id for m in call] for call in queues.batches(large)] == [["l0", "l1"], ["l2", "l3"], ["l4"]]
    calls = queues.batches([*large[:2], *small[:3], large[2]])
    assert [[m.id for m in call] for call in calls] == [["l0", "l1", "s0", "s1", "s2"], ["l2"]]
    assert all(sum(len(m.body.encode()) for m in call) <= queues.BATCH_BYTES for call in calls)


def test_a_body_at_the_call_limit_fills_its_call_and_one_past_it_goes_alone() -> None:
    full = queues.Message("full", "z" * queues.BATCH_BYTES)
    over = queues.Message("over", "z" * (queues.BATCH_BYTES + 1))
    tiny = queues.Message("tiny", "{}")

    assert [[m.id for m in call] for call in queues.batches([tiny, full, over, tiny])] == [
        ["tiny"],
        ["full"],
        ["over"],
        ["tiny"],
    ]

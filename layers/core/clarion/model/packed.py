"""The TriggerQueue's message bodies: the one place that knows their two forms.

- one record: the record's own JSON, as every message was before packing; parts (delays, topic
  pages) and records re-enqueued alone keep this form;
- several records: `{"records":[<record JSON>, ...]}`, at most RECORDS_PER_MESSAGE records and
  MAX_MESSAGE_BYTES bytes (UTF-8). Intake packs a bulk's records so that a 100-record bulk costs
  ten messages, one SendMessageBatch when their bytes fit, instead of ten calls.

A record's JSON leaves out its fields that are None (`exclude_none`): every field of the record's
models that may be None defaults to None (tests/unit/test_packed_messages.py walks them), so the
body reads back as the same record, a third smaller (a profile's unset fields, no actor, no
continuation, ...). Values inside payloads, overrides and data are kept as sent, nulls included.

`records_of` reads both forms, with or without the None fields, so messages already queued
still run."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from clarion.model.trigger import TriggerRecord

RECORDS_PER_MESSAGE = 10
MAX_MESSAGE_BYTES = 262_144  # SQS's classic message limit (the template's queues set no MaximumMessageSize)

_OPEN = '{"records":['
_CLOSE = "]}"
_FRAME_BYTES = len(_OPEN) + len(_CLOSE)
_LIST_OPEN = '{"records":'  # around a JSON list of records: the same bytes as _OPEN ... _CLOSE
_LIST_CLOSE = "}"
_LIST_FRAME_BYTES = len(_LIST_OPEN) + len(_LIST_CLOSE)
_PACKED = re.compile(r'\s*\{\s*"records"\s*:')


class _PackedBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    records: list[TriggerRecord] = Field(min_length=1)


_RECORDS = TypeAdapter(list[TriggerRecord])


@dataclass(frozen=True)
class PackedMessage:
    """One message body and the records it holds, in order."""

    records: tuple[TriggerRecord, ...]
    body: str


def pack_messages(records: Sequence[TriggerRecord]) -> list[PackedMessage]:
    """The records in order, packed greedily into as few bodies as the limits allow; a record too
    large to share a body goes alone, in the single-record form. Ten records at a time are
    serialised in one call while their body fits (the usual case); from the first ten that do
    not, the rest are packed record by record."""
    messages: list[PackedMessage] = []
    for start in range(0, len(records), RECORDS_PER_MESSAGE):
        group = list(records[start : start + RECORDS_PER_MESSAGE])
        listed = _RECORDS.dump_json(group, exclude_none=True) if len(group) > 1 else b""
        if not listed or len(listed) + _LIST_FRAME_BYTES > MAX_MESSAGE_BYTES:
            return messages + _packed_one_by_one(records[start:])
        messages.append(PackedMessage(tuple(group), _LIST_OPEN + listed.decode() + _LIST_CLOSE))
    return messages


def _packed_one_by_one(records: Sequence[TriggerRecord]) -> list[PackedMessage]:
    """pack_messages' rule, each record serialised on its own and measured."""
    messages: list[PackedMessage] = []
    group: list[TriggerRecord] = []
    texts: list[str] = []
    size = _FRAME_BYTES
    for record in records:
        text = alone(record)
        length = len(text.encode())
        separator = 1 if texts else 0
        if texts and (len(texts) == RECORDS_PER_MESSAGE or size + separator + length > MAX_MESSAGE_BYTES):
            messages.append(_message(group, texts))
            group, texts, size, separator = [], [], _FRAME_BYTES, 0
        group.append(record)
        texts.append(text)
        size += separator + length
    if texts:
        messages.append(_message(group, texts))
    return messages


def alone(record: TriggerRecord) -> str:
    """The body of a message that holds this record alone."""
    return record.model_dump_json(exclude_none=True)


def records_of(body: str) -> list[TriggerRecord]:
    """The records a TriggerQueue message holds, in either form; pydantic's ValidationError if
    the body is neither."""
    if _PACKED.match(body):
        return _PackedBody.model_validate_json(body).records
    return [TriggerRecord.model_validate_json(body)]


def _message(group: list[TriggerRecord], texts: list[str]) -> PackedMessage:
    body = texts[0] if len(texts) == 1 else _OPEN + ",".join(texts) + _CLOSE
    return PackedMessage(tuple(group), body)

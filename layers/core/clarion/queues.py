"""Sending to SQS in batches of at most ten messages and BATCH_BYTES of bodies, retrying the entries
SQS refuses. Every producer (the API's fan-out, the worker's parts and outcomes) sends through here."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clarion import aws
from clarion.config import settings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

_ATTEMPTS = 3
BATCH_ENTRIES = 10
BATCH_BYTES = 262_144  # SendMessageBatch's classic limit on the sum of its bodies (AWS now allows 1 MiB)


def trigger_queue_for(bulk_id: str) -> str:
    """The trigger queue a bulk's records (and the parts they spawn) go to: the template's
    TriggerQueues spread by bulk id, each queue with its own WorkerFunction event source."""
    urls = settings().trigger_queues
    return urls[zlib.crc32(bulk_id.encode()) % len(urls)]


def trigger_queue_of(event_source_arn: str) -> str:
    """The URL of the trigger queue a received record came from (its eventSourceARN)."""
    name = event_source_arn.rsplit(":", 1)[-1]
    urls = settings().trigger_queues
    return next((url for url in urls if url.rstrip("/").rsplit("/", 1)[-1] == name), urls[0])


@dataclass(frozen=True)
class Message:
    id: str  # unique within one call
    body: str
    delay_seconds: int = 0


def send(queue_url: str, messages: Sequence[Message], client: SQSClient | None = None) -> dict[str, str]:
    """Send all; returns {message id: error} for those SQS still refused after retries."""
    client = client or aws.sqs()
    refused: dict[str, str] = {}
    for call in batches(messages):
        pending = {m.id: m for m in call}
        errors: dict[str, str] = {}
        for _ in range(_ATTEMPTS):
            answer = client.send_message_batch(
                QueueUrl=queue_url, Entries=[_entry(m) for m in pending.values()]
            )
            for sent in answer.get("Successful", []):
                pending.pop(sent["Id"], None)
            errors = {f["Id"]: f.get("Message", f["Code"]) for f in answer.get("Failed", [])}
            if not pending:
                break
        refused |= {message_id: errors.get(message_id, "refused") for message_id in pending}
    return refused


def batches(messages: Sequence[Message]) -> list[list[Message]]:
    """The messages in order, split into SendMessageBatch calls of at most BATCH_ENTRIES entries
    and BATCH_BYTES bytes of bodies (UTF-8); a message larger than the limit goes alone (SQS
    refuses it, and it is reported like any refusal)."""
    calls: list[list[Message]] = []
    call: list[Message] = []
    size = 0
    for message in messages:
        length = len(message.body.encode())
        if call and (len(call) == BATCH_ENTRIES or size + length > BATCH_BYTES):
            calls.append(call)
            call, size = [], 0
        call.append(message)
        size += length
    if call:
        calls.append(call)
    return calls


def _entry(message: Message) -> SendMessageBatchRequestEntryTypeDef:
    entry: SendMessageBatchRequestEntryTypeDef = {"Id": message.id, "MessageBody": message.body}
    if message.delay_seconds:
        entry["DelaySeconds"] = message.delay_seconds
    return entry


def delete(queue_url: str, receipt_handles: Sequence[str], client: SQSClient | None = None) -> None:
    """Delete these received messages now (DeleteMessageBatch per ten), before the invocation
    that received them ends; a handle SQS refuses is left to the event source mapping."""
    client = client or aws.sqs()
    for start in range(0, len(receipt_handles), 10):
        chunk = receipt_handles[start : start + 10]
        client.delete_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)]
        )

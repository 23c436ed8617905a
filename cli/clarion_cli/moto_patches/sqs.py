"""moto's SQS, made to cost the same however full a queue is."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from clarion_cli.moto_patches.registry import SetAttr, register


@register("sqs-clock", replaces=("moto.sqs.models.unix_time_millis",))
def sqs_clock(setattr: SetAttr) -> None:
    """moto's SQS asks for "now" through datetime arithmetic for every message it looks at (each
    receive checks every message's visibility): most of the emulator's time under load. The
    current time in milliseconds is time.time() * 1000: the same value, a hundred times cheaper."""
    from moto.sqs import models

    original = models.unix_time_millis

    def unix_time_millis(dt: Any = None) -> float:
        return time.time() * 1000.0 if dt is None else float(original(dt))

    setattr(models, "unix_time_millis", unix_time_millis)


@register(
    "sqs-retention-check", replaces=("moto.sqs.models.SQSBackend.is_message_valid_based_on_retention_period",)
)
def retention_check(setattr: SetAttr) -> None:
    """moto's ReceiveMessage checks each message it returns against the queue's retention period
    by asking for the queue's attributes, which counts every message in the queue three times:
    receives slow down as a queue fills. The period is the queue's own field. Same answers."""
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention_period + message.sent_timestamp / 1000 > time.time())

    setattr(
        SQSBackend, "is_message_valid_based_on_retention_period", is_message_valid_based_on_retention_period
    )


@register(
    "sqs-deletes",
    replaces=("moto.sqs.models.Queue.delete_message",),
    fixes="moto's DeleteMessage builds a new message list and puts it in place of the one it "
    "scanned: a message another request sends while it scans goes onto the old list and is lost. "
    "This one removes the deleted message from the list in place, so the sent message stays.",
)
def deletes(setattr: SetAttr) -> None:
    """moto's DeleteMessage looks for the receipt handle through every message of the queue
    twice, building each message's list of past handles both times: a fifth of the queues'
    time while a bulk waits in them. One pass, the same checks, the same answers; and the
    message leaves the list in place (moto put a new list in, dropping a message that another
    request sent while it looked)."""
    from moto.sqs.exceptions import ReceiptHandleIsInvalid
    from moto.sqs.models import Queue

    def delete_message(self: Any, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return  # already deleted: deleting again succeeds
        found = [
            message
            for message in self._messages
            if message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles
        ]
        if not found:
            raise ReceiptHandleIsInvalid()
        for message in found:
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)
            self._messages.remove(message)  # in place: a message sent meanwhile stays

    setattr(Queue, "delete_message", delete_message)


@register("sqs-standard-queue-sends", replaces=("moto.sqs.models.Queue.attributes",))
def standard_queue_sends(setattr: SetAttr) -> None:
    """moto's SendMessage reads `queue.attributes` to learn whether a queue deduplicates by
    content, and computing them counts every message in the queue: sends slow down as a queue
    fills (300 messages/s empty, 70 at 1,000). A standard queue has no such attribute, so its
    mapping is built only when something else is read from it. Same answers, no scan."""
    from moto.sqs.models import Queue

    full = Queue.attributes.fget
    assert full is not None

    class _Attributes(Mapping[str, Any]):
        def __init__(self, queue: Any) -> None:
            self.queue = queue
            self.built: dict[str, Any] | None = None

        def _all(self) -> dict[str, Any]:
            if self.built is None:
                self.built = full(self.queue)
            return self.built

        def get(self, name: str, default: Any = None) -> Any:
            if name == "ContentBasedDeduplication" and not self.queue.fifo_queue:
                return default  # never set on a standard queue
            return self._all().get(name, default)

        def __getitem__(self, name: str) -> Any:
            return self._all()[name]

        def __iter__(self) -> Iterator[str]:
            return iter(self._all())

        def __len__(self) -> int:
            return len(self._all())

    def attributes(queue: Any) -> Any:
        return _Attributes(queue)

    setattr(Queue, "attributes", property(attributes))

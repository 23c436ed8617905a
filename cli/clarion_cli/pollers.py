"""One poller per SQS event source mapping, as Lambda's: receive up to BatchSize (within the
batching window), invoke, delete what succeeded. A failed record is made visible again at
once (rather than after the visibility timeout, to keep local runs fast) and moto's redrive
policy moves it to the DLQ after maxReceiveCount receives, as SQS does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from clarion_cli.lambda_events import delete_messages, failed_message_ids, release_messages, sqs_event
from clarion_cli.runtime import InvocationError
from clarion_cli.template import SqsSource, Template


class Poller(threading.Thread):
    def __init__(
        self,
        template: Template,
        function: str,
        source: SqsSource,
        invoke: Callable[[str, dict[str, Any]], Any],
        client: Any,
        log: Callable[[str], None],
    ) -> None:
        super().__init__(daemon=True, name=f"poller-{function}-{source.name}")
        self.function = function
        self.source = source
        self.invoke = invoke
        self.client = client
        self.log = log
        self.queue_url = template.queue_url(source.queue)
        self.queue_arn = template.get_att(source.queue, "Arn")
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                messages = self._receive()
                if messages:
                    self._deliver(messages)
            except Exception as error:  # a poller never dies; Lambda's keep polling too
                self.log(f"poller {self.function}/{self.source.name}: {type(error).__name__}: {error}")
                time.sleep(0.5)

    def _receive(self) -> list[dict[str, Any]]:
        """Up to BatchSize messages: keep receiving while they come, until the window closes."""
        messages: list[dict[str, Any]] = []
        window_ends = time.monotonic() + self.source.batching_window
        while len(messages) < self.source.batch_size and not self.stopping.is_set():
            received = self.client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.source.batch_size - len(messages)),
                WaitTimeSeconds=0 if messages else 1,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages += received
            if not received or time.monotonic() >= window_ends:
                break
        return messages

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        try:
            result = self.invoke(self.function, sqs_event(messages, self.queue_arn))
        except InvocationError as error:
            self.log(f"{self.function} failed a batch of {len(messages)}: {error}")
            release_messages(self.client, self.queue_url, messages)
            return
        failed_ids = failed_message_ids(result) if self.source.report_item_failures else set()
        delete_messages(
            self.client, self.queue_url, [m for m in messages if m["MessageId"] not in failed_ids]
        )
        if failed_ids:
            release_messages(
                self.client, self.queue_url, [m for m in messages if m["MessageId"] in failed_ids]
            )

"""A log line names what it is about by its correlation id (the bulk's id at the API, the record's
transactionId in the worker) and never carries a subscriber's address or a payload."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from clarion import aws
from clarion.observability import logger

from tests.integration.conftest import Cloud

EMAIL = "ada.lovelace.private@example.org"
SECRET = "payload-secret-7f3a9c"
WORKFLOW = {
    "workflowId": "receipt",
    "steps": [
        {"stepId": "inbox", "type": "in_app", "content": {"body": "Code {{ payload.code }}"}},
        {
            "stepId": "mail",
            "type": "email",
            "content": {"subject": "Receipt", "body": "Code {{ payload.code }}"},
        },
    ],
}
SES = {"providerId": "ses", "channel": "email", "active": True, "credentials": {"from": "team@example.com"}}


class Logs:
    """What the functions' Logger writes, line by line, exactly as Lambda would receive it."""

    def __init__(self, handler: logging.StreamHandler[Any]) -> None:
        self.handler = handler

    def take(self) -> str:
        """The text written since the last take."""
        buffer = self.handler.stream
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return str(text)


@pytest.fixture
def logs() -> Iterator[Logs]:
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(io.StringIO())
    try:
        yield Logs(handler)
    finally:
        handler.setStream(previous)


def log_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(text) for text in out.splitlines()]


def test_api_and_worker_log_lines_carry_the_correlation_id_and_no_personal_data(
    cloud: Cloud, logs: Logs
) -> None:
    aws.sesv2().create_email_identity(EmailIdentity="example.com")
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    assert cloud.api("POST", "/v1/integrations", SES)[0] == 201
    events = [
        {"name": "receipt", "to": {"subscriberId": "ada", "email": EMAIL}, "payload": {"code": SECRET}},
        {
            "name": "receipt",
            "to": {"subscriberId": "bob", "email": "bob@example.org"},
            "payload": {"code": 1},
        },
    ]
    logs.take()

    status, headers, answer = cloud.api("POST", "/v1/events/trigger/bulk", {"events": events})
    assert status == 201
    bulk_id = headers["Location"].rsplit("/", 1)[1]
    api_out = logs.take()
    cloud.drain()
    worker_out = logs.take()

    accepted = [line for line in log_lines(api_out) if line["message"] == "bulk accepted"]
    assert len(accepted) == 1
    assert accepted[0]["correlation_id"] == bulk_id and accepted[0]["bulk_id"] == bulk_id

    ada = answer["data"][0]["transactionId"]
    deliveries = [line for line in log_lines(worker_out) if line["message"] == "delivery"]
    assert {line["correlation_id"] for line in deliveries} == {d["transactionId"] for d in answer["data"]}
    (ada_mail,) = [line for line in deliveries if line["correlation_id"] == ada]
    assert ada_mail["bulk_id"] == bulk_id and ada_mail["transaction_id"] == ada
    assert ada_mail["status"] == "sent" and ada_mail["provider"] == "ses"

    for out in (api_out, worker_out):
        assert EMAIL not in out and "bob@example.org" not in out
        assert SECRET not in out
    # Lines after a record's run are no longer about that record.
    assert not [
        line
        for line in log_lines(worker_out)
        if "outcomes aggregated" in line["message"] and "transaction_id" in line
    ]

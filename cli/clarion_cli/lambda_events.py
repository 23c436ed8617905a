"""The events Lambda hands a function, and what an SQS event source mapping does with the answer.

One builder each for an API Gateway (REST, proxy) event and an SQS event, one reader each for
their answers, and the SQS calls a mapping makes around an invocation (receive a batch, delete
the successes, make the failures visible again). The local gateway and pollers, the in-process
harness of the tests and the bench all build their events here, so none can drift from another."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from clarion_cli.template import ACCOUNT_ID, REGION

PROXY_RESOURCE = "/v1/{proxy+}"  # the ApiFunction's greedy route in template.yaml
STAGE = "live"  # template.yaml's StageName default
SQS_BATCH_LIMIT = 10  # entries per SQS batch call, messages per receive


def api_gateway_event(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes | str | None = None,
    *,
    query: Mapping[str, Sequence[str]] | None = None,
    resource: str = PROXY_RESOURCE,
    path_parameters: Mapping[str, str] | None = None,
    stage: str = STAGE,
) -> dict[str, Any]:
    """An API Gateway REST proxy event. `query` holds every value of each parameter (the single
    value view keeps the last, as API Gateway does); a body that is not UTF-8 goes as base64."""
    text_body: str | None
    is_base64 = False
    if isinstance(body, str) or body is None:
        text_body = body
    elif not body:
        text_body = None
    else:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            text_body, is_base64 = base64.b64encode(body).decode(), True
    multi_query = {name: list(values) for name, values in (query or {}).items()}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent")},
            "accountId": ACCOUNT_ID,
            "apiId": "local",
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


def api_gateway_answer(result: Mapping[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """A proxy integration's answer as API Gateway sends it: status, headers (a name in both
    `headers` and `multiValueHeaders` takes the latter's values), body bytes."""
    headers: dict[str, str] = dict(result.get("headers") or {})
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(str(value) for value in values)
    body = result.get("body") or ""
    payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    return int(result.get("statusCode", 200)), headers, payload


def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda builds from messages ReceiveMessage returned."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for message in messages
        ]
    }


def failed_message_ids(answer: Any) -> set[str]:
    """The messages a function with ReportBatchItemFailures reported failed."""
    if not isinstance(answer, Mapping):
        return set()
    return {failure["itemIdentifier"] for failure in answer.get("batchItemFailures") or []}


def receive_messages(sqs: Any, queue_url: str, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` messages, receiving (without waiting) until the queue has no more."""
    messages: list[dict[str, Any]] = []
    while len(messages) < limit:
        received = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(SQS_BATCH_LIMIT, limit - len(messages)),
            AttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            break
        messages += received
    return messages


def delete_messages(sqs: Any, queue_url: str, messages: Sequence[Mapping[str, Any]]) -> None:
    """What a mapping does with the messages an invocation succeeded on."""
    for chunk in _chunks(messages):
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
        )


def release_messages(sqs: Any, queue_url: str, messages: Sequence[Mapping[str, Any]]) -> None:
    """Failed messages visible again at once (Lambda waits for the visibility timeout; local
    runs and tests do not), so their next receive counts towards the redrive policy."""
    for chunk in _chunks(messages):
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(chunk)
            ],
        )


def _chunks(messages: Sequence[Mapping[str, Any]]) -> Iterator[Sequence[Mapping[str, Any]]]:
    for start in range(0, len(messages), SQS_BATCH_LIMIT):
        yield messages[start : start + SQS_BATCH_LIMIT]

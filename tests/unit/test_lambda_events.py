"""The Lambda events the gateway, pollers, tests and bench share: read back as Powertools reads
them, and the answers read as API Gateway sends them."""

from __future__ import annotations

import base64
from pathlib import Path

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent, SQSEvent
from clarion_cli.in_process import LambdaContext
from clarion_cli.lambda_events import (
    api_gateway_answer,
    api_gateway_event,
    failed_message_ids,
    sqs_event,
)
from clarion_cli.template import Function


def test_a_proxy_event_reads_back_as_the_request_it_was() -> None:
    event = APIGatewayProxyEvent(
        api_gateway_event(
            "POST",
            "/v1/events/trigger/bulk",
            {"Content-Type": "application/json", "User-Agent": "sdk/1"},
            b'{"events": []}',
            query={"limit": ["1", "2"], "cursor": [""]},
            path_parameters={"proxy": "events/trigger/bulk"},
        )
    )
    assert (event.http_method, event.path, event.resource) == (
        "POST",
        "/v1/events/trigger/bulk",
        "/v1/{proxy+}",
    )
    assert event.body == '{"events": []}' and not event.is_base64_encoded
    assert event.query_string_parameters == {"limit": "2", "cursor": ""}  # the last value, as API Gateway
    assert event.multi_value_query_string_parameters == {"limit": ["1", "2"], "cursor": [""]}
    assert event.headers["User-Agent"] == "sdk/1"
    assert event.request_context.stage == "live"
    assert event.request_context.path == "/live/v1/events/trigger/bulk"
    assert event.path_parameters == {"proxy": "events/trigger/bulk"}


def test_a_body_that_is_not_utf8_goes_as_base64_and_none_as_no_body() -> None:
    binary = api_gateway_event("PUT", "/x", {}, b"\xff\xfe\x00")
    assert binary["isBase64Encoded"] and base64.b64decode(binary["body"]) == b"\xff\xfe\x00"
    for empty in (b"", None):
        event = api_gateway_event("GET", "/x", {}, empty)
        assert event["body"] is None and event["queryStringParameters"] is None
        assert event["multiValueQueryStringParameters"] is None and event["pathParameters"] is None
    assert api_gateway_event("POST", "/x", {}, "")["body"] == ""  # a text body is sent as it is


def test_each_request_gets_its_own_request_id() -> None:
    ids = {api_gateway_event("GET", "/x", {})["requestContext"]["requestId"] for _ in range(3)}
    assert len(ids) == 3


def test_an_answer_is_read_as_api_gateway_sends_it() -> None:
    status, headers, body = api_gateway_answer(
        {
            "statusCode": 207,
            "headers": {"X-One": "1", "Vary": "old"},
            "multiValueHeaders": {"Vary": ["Origin", "Accept"], "Location": ["/v1/x"]},
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )
    assert status == 207
    assert headers == {"X-One": "1", "Vary": "Origin, Accept", "Location": "/v1/x"}
    assert body == b"\x00\x01"
    assert api_gateway_answer({"body": None}) == (200, {}, b"")


def test_an_sqs_event_carries_each_received_message() -> None:
    received = [
        {
            "MessageId": "m-1",
            "ReceiptHandle": "r-1",
            "Body": '{"a": 1}',
            "MD5OfBody": "md5",
            "Attributes": {"ApproximateReceiveCount": "2"},
        },
        {"MessageId": "m-2", "ReceiptHandle": "r-2", "Body": "x"},
    ]
    event = SQSEvent(sqs_event(received, "arn:aws:sqs:us-east-1:123456789012:q"))
    records = list(event.records)
    assert [(r.message_id, r.receipt_handle, r.body) for r in records] == [
        ("m-1", "r-1", '{"a": 1}'),
        ("m-2", "r-2", "x"),
    ]
    assert records[0].json_body == {"a": 1} and records[0].attributes.approximate_receive_count == "2"
    assert {r.event_source_arn for r in records} == {"arn:aws:sqs:us-east-1:123456789012:q"}
    assert records[1].md5_of_body == "" and records[1].aws_region == "us-east-1"


def test_failed_ids_are_read_only_from_a_partial_batch_answer() -> None:
    answer = {"batchItemFailures": [{"itemIdentifier": "m-2"}, {"itemIdentifier": "m-5"}]}
    assert failed_message_ids(answer) == {"m-2", "m-5"}
    assert failed_message_ids({"batchItemFailures": []}) == set()
    assert failed_message_ids(None) == set() and failed_message_ids("done") == set()


def test_the_context_counts_down_to_the_function_s_timeout(tmp_path: Path) -> None:
    function = Function("WorkerFunction", tmp_path, "app.lambda_handler", 60, 1024, {}, [])
    context = LambdaContext.starting_now(function)
    assert 59_000 < context.get_remaining_time_in_millis() <= 60_000
    assert context.memory_limit_in_mb == 1024
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:WorkerFunction"
    assert LambdaContext("f", 128, deadline=0).get_remaining_time_in_millis() == 0
    assert LambdaContext("f", 128, 0).aws_request_id != LambdaContext("f", 128, 0).aws_request_id

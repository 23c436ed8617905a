"""Delivery channels end to end: SES v2 and SNS on moto's mock_aws (asserted through moto's
backends), chat / push-webhook / webhook against a real HTTP listener on 127.0.0.1."""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from clarion import aws
from clarion.channels import dispatch, outbound, signature
from clarion.channels.delivery import Delivery, OutboundPolicy
from clarion.channels.dispatch import Clients
from clarion.dialects.suprsend import Attachment
from clarion.dialects.suprsend_identities import with_stored_identities
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from tests.integration.conftest import use_moto_credentials

REGION = "us-east-1"
LOCAL = OutboundPolicy(allow_loopback=True, timeout_seconds=2.0)
STRICT = OutboundPolicy(allow_loopback=False, timeout_seconds=2.0)
SECRET = "whsec_test"


# dispatch.send with what most tests leave out: no integration, no overrides, loopback allowed.
_send = functools.partial(dispatch.send, integration=None, overrides={}, policy=LOCAL, transaction_id="txn-1")


def send(step_type: str, content: Any, subscriber: dict[str, Any], **given: Any) -> Delivery:
    """As the engine sends: the subscriber as stored (SuprSend identity keys read by the adapter's
    read-compat) and a payload's `$attachments` as the SuprSend adapter puts them on the record."""
    payload = given.get("payload")
    if payload and "$attachments" in payload:
        given["attachments"] = [Attachment.model_validate(a).to_model() for a in payload["$attachments"]]
    return _send(step_type, content, with_stored_identities(subscriber), **given)


# --- AWS on moto ---------------------------------------------------------------------------


@pytest.fixture
def aws_mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_moto_credentials(monkeypatch, AWS_DEFAULT_REGION=REGION)
    with mock_aws():
        aws.reset_clients()
        yield
    aws.reset_clients()


def sent_emails() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


SES = {"providerId": "ses", "channel": "email", "active": True, "credentials": {"from": "team@example.com"}}
EMAIL = {"subject": "Welcome, Ada", "body": "<p>Hello <b>Ada</b></p>"}


def test_email_goes_through_ses_v2_with_the_integrations_sender(aws_mock: None) -> None:
    aws.sesv2().create_email_identity(EmailIdentity="example.com")
    integration = SES | {"credentials": {"from": "team@example.com", "senderName": "Acme Team"}}

    delivery = send(
        "email", EMAIL, {"subscriberId": "s1", "email": "ada@example.org"}, integration=integration
    )

    assert delivery.status == "sent" and delivery.provider_id == "ses" and len(delivery.message_ids) == 1
    [message] = sent_emails()
    assert message.source == "Acme Team <team@example.com>"
    assert message.destinations == {"ToAddresses": ["ada@example.org"]}
    assert (message.subject, message.body) == ("Welcome, Ada", "<p>Hello <b>Ada</b></p>")


def test_triggers_from_override_wins_over_step_and_integration(aws_mock: None) -> None:
    aws.sesv2().create_email_identity(EmailIdentity="example.com")
    content = EMAIL | {"from": "step@example.com"}
    overrides = {"email": {"from": "override@example.com", "replyTo": "support@example.com"}}

    assert (
        send("email", content, {"email": "ada@example.org"}, integration=SES, overrides=overrides).status
        == "sent"
    )
    assert send("email", content, {"email": "bob@example.org"}, integration=SES).status == "sent"
    assert send("email", EMAIL, {"email": "cy@example.org"}, integration=SES).status == "sent"

    assert [m.source for m in sent_emails()] == [
        "override@example.com",
        "step@example.com",
        "team@example.com",
    ]


def test_suprsend_email_identity_is_used_when_there_is_no_email(aws_mock: None) -> None:
    aws.sesv2().create_email_identity(EmailIdentity="example.com")
    delivery = send("email", EMAIL, {"subscriberId": "s1", "$email": ["ada@example.org"]}, integration=SES)
    assert delivery.status == "sent"
    assert sent_emails()[0].destinations == {"ToAddresses": ["ada@example.org"]}


def test_plain_text_body_is_sent_as_text(aws_mock: None) -> None:
    ses = aws.sesv2()
    ses.create_email_identity(EmailIdentity="example.com")
    stubbed = Stubber(ses)
    stubbed.add_response(
        "send_email",
        {"MessageId": "m-1"},
        {
            "FromEmailAddress": "team@example.com",
            "Destination": {"ToAddresses": ["ada@example.org"]},
            "ReplyToAddresses": ["help@example.com"],
            "ConfigurationSetName": "tracking",
            "Content": {
                "Simple": {
                    "Subject": {"Data": "Hi", "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": "Plain words & no tags", "Charset": "UTF-8"}},
                }
            },
        },
    )
    integration = SES | {
        "credentials": {
            "from": "team@example.com",
            "replyTo": "help@example.com",
            "configurationSetName": "tracking",
        }
    }
    with stubbed:
        delivery = send(
            "email",
            {"subject": "Hi", "body": "Plain words & no tags"},
            {"email": "ada@example.org"},
            integration=integration,
            clients=Clients(sesv2=ses),
        )
    assert delivery == Delivery("sent", "ses", None, False, ("m-1",))
    stubbed.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("subscriber", "content", "integration", "detail"),
    [
        ({"subscriberId": "s1"}, EMAIL, SES, "subscriber has no email address"),
        ({"email": "ada@example.org"}, EMAIL, None, "no sender address"),
        ({"email": "ada@example.org"}, {"body": "x"}, SES, "email step has no subject"),
        ({"email": "ada@example.org"}, {"subject": "x"}, SES, "email step has no body"),
        (
            {"email": "ada@example.org"},
            EMAIL,
            SES | {"providerId": "sendgrid"},
            "'sendgrid' is not supported",
        ),
        ({"email": "ada@example.org"}, EMAIL, SES | {"active": False}, "not active"),
    ],
)
def test_email_that_cannot_be_sent_fails_with_a_clear_detail(
    aws_mock: None, subscriber: dict[str, Any], content: dict[str, Any], integration: Any, detail: str
) -> None:
    delivery = send("email", content, subscriber, integration=integration)
    assert delivery.status == "failed" and not delivery.retryable
    assert detail in (delivery.detail or "")
    assert sent_emails() == []


def test_ses_refusal_is_a_failed_delivery_without_the_address(aws_mock: None) -> None:
    delivery = send("email", EMAIL, {"email": "ada@example.org"}, integration=SES)  # sender not verified
    assert delivery.status == "failed" and not delivery.retryable
    assert "MessageRejected" in (delivery.detail or "")
    assert "@" not in (delivery.detail or "")


def test_ses_throttling_is_retryable(aws_mock: None) -> None:
    ses = aws.sesv2()
    with Stubber(ses) as stubbed:
        stubbed.add_client_error("send_email", "TooManyRequestsException", "Rate exceeded", 429)
        delivery = send(
            "email", EMAIL, {"email": "ada@example.org"}, integration=SES, clients=Clients(sesv2=ses)
        )
    assert (delivery.status, delivery.retryable) == ("failed", True)
    assert delivery.detail == "ses refused: TooManyRequestsException: Rate exceeded"


def test_sms_goes_through_sns_publish(aws_mock: None) -> None:
    integration = {
        "providerId": "sns",
        "channel": "sms",
        "credentials": {"senderId": "Acme", "smsType": "Transactional"},
    }
    delivery = send("sms", {"body": "Your code is 1234"}, {"phone": "+14155550100"}, integration=integration)

    assert delivery.status == "sent" and delivery.provider_id == "sns"
    sms = sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages
    assert list(sms.values()) == [("+14155550100", "Your code is 1234")]
    assert list(sms) == list(delivery.message_ids)


def test_sms_without_phone_fails_and_sends_nothing(aws_mock: None) -> None:
    delivery = send("sms", {"body": "hi"}, {"subscriberId": "s1", "email": "a@example.org"})
    assert (delivery.status, delivery.detail, delivery.retryable) == (
        "failed",
        "subscriber has no phone number",
        False,
    )
    assert not sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages


def test_sns_errors_keep_the_number_out_of_the_detail(aws_mock: None) -> None:
    client = aws.sns()
    with Stubber(client) as stubbed:
        stubbed.add_client_error("publish", "InvalidParameter", "Invalid phone number +14155550100", 400)
        delivery = send("sms", {"body": "hi"}, {"phone": "+14155550100"}, clients=Clients(sns=client))
    assert (delivery.status, delivery.retryable) == ("failed", False)
    assert "5550100" not in (delivery.detail or "") and "InvalidParameter" in (delivery.detail or "")


def _endpoint(token: str, enabled: bool = True) -> str:
    client = aws.sns()
    app = client.create_platform_application(
        Name="clarion-app", Platform="GCM", Attributes={"PlatformCredential": "server-key"}
    )["PlatformApplicationArn"]
    arn = client.create_platform_endpoint(PlatformApplicationArn=app, Token=token)["EndpointArn"]
    if not enabled:
        client.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    return arn


def _endpoint_messages(arn: str) -> list[dict[str, Any]]:
    backend = sns_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [json.loads(m) for m in backend.platform_endpoints[arn].messages.values()]


def test_push_goes_to_each_sns_endpoint_of_the_subscriber(aws_mock: None) -> None:
    first, second = _endpoint("token-1"), _endpoint("token-2")
    subscriber = {
        "subscriberId": "s1",
        "channels": [
            {"providerId": "fcm", "credentials": {"endpointArns": [first]}},
            {"providerId": "apns", "credentials": {"deviceTokens": [second, "raw-apns-token"]}},
        ],
    }
    content = {"title": "Order shipped", "body": "Arrives Friday", "data": {"orderId": 42}}

    delivery = send("push", content, subscriber, integration={"providerId": "sns", "channel": "push"})

    assert delivery.status == "sent" and len(delivery.message_ids) == 2
    for arn in (first, second):
        [message] = _endpoint_messages(arn)
        assert message["default"] == "Arrives Friday"
        assert json.loads(message["GCM"]) == {
            "notification": {"title": "Order shipped", "body": "Arrives Friday"},
            "data": {"orderId": "42"},
        }
        assert json.loads(message["APNS"])["aps"] == {
            "alert": {"title": "Order shipped", "body": "Arrives Friday"}
        }


def test_push_to_a_disabled_endpoint_fails_without_retry(aws_mock: None) -> None:
    arn = _endpoint("stale", enabled=False)
    subscriber = {"channels": [{"providerId": "fcm", "credentials": {"endpointArns": [arn]}}]}
    delivery = send("push", {"body": "hi"}, subscriber)
    assert (delivery.status, delivery.retryable) == ("failed", False)
    assert "EndpointDisabled" in (delivery.detail or "")


def test_push_never_publishes_to_a_topic_named_by_subscriber_data(aws_mock: None) -> None:
    topic = aws.sns().create_topic(Name="internal-alerts")["TopicArn"]
    subscriber = {"channels": [{"providerId": "fcm", "credentials": {"endpointArns": [topic]}}]}
    delivery = send("push", {"body": "hi"}, subscriber)
    assert delivery.status == "failed" and "no SNS push endpoint" in (delivery.detail or "")
    assert not sns_backends[DEFAULT_ACCOUNT_ID][REGION].topics[topic].sent_notifications


# --- HTTP against a real listener ------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Listener:
    port: int
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    answer: bytes = b"ok"
    extra_headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def _handler(listener: Listener) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            listener.requests.append(Received(self.path, dict(self.headers.items()), body))
            time.sleep(listener.delay)
            try:
                self.send_response(listener.status)
                for name, value in listener.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(listener.answer)))
                self.end_headers()
                self.wfile.write(listener.answer)
            except ConnectionError:  # the client gave up (timeout test)
                pass

        do_GET = do_POST  # an attachment's URL: answered the same way, the request recorded

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _serve(handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    state = Listener(port=0)
    for port in _serve(_handler(state)):
        state.port = port
        yield state


CHAT_TEXT = {"title": "Deploy finished", "body": "main is live"}


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("slack", {"text": "*Deploy finished*\nmain is live"}),
        ("discord", {"content": "**Deploy finished**\nmain is live"}),
        (
            "msteams",
            {
                "@type": "MessageCard",
                "@context": "https://schema.org/extensions",
                "summary": "Deploy finished",
                "title": "Deploy finished",
                "text": "main is live",
            },
        ),
    ],
)
def test_chat_posts_each_services_webhook_shape(listener: Listener, provider: str, expected: Any) -> None:
    subscriber = {
        "channels": [{"providerId": provider, "credentials": {"webhookUrl": listener.url("/services/T1")}}]
    }

    delivery = send("chat", CHAT_TEXT, subscriber, integration={"providerId": provider, "channel": "chat"})

    assert delivery == Delivery("sent", provider)
    [request] = listener.requests
    assert request.path == "/services/T1"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == expected


def test_chat_reads_suprsend_identities(listener: Listener) -> None:
    subscriber = {
        "$slack": [
            {"incoming_webhook": {"url": listener.url("/slack")}},
            {"user_id": "U1", "access_token": "x"},
        ],
        "data": {"$ms_teams": {"incoming_webhook": {"url": listener.url("/teams")}}},
    }
    delivery = send("chat", {"body": "hello"}, subscriber)
    assert delivery.status == "sent" and delivery.provider_id == "chat"
    assert [(r.path, r.json().get("text")) for r in listener.requests] == [
        ("/slack", "hello"),
        ("/teams", "hello"),
    ]


def test_chat_with_an_integration_only_uses_that_providers_webhooks(listener: Listener) -> None:
    subscriber = {
        "channels": [
            {"providerId": "slack", "credentials": {"webhookUrl": listener.url("/slack")}},
            {"providerId": "discord", "credentials": {"webhookUrl": listener.url("/discord")}},
        ]
    }
    assert send("chat", {"body": "x"}, subscriber, integration={"providerId": "discord"}).status == "sent"
    assert [r.path for r in listener.requests] == ["/discord"]
    missing = send("chat", {"body": "x"}, subscriber, integration={"providerId": "msteams"})
    assert (missing.status, missing.detail) == ("failed", "subscriber has no msteams webhook")


def test_loopback_webhook_is_refused_without_allow_loopback(listener: Listener) -> None:
    subscriber = {
        "channels": [{"providerId": "slack", "credentials": {"webhookUrl": listener.url("/x?token=s3cr3t")}}]
    }
    delivery = send("chat", {"body": "hi"}, subscriber, policy=STRICT)
    assert (delivery.status, delivery.retryable) == ("failed", False)
    assert delivery.detail is not None and delivery.detail.startswith(
        "URL refused: loopback address 127.0.0.1"
    )
    assert "s3cr3t" not in delivery.detail
    assert listener.requests == []


def test_a_failing_webhook_among_several_fails_the_step(listener: Listener) -> None:
    subscriber = {
        "channels": [
            {"providerId": "slack", "credentials": {"webhookUrl": listener.url("/a")}},
            {"providerId": "discord", "credentials": {"webhookUrl": f"http://127.0.0.1:{_closed_port()}/b"}},
        ]
    }
    listener.status = 503
    nothing = send("chat", {"body": "hi"}, subscriber)
    assert nothing.status == "failed" and (nothing.detail or "").startswith(
        "2 of 2 webhooks failed: HTTP 503"
    )
    assert nothing.retryable  # nothing was delivered: a retry duplicates nothing

    listener.status = 200
    partial = send("chat", {"body": "hi"}, subscriber)
    assert partial.status == "failed" and not partial.retryable  # a retry would post /a twice
    assert (partial.detail or "").startswith("1 of 2 webhooks failed: connection to http://127.0.0.1:")


def test_webhook_step_posts_a_signed_body(listener: Listener) -> None:
    content = {
        "url": listener.url("/clarion"),
        "headers": {"Authorization": "Bearer receiver-token"},
        "kind": "order.shipped",
    }
    integration = {"providerId": "webhook", "credentials": {"secretKey": SECRET}}
    subscriber = {"subscriberId": "s1", "email": "ada@example.org"}

    delivery = send(
        "webhook",
        content,
        subscriber,
        integration=integration,
        transaction_id="txn-42",
        payload={"orderId": 7},
    )

    assert delivery == Delivery("sent", "webhook")
    [request] = listener.requests
    assert request.json() == {
        "transactionId": "txn-42",
        "subscriberId": "s1",
        "payload": {"orderId": 7},
        "content": {"kind": "order.shipped"},
    }
    assert request.headers["X-Clarion-Transaction-Id"] == "txn-42"
    assert request.headers["Authorization"] == "Bearer receiver-token"
    assert request.headers["Host"] == f"127.0.0.1:{listener.port}"
    header = request.headers["X-Clarion-Signature"]
    assert signature.verify(SECRET, header, request.body)
    assert not signature.verify("another-secret", header, request.body)
    assert not signature.verify(SECRET, header, request.body + b" ")
    t, v1 = (part.split("=", 1)[1] for part in header.split(","))
    assert v1 == hmac.new(SECRET.encode(), f"{t}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert abs(int(t) - time.time()) < 60


def test_webhook_body_template_is_sent_as_rendered_json(listener: Listener) -> None:
    content = {"url": listener.url(), "secret": SECRET, "body": '{"text": "Ada ordered 3"}'}
    assert send("webhook", content, {"subscriberId": "s1"}).status == "sent"
    assert listener.requests[0].json() == {"text": "Ada ordered 3"}
    broken = send("webhook", content | {"body": "{not json"}, {"subscriberId": "s1"})
    assert (broken.status, broken.detail) == ("failed", "webhook body is not valid JSON after rendering")


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        ({"secret": SECRET}, "webhook step has no url"),
        ({"url": "http://127.0.0.1:9/"}, "webhook step has no signing secret (credentials.secretKey)"),
        (
            {"url": "http://127.0.0.1:9/", "secret": SECRET, "headers": {"Host": "x"}},
            "webhook header 'Host' may not be set",
        ),
        (
            {"url": "http://127.0.0.1:9/", "secret": SECRET, "headers": {"X-Clarion-Signature": "t=1,v1=0"}},
            "webhook header 'X-Clarion-Signature' may not be set",
        ),
        (
            {"url": "http://127.0.0.1:9/", "secret": SECRET, "headers": {"X-A": "a\r\nX-B: b"}},
            "webhook header 'X-A' needs a one-line string value",
        ),
        (
            {"url": "file:///etc/passwd", "secret": SECRET},
            "URL refused: scheme 'file' is not allowed: use http or https",
        ),
    ],
)
def test_misconfigured_webhook_fails_clearly(content: dict[str, Any], detail: str) -> None:
    delivery = send("webhook", content, {"subscriberId": "s1"})
    assert (delivery.status, delivery.detail, delivery.retryable) == ("failed", detail, False)


@pytest.mark.parametrize(
    ("status", "retryable"), [(429, True), (500, True), (503, True), (400, False), (404, False)]
)
def test_http_status_decides_retry(listener: Listener, status: int, retryable: bool) -> None:
    listener.status, listener.answer = status, b'{"error": "mail ada@example.org failed"}'
    delivery = send("webhook", {"url": listener.url(), "secret": SECRET}, {"subscriberId": "s1"})
    assert (delivery.status, delivery.retryable) == ("failed", retryable)
    assert (delivery.detail or "").startswith(f"HTTP {status}: ")
    assert "ada@example.org" not in (delivery.detail or "")


def test_redirects_are_not_followed(listener: Listener) -> None:
    listener.status, listener.extra_headers = 302, {"Location": "http://169.254.169.254/latest/meta-data/"}
    delivery = send("webhook", {"url": listener.url(), "secret": SECRET}, {"subscriberId": "s1"})
    assert (delivery.status, delivery.retryable) == ("failed", False)
    assert (delivery.detail or "").startswith("HTTP 302: redirects are not followed")
    assert len(listener.requests) == 1


def test_timeouts_and_refused_connections_are_retryable(listener: Listener) -> None:
    listener.delay = 1.0
    slow = send(
        "webhook",
        {"url": listener.url(), "secret": SECRET},
        {"subscriberId": "s1"},
        policy=OutboundPolicy(allow_loopback=True, timeout_seconds=0.2),
    )
    assert (slow.status, slow.retryable) == ("failed", True) and "timed out" in (slow.detail or "")
    closed = send(
        "webhook", {"url": f"http://127.0.0.1:{_closed_port()}/", "secret": SECRET}, {"subscriberId": "s1"}
    )
    assert (closed.status, closed.retryable) == ("failed", True) and "connection to" in (closed.detail or "")


def test_connection_goes_to_the_checked_address_not_a_second_lookup(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the first answer is checked; a second, hostile answer is never asked for."""
    answers = iter(["127.0.0.1", "169.254.169.254"])
    real = socket.getaddrinfo

    def rebinding(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.example":
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    delivery = send(
        "webhook", {"url": listener.url(host="rebind.example"), "secret": SECRET}, {"subscriberId": "s1"}
    )
    assert delivery.status == "sent"
    assert listener.requests[0].headers["Host"] == f"rebind.example:{listener.port}"
    assert next(answers) == "169.254.169.254"  # the second answer was never consumed


def test_push_webhook_posts_device_tokens_signed(listener: Listener) -> None:
    integration = {
        "providerId": "push-webhook",
        "channel": "push",
        "credentials": {"webhookUrl": listener.url("/push"), "secretKey": SECRET},
    }
    subscriber = {
        "subscriberId": "s1",
        "channels": [
            {"providerId": "fcm", "credentials": {"deviceTokens": ["fcm-1", "fcm-2"]}},
            {"providerId": "expo", "credentials": {"deviceTokens": ["ExponentPushToken[x]", "fcm-1"]}},
        ],
        "$iospush": ["apns-1"],
    }
    content = {"title": "New message", "body": "Bob: hi", "data": {"threadId": "t9"}}

    delivery = send("push", content, subscriber, integration=integration, transaction_id="txn-7")

    assert delivery == Delivery("sent", "push-webhook")
    [request] = listener.requests
    assert request.json() == {
        "transactionId": "txn-7",
        "subscriberId": "s1",
        "target": ["fcm-1", "fcm-2", "ExponentPushToken[x]", "apns-1"],
        "title": "New message",
        "body": "Bob: hi",
        "data": {"threadId": "t9"},
    }
    assert request.headers["X-Clarion-Transaction-Id"] == "txn-7"
    assert signature.verify(SECRET, request.headers["X-Clarion-Signature"], request.body)
    strict = send("push", content, subscriber, integration=integration, policy=STRICT)
    assert strict.status == "failed" and (strict.detail or "").startswith("URL refused: loopback")
    assert len(listener.requests) == 1


def test_push_without_tokens_or_with_an_unknown_provider_fails(listener: Listener) -> None:
    integration = {
        "providerId": "push-webhook",
        "credentials": {"webhookUrl": listener.url(), "secretKey": SECRET},
    }
    assert send("push", {"body": "x"}, {"subscriberId": "s1"}, integration=integration).detail == (
        "subscriber has no push device tokens"
    )
    assert send("push", {"body": "x"}, {}, integration={"providerId": "one-signal"}).detail == (
        "push provider 'one-signal' is not supported: use sns or push-webhook"
    )
    assert listener.requests == []


def test_non_delivery_step_types_are_a_programming_error() -> None:
    for step_type in ("in_app", "delay", "digest", "carrier-pigeon"):
        with pytest.raises(ValueError, match="not delivered by a channel"):
            send(step_type, {}, {})


# --- HTTPS: pinned address, certificate checked against the URL's host name ----------------


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize(("served_name", "ok"), [("hooks.example", True), ("someone-else.example", False)])
def test_https_uses_the_url_host_for_sni_and_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served_name: str, ok: bool
) -> None:
    cert, key = _certificate(tmp_path, served_name)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    seen_sni: list[str | None] = []
    server_tls.sni_callback = lambda sock, name, ctx: seen_sni.append(name)  # type: ignore[assignment,func-returns-value]
    client_tls = ssl.create_default_context(cafile=str(cert))
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: (
            [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
            if host == "hooks.example"
            else real(host, port, *a, **k)
        ),
    )
    state = Listener(port=0)
    for port in _serve(_handler(state), tls=server_tls):
        result = outbound.post_json(
            f"https://hooks.example:{port}/hook", {"a": 1}, None, 2.0, allow_loopback=True, tls=client_tls
        )
    assert seen_sni == ["hooks.example"]
    if ok:
        assert (result.ok, result.status, result.body) == (True, 200, "ok")
        assert state.requests[0].headers["Host"] == f"hooks.example:{port}"
    else:
        assert (result.ok, result.retryable) == (False, False)
        assert (result.error or "").startswith(f"TLS to https://hooks.example:{port} failed")
        assert state.requests == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_channel_entries_tied_to_another_integration_are_not_used(listener: Listener) -> None:
    subscriber = {
        "channels": [
            {
                "providerId": "slack",
                "integrationIdentifier": "ops",
                "credentials": {"webhookUrl": listener.url("/ops")},
            },
            {
                "providerId": "slack",
                "integrationIdentifier": "sales",
                "credentials": {"webhookUrl": listener.url("/sales")},
            },
            {"providerId": "slack", "credentials": {"webhookUrl": listener.url("/any")}},
        ]
    }
    delivery = send(
        "chat", {"body": "x"}, subscriber, integration={"providerId": "slack", "identifier": "ops"}
    )
    assert delivery.status == "sent"
    assert [r.path for r in listener.requests] == ["/ops", "/any"]


def test_targets_beyond_the_policy_limit_are_not_attempted_and_said_so(listener: Listener) -> None:
    subscriber = {
        "channels": [
            {"providerId": "discord", "credentials": {"webhookUrl": listener.url(f"/{n}")}} for n in range(3)
        ]
    }
    policy = OutboundPolicy(allow_loopback=True, timeout_seconds=2.0, max_targets=2)
    delivery = send("chat", {"body": "x"}, subscriber, policy=policy)
    assert (delivery.status, delivery.detail) == ("sent", "1 webhooks beyond the limit of 2 not sent")
    assert [r.path for r in listener.requests] == ["/0", "/1"]


# --- email attachments (SuprSend $attachments) -----------------------------------------------

PDF = b"%PDF-1.4 invoice 42\n" + bytes(range(256))


def _attached(raw: str) -> dict[str, tuple[str, bytes]]:
    import email
    from email import policy

    message = email.message_from_string(raw, policy=policy.default)
    return {
        part.get_filename(): (part.get_content_type(), part.get_payload(decode=True))
        for part in message.iter_attachments()
    }


def test_attachments_from_data_and_url_go_in_one_raw_mime_email(aws_mock: None, listener: Listener) -> None:
    import base64

    aws.sesv2().create_email_identity(EmailIdentity="example.com")
    listener.answer = PDF
    attachments = [
        {"data": base64.b64encode(b"a,b\n1,2\n").decode(), "filename": "rows.csv"},
        {"url": listener.url("/files/invoice%2042.pdf")},
        {"url": listener.url("/files/logo"), "filename": "logo.png", "contentType": "image/png"},
    ]

    delivery = send(
        "email",
        EMAIL,
        {"email": "ada@example.org"},
        integration=SES | {"credentials": {"from": "team@example.com", "replyTo": "help@example.com"}},
        payload={"$attachments": attachments},
    )

    assert delivery.status == "sent", delivery.detail
    [message] = sent_emails()
    assert set(message.destinations) == {"ada@example.org"}  # (moto adds the MIME To again)
    assert "Subject: Welcome, Ada" in message.raw_data and "Reply-To: help@example.com" in message.raw_data
    assert "<p>Hello <b>Ada</b></p>" in message.raw_data
    assert _attached(message.raw_data) == {
        "rows.csv": ("text/csv", b"a,b\n1,2\n"),
        "invoice 42.pdf": ("application/pdf", PDF),  # named from the URL's path
        "logo.png": ("image/png", PDF),
    }
    assert [r.path for r in listener.requests] == ["/files/invoice%2042.pdf", "/files/logo"]


def test_an_attachment_that_cannot_load_fails_the_step_unless_it_may_be_ignored(
    aws_mock: None, listener: Listener
) -> None:
    aws.sesv2().create_email_identity(EmailIdentity="example.com")
    listener.status = 404
    missing = {"url": listener.url("/gone.pdf")}

    failed = send(
        "email", EMAIL, {"email": "ada@example.org"}, integration=SES, payload={"$attachments": [missing]}
    )
    assert failed.status == "failed" and not failed.retryable
    assert failed.detail is not None and failed.detail.startswith("attachment 1: ")
    assert "/gone.pdf" not in failed.detail  # the origin only: a path or query may carry a secret
    assert sent_emails() == []

    listener.status = 503
    busy = send(
        "email", EMAIL, {"email": "ada@example.org"}, integration=SES, payload={"$attachments": [missing]}
    )
    assert busy.status == "failed" and busy.retryable  # the engine's retries may get it later

    ignored = send(
        "email",
        EMAIL,
        {"email": "ada@example.org"},
        integration=SES,
        payload={"$attachments": [missing | {"ignore_if_error": True}]},
    )
    assert ignored.status == "sent"
    [message] = sent_emails()
    assert (message.subject, message.body) == (
        "Welcome, Ada",
        "<p>Hello <b>Ada</b></p>",
    )  # simple, none attached


def test_attachment_urls_obey_the_outbound_policy(aws_mock: None, listener: Listener) -> None:
    aws.sesv2().create_email_identity(EmailIdentity="example.com")
    for url in (listener.url("/a.pdf"), "http://169.254.169.254/latest/meta-data/"):
        delivery = send(
            "email",
            EMAIL,
            {"email": "ada@example.org"},
            integration=SES,
            policy=STRICT,
            payload={"$attachments": [{"url": url}]},
        )
        assert delivery.status == "failed" and not delivery.retryable
        assert delivery.detail is not None and delivery.detail.startswith("attachment 1: ")
    assert listener.requests == [] and sent_emails() == []


def test_an_attachment_larger_than_the_limit_is_refused(
    aws_mock: None, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clarion.channels import email

    aws.sesv2().create_email_identity(EmailIdentity="example.com")
    monkeypatch.setattr(email, "MAX_ATTACHMENT_BYTES", 100)
    listener.answer = PDF  # 276 bytes
    delivery = send(
        "email",
        EMAIL,
        {"email": "ada@example.org"},
        integration=SES,
        payload={"$attachments": [{"url": listener.url("/big")}]},
    )
    assert delivery.status == "failed" and not delivery.retryable
    assert delivery.detail == f"attachment 1: http://127.0.0.1:{listener.port} sent more than 100 bytes"


def test_a_line_break_in_an_attachments_email_headers_fails_the_step_not_the_worker(aws_mock: None) -> None:
    import base64

    aws.sesv2().create_email_identity(EmailIdentity="example.com")
    delivery = send(
        "email",
        EMAIL | {"subject": "Hi\r\nBcc: everyone@example.org"},
        {"email": "ada@example.org"},
        integration=SES,
        payload={"$attachments": [{"data": base64.b64encode(b"x").decode(), "filename": "x.txt"}]},
    )
    assert delivery.status == "failed" and not delivery.retryable
    assert delivery.detail is not None and delivery.detail.startswith("the email cannot be built")
    assert sent_emails() == []

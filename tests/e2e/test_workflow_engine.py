"""The workflow engine on the local stack, as a user drives it: one bulk to a topic of 20 and an
inline subscriber through in_app, email, sms, chat, delay and a second in_app."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests import workflows as wf
from tests.e2e.conftest import RunningStack
from tests.e2e.test_local_stack import wait_for


class ChatListener:
    """A real HTTP listener on loopback standing in for Slack's incoming webhooks."""

    def __init__(self) -> None:
        self.posts: Counter[str] = Counter()
        self.bodies: list[Any] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                listener.posts[self.path] += 1
                listener.bodies.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def chat() -> Iterator[ChatListener]:
    listener = ChatListener()
    yield listener
    listener.server.shutdown()


def subscriber(subscriber_id: str, chat: ChatListener, vip: bool) -> dict[str, Any]:
    return {
        "subscriberId": subscriber_id,
        "firstName": subscriber_id.title(),
        "email": f"{subscriber_id}@example.com",
        "phone": "+15555550100",
        "data": {"vip": vip},
        "channels": [{"providerId": "slack", "credentials": {"webhookUrl": f"{chat.url}/{subscriber_id}"}}],
    }


def test_topic_and_inline_subscriber_get_each_message_once(stack: RunningStack, chat: ChatListener) -> None:
    ses: Any = stack.client("sesv2")
    ses.create_email_identity(EmailIdentity="clarion.example")
    quota_before = stack.client("ses").get_send_quota()["SentLast24Hours"]  # type: ignore[attr-defined]
    for integration in (
        {"providerId": "ses", "channel": "email", "credentials": {"from": "hi@clarion.example"}},
        {"providerId": "sns", "channel": "sms", "credentials": {}},
    ):
        assert stack.call("POST", "/v1/integrations", json=integration).status_code == 201
    crew = [f"crew{i:02d}" for i in range(20)]
    added = stack.call(
        "POST",
        "/v1/subscribers/bulk",
        json={
            "subscribers": [subscriber(s, chat, vip=i < 5) for i, s in enumerate(crew)]
            + [subscriber("late", chat, False)]
        },
    )
    assert added.status_code == 201
    assert (
        stack.call(
            "PATCH", "/v1/subscribers/crew07/preferences", json={"channels": {"email": False}}
        ).status_code
        == 200
    )
    assert stack.call("POST", "/v1/topics", json={"key": "crew", "name": "Crew"}).status_code == 201
    assert stack.call("POST", "/v1/topics/crew/subscribers", json={"subscribers": crew}).status_code == 200
    workflow = wf.workflow(
        "launch",
        wf.in_app("hello", "Hello {{ subscriber.firstName }}"),
        wf.email("mail", "Launch", "<p>{{ payload.what }}</p>"),
        wf.sms("text", "Launch!", conditions=wf.VIP_ONLY),
        wf.chat("chat", "{{ payload.what }} for {{ subscriber.firstName }}"),
        wf.delay("wait", "{{ payload.wait }}"),
        wf.in_app("bye", "Bye {{ subscriber.firstName }}"),
    )
    assert stack.call("POST", "/v1/workflows", json=workflow).status_code == 201

    answer = stack.call(
        "POST",
        "/v1/events/trigger/bulk",
        json={
            "events": [
                {
                    "name": "launch",
                    "to": [{"type": "Topic", "topicKey": "crew"}, subscriber("guest", chat, True)],
                    "payload": {"what": "Rocket", "wait": 1},
                    "transactionId": "launch-a",
                },
                {
                    "name": "launch",
                    "to": "late",
                    "payload": {"what": "Rocket", "wait": 3600},
                    "transactionId": "launch-b",
                },
            ]
        },
    )
    assert [item["status"] for item in answer.json()["data"]] == ["processed", "processed"]

    def steps_of(transaction_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        rows = stack.call("GET", "/v1/execution-details", params={"transactionId": transaction_id}).json()[
            "data"
        ]
        return {(row["subscriberId"], row["stepId"]): row for row in rows}

    wait_for(lambda: steps_of("launch-b").get(("late", "wait"), {}).get("status") == "pending", timeout=60)
    assert stack.call("DELETE", "/v1/events/trigger/launch-b").json() == {"data": True}
    everyone = [*crew, "guest"]
    done = wait_for(
        lambda: (
            (s := steps_of("launch-a"))
            and all(s.get((r, "bye"), {}).get("status") == "sent" for r in everyone)
            and s
        ),
        timeout=90,
    )

    for recipient in everyone:
        feed = stack.call("GET", f"/v1/subscribers/{recipient}/notifications/feed").json()["data"]
        assert [m["content"]["body"] for m in feed] == [
            f"Bye {recipient.title()}",
            f"Hello {recipient.title()}",
        ]
    assert done[("crew07", "mail")]["status"] == "skipped"
    assert "email" in done[("crew07", "mail")]["detail"]
    assert {r for r in everyone if done[(r, "text")]["status"] == "sent"} == {*crew[:5], "guest"}
    assert {r for r in everyone if done[(r, "text")]["status"] == "skipped"} == set(crew[5:])
    assert chat.posts == Counter(
        {f"/{r}": 1 for r in [*everyone, "late"]}
    )  # once each, "late" before its delay
    late = steps_of("launch-b")
    assert late[("late", "wait")]["status"] == "cancelled"
    assert ("late", "bye") not in late
    emails = stack.client("ses").get_send_quota()["SentLast24Hours"] - quota_before  # type: ignore[attr-defined]
    assert emails == len(everyone) - 1 + 1  # crew07 opted out; "late" got its email before the delay
    assert stack.call("DELETE", "/v1/events/trigger/launch-b").json() == {"data": False}


def test_suprsend_sdk_attachments_reach_the_email(stack: RunningStack, tmp_path: Any) -> None:
    """suprsend-py-sdk's add_attachment, a local file (sent base64) and a URL (fetched by the worker
    from a listener on loopback), lands in the SES message as MIME parts."""
    suprsend = pytest.importorskip("suprsend")
    import email
    from email import policy

    import requests

    from tests.e2e.sdk import suprsend_capture as ss

    terms = b"Terms: pay within 30 days.\n"

    class Files(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/terms" else 404)
            self.send_header("Content-Length", str(len(terms)))
            self.end_headers()
            self.wfile.write(terms)

        def log_message(self, *args: Any) -> None:
            pass

    files = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    threading.Thread(target=files.serve_forever, daemon=True).start()
    try:
        ses: Any = stack.client("sesv2")
        if "clarion.example" not in [
            i["IdentityName"] for i in ses.list_email_identities()["EmailIdentities"]
        ]:
            ses.create_email_identity(EmailIdentity="clarion.example")
        integration = {"providerId": "ses", "channel": "email", "credentials": {"from": "hi@clarion.example"}}
        assert stack.call("POST", "/v1/integrations", json=integration).status_code in (201, 409)
        workflow = {
            "workflowId": "invoice",
            "steps": [
                {
                    "stepId": "mail",
                    "type": "email",
                    "content": {"subject": "Invoice {{ payload.number }}", "body": "<p>Attached.</p>"},
                }
            ],
        }
        assert stack.call("POST", "/v1/workflows", json=workflow).status_code == 201
        invoice = tmp_path / "invoice-42.pdf"
        invoice.write_bytes(b"%PDF-1.4 invoice 42")
        request = suprsend.WorkflowTriggerRequest(
            ss.workflow("invoice", "iris", number="42"), idempotency_key="inv-42"
        )
        request.add_attachment(str(invoice))
        request.add_attachment(f"http://127.0.0.1:{files.server_address[1]}/terms", file_name="terms.txt")
        answer = ss.clients(stack.url)["bearer"].workflows.trigger(request)
        assert answer["success"] is True, answer

        def mail_step() -> dict[str, Any] | None:
            rows = stack.call("GET", "/v1/execution-details", params={"transactionId": "inv-42"}).json()[
                "data"
            ]
            done = [row for row in rows if row["stepId"] == "mail" and row["status"] in ("sent", "failed")]
            return done[0] if done else None

        step = wait_for(mail_step, timeout=60)
        assert step["status"] == "sent", step
        models = requests.get(
            f"{stack.endpoint}/moto-api/data.json", timeout=180
        ).json()  # all of moto: slow late in a session
        raws = [m["raw_data"] for m in models["ses"]["RawMessage"] if "Subject: Invoice 42" in m["raw_data"]]
        assert len(raws) == 1
        message = email.message_from_string(raws[0], policy=policy.default)
        attached = {
            p.get_filename(): (p.get_content_type(), p.get_payload(decode=True))
            for p in message.iter_attachments()
        }
        assert attached == {
            "invoice-42.pdf": ("application/pdf", b"%PDF-1.4 invoice 42"),
            "terms.txt": ("text/plain", terms),
        }
    finally:
        files.shutdown()

"""What suprsend-py-sdk sends and how it reads answers, recorded on a loopback capture server.

The evidence Clarion's SuprSend adapter was built from (tests/e2e/test_sdks.py also drives the SDK
against the stack). The answers below follow SuprSend's reference (shared/reference/002): a single
trigger gets 202 `{message_id, status}`, a bulk (a JSON array) gets 207 `{records: [...], status}`.

    .venv/bin/python -m tests.e2e.sdk.suprsend_capture     # prints every exchange as JSON
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

from tests.e2e.sdk.capture import Answer, CaptureServer, Exchange

WORKSPACE = "development"  # the seeded environment id: SuprSend's workspace key / uid
SECRET = "e2e-key"  # the environment's API key: SuprSend's workspace secret / Bearer key
UNKNOWN_WORKFLOW = "no-such-workflow"
LONG_WORKSPACE = "development-workspace-key"  # the events API wants >= 20 characters


def string_to_sign(exchange: Exchange) -> str:
    """The SDK's string to sign (suprsend/signature.py), rebuilt from the request as received.

    METHOD \\n md5-hex(body bytes) or "" \\n Content-Type \\n Date \\n path[?query]
    """
    content_md5 = (
        "" if exchange.method == "GET" or not exchange.body else hashlib.md5(exchange.body).hexdigest()
    )
    return "\n".join(
        [
            exchange.method,
            content_md5,
            exchange.header("Content-Type") or "",
            exchange.header("Date") or "",
            exchange.path,
        ]
    )


def signature(exchange: Exchange, secret: str = SECRET) -> str:
    """base64(HMAC-SHA256(secret, string_to_sign)): what follows `<workspace_key>:` in Authorization."""
    digest = hmac.new(secret.encode(), string_to_sign(exchange).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _record(item: Any) -> dict[str, Any]:
    name = item.get("workflow") or item.get("event") if isinstance(item, dict) else None
    if name == UNKNOWN_WORKFLOW:
        return {
            "status": "error",
            "status_code": 404,
            "error": {"message": f"workflow '{name}' not found", "type": "not_found"},
        }
    return {"status": "success", "status_code": 202, "message_id": str(uuid.uuid4())}


def reference_answer(exchange: Exchange) -> Answer:
    """SuprSend's documented answers: object -> 202, array -> 207 with one record per item."""
    body = exchange.json()
    if isinstance(body, list):
        return Answer(207, {"records": [_record(item) for item in body], "status": "success"})
    record = _record(body)
    if record["status"] == "error":
        return Answer(
            404, {"status": "fail", "message": record["error"]["message"], "error": record["error"]}
        )
    return Answer(202, {"message_id": record["message_id"], "status": "success"})


def fixed_answer(status: int, body: Any) -> Any:
    """A responder that always gives the same answer (to see how the SDK maps it)."""
    return lambda exchange: Answer(status, body)


def workflow(name: str, distinct_id: str, **data: Any) -> dict[str, Any]:
    return {
        "workflow": name,
        "recipients": [{"distinct_id": distinct_id, "$email": [f"{distinct_id}@example.com"]}],
        "actor": {"distinct_id": "admin"},
        "data": data,
    }


def run_workflows(client: Any) -> dict[str, Any]:
    """Drive the SDK's workflow trigger paths (`POST /trigger/`) once each; return what it gave back."""
    from suprsend import WorkflowTriggerRequest

    single = client.workflows.trigger(
        WorkflowTriggerRequest(
            workflow("welcome", "ada", order="A-1"), idempotency_key="idem-1", tenant_id="t1"
        )
    )
    bulk = client.workflows.bulk_trigger_instance()
    bulk.append(
        WorkflowTriggerRequest(workflow("welcome", "ada", i=0)),
        WorkflowTriggerRequest(workflow(UNKNOWN_WORKFLOW, "bob", i=1)),
        WorkflowTriggerRequest(workflow("welcome", "carol", i=2), idempotency_key="idem-2"),
    )
    return {"single": single, "bulk": vars(bulk.trigger())}


def run_events(client: Any) -> dict[str, Any]:
    """The events API (`POST /v2/event/`, `POST /v2/bulk/event/`). The SDK validates `env` (the
    workspace key / uid) as a string of at least 20 characters before it sends anything."""
    from suprsend import Event

    try:
        single = client.track_event(Event("ada", "order_shipped", {"order": "A-1"}, idempotency_key="idem-3"))
    except Exception as error:
        single = {"raised": f"{type(error).__name__}: {error}"}
    events = client.bulk_events.new_instance()
    events.append(Event("ada", "order_shipped", {"i": 0}), Event("bob", "order_shipped", {"i": 1}))
    return {"single": single, "bulk": vars(events.trigger())}


def clients(url: str, workspace: str = WORKSPACE) -> dict[str, Any]:
    from suprsend import Suprsend

    return {
        "bearer": Suprsend.with_workspace_api_key(workspace, SECRET, base_url=url),
        "hmac": Suprsend(workspace, SECRET, base_url=url),
    }


def _decoded(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body.decode(errors="replace")


def describe(exchange: Exchange) -> dict[str, Any]:
    return {
        "request": {
            "method": exchange.method,
            "path": exchange.path,
            "headers": dict(exchange.headers),
            "body": exchange.json() if exchange.body else None,
        },
        "string_to_sign": string_to_sign(exchange) if exchange.header("Date") else None,
        "response": {
            "status": exchange.status,
            "body": exchange.response_json() if exchange.response_body else None,
        },
    }


def main() -> None:
    report: dict[str, Any] = {}
    with CaptureServer(respond=reference_answer) as server:
        for auth, client in clients(server.url).items():
            results = run_workflows(client)
            report[f"{auth} workflows"] = {"exchanges": [describe(e) for e in server.take()], "sdk": results}
        for workspace in (WORKSPACE, LONG_WORKSPACE):
            for auth, client in clients(server.url, workspace).items():
                results = run_events(client)
                report[f"{auth} events, workspace {workspace!r}"] = {
                    "exchanges": [describe(e) for e in server.take()],
                    "sdk": results,
                }
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()

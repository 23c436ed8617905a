"""The official client SDKs, unmodified, against the local stack (and SuprSend's against a capture server).

Every SDK talks to the stack through a recording proxy (tests/e2e/sdk/capture.py), so each test
asserts both what the SDK put on the wire and what it made of Clarion's answer.

Set up (see tests/e2e/sdk/requirements.txt and tests/e2e/sdk/node/package.json):
    .venv/bin/pip install -r tests/e2e/sdk/requirements.txt
    npm ci --prefix tests/e2e/sdk/node
Tests of an SDK that is not installed are skipped, naming the command that installs it.
"""

from __future__ import annotations

import email.utils
import importlib.util
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import API_KEY, RunningStack
from tests.e2e.sdk import suprsend_capture as ss
from tests.e2e.sdk.capture import CaptureServer, Exchange

SDK_DIR = Path(__file__).resolve().parent / "sdk"
NODE_DIR = SDK_DIR / "node"
PIP_HINT = "install the Python SDKs: .venv/bin/pip install -r tests/e2e/sdk/requirements.txt"
NPM_HINT = "install the Node SDKs: npm ci --prefix tests/e2e/sdk/node"
UNKNOWN = "no-such-workflow"


REQUIRED = bool(os.environ.get("CLARION_REQUIRE_SDKS"))  # make test installs them: never skip there


def _has(module: str) -> bool:
    return REQUIRED or importlib.util.find_spec(module) is not None


needs_novu_py = pytest.mark.skipif(not _has("novu_py"), reason=PIP_HINT)
needs_novu = pytest.mark.skipif(not _has("novu"), reason=PIP_HINT)
needs_suprsend = pytest.mark.skipif(not _has("suprsend"), reason=PIP_HINT)
needs_node = pytest.mark.skipif(
    (not REQUIRED and shutil.which("node") is None)
    or not (NODE_DIR / "node_modules" / "@novu" / "node").is_dir()
    or not (NODE_DIR / "node_modules" / "@novu" / "api").is_dir(),
    reason=NPM_HINT,
)

# --------------------------------------------------------------------------------------- helpers


@pytest.fixture
def proxy(stack: RunningStack) -> Iterator[CaptureServer]:
    """A recording proxy in front of the stack: the SDK's base URL."""
    with CaptureServer(upstream=stack.url) as server:
        yield server


def wire_events(tag: str) -> tuple[str, list[dict[str, Any]]]:
    """A bulk in Novu's wire format: valid, unknown workflow, valid with a chosen transactionId."""
    transaction_id = f"sdk-{tag}-{uuid.uuid4().hex[:12]}"
    return transaction_id, [
        {
            "name": "welcome",
            "to": {"subscriberId": f"{tag}-ada", "firstName": "Ada"},
            "payload": {"sdk": tag},
        },
        {"name": UNKNOWN, "to": f"{tag}-bob", "payload": {}},
        {"name": "welcome", "to": [f"{tag}-carol"], "payload": {}, "transactionId": transaction_id},
    ]


def only(exchanges: list[Exchange]) -> Exchange:
    assert len(exchanges) == 1, [(e.method, e.path, e.status) for e in exchanges]
    return exchanges[0]


def assert_novu_request(exchange: Exchange, path: str) -> None:
    assert exchange.method == "POST"
    assert exchange.path == path
    assert exchange.header("Authorization") == f"ApiKey {API_KEY}"
    assert (exchange.header("Content-Type") or "").startswith("application/json")


def assert_bulk_sent(exchange: Exchange, events: list[dict[str, Any]]) -> None:
    assert_novu_request(exchange, "/v1/events/trigger/bulk")
    sent = exchange.json()
    assert list(sent) == ["events"]
    assert [(e["name"], e["to"], e.get("transactionId")) for e in sent["events"]] == [
        (e["name"], e["to"], e.get("transactionId")) for e in events
    ]
    assert exchange.status == 201


def assert_bulk_verdicts(items: list[dict[str, Any]], transaction_id: str) -> None:
    """Novu's per-event answer, in request order: processed / error / processed."""
    assert [item["status"] for item in items] == ["processed", "error", "processed"]
    assert all(item["acknowledged"] is True for item in items)
    ids = [item["transactionId"] for item in items]
    assert ids[2] == transaction_id
    assert all(isinstance(i, str) and i for i in ids) and len(set(ids)) == 3
    assert items[1]["error"] == ["workflow_not_found"]  # Novu's own text (issue 14)


def assert_bulk_recorded(stack: RunningStack, location: str) -> None:
    assert location.startswith("/v1/events/trigger/bulk/")
    view = stack.call("GET", location).json()["data"]
    assert view["total"] == 3


def run_node(script: str, url: str, data: Any, key: str = API_KEY) -> dict[str, Any]:
    env = {**os.environ, "CLARION_URL": url, "CLARION_API_KEY": key, "CLARION_INPUT": json.dumps(data)}
    done = subprocess.run(
        ["node", script], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def speakeasy_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Wire events -> the Speakeasy SDKs' input (workflowId instead of name)."""
    return [{"workflowId": e["name"], **{k: v for k, v in e.items() if k != "name"}} for e in events]


# ------------------------------------------------------------------------- novu-py (PyPI, Speakeasy)


def novu_py_client(url: str, key: str = API_KEY) -> Any:
    from novu_py import Novu
    from novu_py.utils import RetryConfig

    # retries off: a wrong answer fails at once instead of backing off for up to an hour
    return Novu(secret_key=key, server_url=url, retry_config=RetryConfig("none", None, False))


@needs_novu_py
def test_novu_py_trigger_bulk(stack: RunningStack, proxy: CaptureServer) -> None:
    transaction_id, events = wire_events("novu-py")
    sdk_events = [
        {
            "workflow_id": "welcome",
            "to": {"subscriber_id": "novu-py-ada", "first_name": "Ada"},
            "payload": {"sdk": "novu-py"},
        },
        {"workflow_id": UNKNOWN, "to": "novu-py-bob", "payload": {}},
        {"workflow_id": "welcome", "to": ["novu-py-carol"], "payload": {}, "transaction_id": transaction_id},
    ]
    answer = novu_py_client(proxy.url).trigger_bulk(bulk_trigger_event_dto={"events": sdk_events})

    exchange = only(proxy.take())
    assert_bulk_sent(exchange, events)
    assert exchange.header("idempotency-key")  # the SDK's hook adds one to every request
    items = [r.model_dump(by_alias=True, mode="json") for r in answer.result]
    assert_bulk_verdicts(items, transaction_id)
    assert_bulk_recorded(stack, answer.headers["location"][0])


@needs_novu_py
def test_novu_py_trigger(proxy: CaptureServer) -> None:
    answer = novu_py_client(proxy.url).trigger(
        trigger_event_request_dto={"workflow_id": "welcome", "to": "novu-py-ada", "payload": {"n": 1}}
    )
    exchange = only(proxy.take())
    assert_novu_request(exchange, "/v1/events/trigger")
    assert exchange.json() == {"name": "welcome", "to": "novu-py-ada", "payload": {"n": 1}}
    assert answer.result.status.value == "processed"
    assert answer.result.acknowledged is True
    assert answer.result.transaction_id


@needs_novu_py
def test_novu_py_bad_key_raises_typed_error(proxy: CaptureServer) -> None:
    from novu_py import models

    with pytest.raises(models.ErrorDto) as raised:
        novu_py_client(proxy.url, key="wrong").trigger(
            trigger_event_request_dto={"workflow_id": "welcome", "to": "x"}
        )
    assert raised.value.data.status_code == 401


@needs_novu_py
def test_novu_py_trigger_unknown_workflow_raises_validation_error(proxy: CaptureServer) -> None:
    from novu_py import models

    with pytest.raises(models.NovuError) as raised:
        novu_py_client(proxy.url).trigger(trigger_event_request_dto={"workflow_id": UNKNOWN, "to": "x"})
    assert only(proxy.take()).status == 422
    assert isinstance(raised.value, models.ValidationErrorDto), raised.value


@needs_novu_py
def test_novu_py_trigger_reused_transaction_id_raises_typed_error(proxy: CaptureServer) -> None:
    from novu_py import models

    client = novu_py_client(proxy.url)
    transaction_id = f"sdk-novu-py-{uuid.uuid4().hex[:12]}"
    client.trigger(
        trigger_event_request_dto={"workflow_id": "welcome", "to": "x", "transaction_id": transaction_id}
    )
    with pytest.raises(models.NovuError) as raised:
        client.trigger(
            trigger_event_request_dto={"workflow_id": "welcome", "to": "x", "transaction_id": transaction_id}
        )
    assert not isinstance(raised.value, models.ResponseValidationError), raised.value


# ---------------------------------------------------------------------------- novu 1.14 (PyPI, old)


@needs_novu
def test_novu_old_trigger_bulk(stack: RunningStack, proxy: CaptureServer) -> None:
    from novu.api import EventApi
    from novu.dto.event import InputEventDto

    transaction_id, events = wire_events("novu-old")
    answer = EventApi(proxy.url, API_KEY).trigger_bulk(
        [
            InputEventDto(e["name"], e["to"], e["payload"], transaction_id=e.get("transactionId"))
            for e in events
        ]
    )

    exchange = only(proxy.take())
    assert_bulk_sent(exchange, events)
    assert exchange.header("User-Agent") == "novu/python@1.14.0"
    assert [e.status for e in answer] == ["processed", "error", "processed"]
    assert [e.acknowledged for e in answer] == [True, True, True]
    assert answer[2].transaction_id == transaction_id
    # EventDto.transaction_id is a required field: error items need one too
    assert all(e.transaction_id for e in answer)
    assert_bulk_verdicts(exchange.response_json()["data"], transaction_id)
    assert_bulk_recorded(stack, dict(exchange.response_headers)["Location"])


@needs_novu
def test_novu_old_trigger(proxy: CaptureServer) -> None:
    from novu.api import EventApi

    transaction_id = f"sdk-novu-old-{uuid.uuid4().hex[:12]}"
    answer = EventApi(proxy.url, API_KEY).trigger(
        "welcome", "novu-old-ada", {"n": 1}, transaction_id=transaction_id
    )
    exchange = only(proxy.take())
    assert_novu_request(exchange, "/v1/events/trigger")
    assert exchange.json() == {
        "name": "welcome",
        "to": "novu-old-ada",
        "payload": {"n": 1},
        "transactionId": transaction_id,
    }
    assert (answer.status, answer.acknowledged, answer.transaction_id) == ("processed", True, transaction_id)


@needs_novu
def test_novu_old_trigger_unknown_workflow_raises_http_error(proxy: CaptureServer) -> None:
    import requests
    from novu.api import EventApi

    with pytest.raises(requests.HTTPError) as raised:
        EventApi(proxy.url, API_KEY).trigger(UNKNOWN, "x", {})
    assert raised.value.response.status_code == 422


# ------------------------------------------------------------------------ @novu/node 2.6.6 (npm, old)


@needs_node
def test_novu_node_bulk_trigger(stack: RunningStack, proxy: CaptureServer) -> None:
    transaction_id, events = wire_events("novu-node")
    out = run_node("bulk_trigger_novu_node.mjs", proxy.url, events)

    exchange = only(proxy.take())
    assert_bulk_sent(exchange, events)
    assert out["ok"], out
    assert out["status"] == 201
    assert list(out["data"]) == ["data"]  # the SDK hands back the raw body: {data: [...]}
    assert_bulk_verdicts(out["data"]["data"], transaction_id)
    assert_bulk_recorded(stack, out["headers"]["location"])


@needs_node
def test_novu_node_trigger(proxy: CaptureServer) -> None:
    out = run_node(
        "trigger_novu_node.mjs", proxy.url, {"name": "welcome", "to": "novu-node-ada", "payload": {"n": 1}}
    )
    exchange = only(proxy.take())
    assert_novu_request(exchange, "/v1/events/trigger")
    # the SDK always adds overrides {} (and drops an undefined transactionId)
    assert exchange.json() == {"name": "welcome", "to": "novu-node-ada", "payload": {"n": 1}, "overrides": {}}
    assert out["ok"], out
    assert out["status"] == 201
    assert out["data"]["data"]["status"] == "processed"
    assert out["data"]["data"]["transactionId"]


@needs_node
def test_novu_node_trigger_unknown_workflow_rejects_with_422(proxy: CaptureServer) -> None:
    out = run_node("trigger_novu_node.mjs", proxy.url, {"name": UNKNOWN, "to": "x"})
    assert not out["ok"]
    assert (out["error"]["class"], out["error"]["statusCode"]) == ("AxiosError", 422)
    assert out["error"]["body"]["message"] == "workflow_not_found"


# ------------------------------------------------------------------------ @novu/api (npm, Speakeasy)


@needs_node
def test_novu_api_trigger_bulk(stack: RunningStack, proxy: CaptureServer) -> None:
    transaction_id, events = wire_events("novu-api")
    out = run_node("bulk_trigger_novu_api.mjs", proxy.url, speakeasy_events(events))

    exchange = only(proxy.take())
    assert_bulk_sent(exchange, events)
    assert exchange.header("idempotency-key")
    assert out["ok"], out  # no ResponseValidationError: the answer matched the SDK's schema
    assert_bulk_verdicts(out["result"], transaction_id)
    assert_bulk_recorded(stack, out["headers"]["location"][0])


@needs_node
def test_novu_api_trigger(proxy: CaptureServer) -> None:
    out = run_node(
        "trigger_novu_api.mjs",
        proxy.url,
        {"workflowId": "welcome", "to": "novu-api-ada", "payload": {"n": 1}},
    )
    exchange = only(proxy.take())
    assert_novu_request(exchange, "/v1/events/trigger")
    assert exchange.json() == {"name": "welcome", "to": "novu-api-ada", "payload": {"n": 1}}
    assert out["ok"], out
    assert out["result"]["status"] == "processed"
    assert out["result"]["transactionId"]


@needs_node
def test_novu_api_bad_key_raises_typed_error(proxy: CaptureServer) -> None:
    out = run_node("trigger_novu_api.mjs", proxy.url, {"workflowId": "welcome", "to": "x"}, key="wrong")
    assert (out["ok"], out["error"]["class"], out["error"]["statusCode"]) == (False, "ErrorDto", 401)


@needs_node
def test_novu_api_trigger_unknown_workflow_raises_validation_error(proxy: CaptureServer) -> None:
    out = run_node("trigger_novu_api.mjs", proxy.url, {"workflowId": UNKNOWN, "to": "x"})
    assert (out["ok"], out["error"]["statusCode"]) == (False, 422)
    assert out["error"]["class"] == "ValidationErrorDto", out["error"]


@needs_node
def test_novu_api_trigger_reused_transaction_id_raises_typed_error(proxy: CaptureServer) -> None:
    event = {"workflowId": "welcome", "to": "x", "transactionId": f"sdk-novu-api-{uuid.uuid4().hex[:12]}"}
    assert run_node("trigger_novu_api.mjs", proxy.url, event)["ok"]
    out = run_node("trigger_novu_api.mjs", proxy.url, event)
    assert not out["ok"]
    assert out["error"]["class"] != "ResponseValidationError", out["error"]


# ------------------------------------------------- suprsend-py-sdk 0.20 (capture only: no /trigger/ yet)


@pytest.fixture
def suprsend_server() -> Iterator[CaptureServer]:
    with CaptureServer(respond=ss.reference_answer) as server:
        yield server


def assert_suprsend_common(exchange: Exchange, path: str = "/trigger/") -> None:
    assert (exchange.method, exchange.path) == ("POST", path)
    assert exchange.header("Content-Type") == "application/json; charset=utf-8"
    assert (exchange.header("User-Agent") or "").startswith("suprsend-py-sdk/0.20")
    assert exchange.header("Content-MD5") is None
    assert exchange.body == json.dumps(exchange.json(), ensure_ascii=False).encode()  # json.dumps defaults


def assert_hmac(exchange: Exchange) -> None:
    date = exchange.header("Date") or ""
    assert date.endswith(" GMT")
    sent_at = email.utils.parsedate_to_datetime(date).timestamp()
    assert abs(sent_at - time.time()) < 60
    workspace, _, sig = (exchange.header("Authorization") or "").partition(":")
    assert workspace == ss.WORKSPACE
    assert sig == ss.signature(exchange, ss.SECRET)  # our rebuild of the string to sign matches the SDK's


@needs_suprsend
@pytest.mark.parametrize("auth", ["bearer", "hmac"])
def test_suprsend_workflow_trigger_and_bulk_are_captured(suprsend_server: CaptureServer, auth: str) -> None:
    from suprsend import Suprsend

    client = ss.clients(suprsend_server.url)[auth]
    assert isinstance(client, Suprsend)
    results = ss.run_workflows(client)
    single, bulk = suprsend_server.take()

    for exchange in (single, bulk):
        assert_suprsend_common(exchange)
        if auth == "bearer":
            assert exchange.header("Authorization") == f"Bearer {ss.SECRET}"
            assert exchange.header("Date") is None
        else:
            assert_hmac(exchange)

    assert single.json() == {
        "workflow": "welcome",
        "recipients": [{"distinct_id": "ada", "$email": ["ada@example.com"]}],
        "actor": {"distinct_id": "admin"},
        "data": {"order": "A-1"},
        "$idempotency_key": "idem-1",
        "tenant_id": "t1",
    }
    assert single.status == 202
    message_id = single.response_json()["message_id"]
    assert results["single"] == {
        "success": True,
        "status": "success",
        "status_code": 202,
        "message": message_id,
        "raw_response": {"message_id": message_id, "status": "success"},
    }

    records = bulk.json()
    assert isinstance(records, list)
    assert [r["workflow"] for r in records] == ["welcome", ss.UNKNOWN_WORKFLOW, "welcome"]
    assert records[2]["$idempotency_key"] == "idem-2" and "$idempotency_key" not in records[0]
    assert bulk.status == 207
    assert results["bulk"] == {
        "status": "partial",
        "total": 3,
        "success": 2,
        "failure": 1,
        "failed_records": [
            {"record": records[1], "error": f"workflow '{ss.UNKNOWN_WORKFLOW}' not found", "code": 404}
        ],
        "warnings": [],
    }


@needs_suprsend
def test_suprsend_events_api_needs_a_20_character_workspace_key(suprsend_server: CaptureServer) -> None:
    short = ss.run_events(ss.clients(suprsend_server.url)["hmac"])
    assert suprsend_server.take() == []  # refused inside the SDK, nothing sent
    assert "'development' is too short" in short["single"]["raised"]

    results = ss.run_events(ss.clients(suprsend_server.url, ss.LONG_WORKSPACE)["hmac"])
    single, bulk = suprsend_server.take()
    assert_suprsend_common(single, "/v2/event/")
    assert_suprsend_common(bulk, "/v2/bulk/event/")
    assert (single.header("Authorization") or "").startswith(f"{ss.LONG_WORKSPACE}:")
    assert single.json()["env"] == ss.LONG_WORKSPACE
    assert results["single"]["status_code"] == 202
    assert results["bulk"]["total"] == 2 and results["bulk"]["success"] == 2


def _single(url: str) -> Any:
    from suprsend import WorkflowTriggerRequest

    return ss.clients(url)["bearer"].workflows.trigger(WorkflowTriggerRequest(ss.workflow("welcome", "ada")))


def _bulk(url: str) -> Any:
    from suprsend import WorkflowTriggerRequest

    bulk = ss.clients(url)["bearer"].workflows.bulk_trigger_instance()
    bulk.append(*(WorkflowTriggerRequest(ss.workflow("welcome", f"u{i}")) for i in range(2)))
    return vars(bulk.trigger())


@needs_suprsend
@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, {"error": {"message": "bad key", "type": "unauthorized"}}, "bad key"),
        # the reference's flat {status, message} error: the SDK only reads error.message
        (404, {"status": "fail", "message": "workflow 'x' not found"}, None),
        (500, b"<html>bad gateway</html>", "<html>bad gateway</html>"),
    ],
)
def test_suprsend_single_trigger_maps_errors(status: int, body: Any, message: Any) -> None:
    with CaptureServer(respond=ss.fixed_answer(status, body)) as server:
        result = _single(server.url)
    assert (result["success"], result["status"], result["status_code"], result["message"]) == (
        False,
        "fail",
        status,
        message,
    )


@needs_suprsend
def test_suprsend_single_trigger_crashes_on_a_string_error_field() -> None:
    # Novu-style {"error": "Bad Request"}: the SDK calls .get on the string
    answer = ss.fixed_answer(400, {"statusCode": 400, "error": "Bad Request"})
    with CaptureServer(respond=answer) as server, pytest.raises(AttributeError):
        _single(server.url)


@needs_suprsend
def test_suprsend_bulk_maps_a_whole_request_error_onto_every_record() -> None:
    with CaptureServer(respond=ss.fixed_answer(401, {"error": {"message": "bad key"}})) as server:
        result = _bulk(server.url)
    assert (result["status"], result["total"], result["success"], result["failure"]) == ("fail", 2, 0, 2)
    assert [(r["error"], r["code"]) for r in result["failed_records"]] == [("bad key", 401)] * 2


@needs_suprsend
@pytest.mark.parametrize(
    "body",
    [
        # a bare array (not {records: [...]})
        [{"status": "success", "status_code": 202}],
        # an error record without error.message
        {"records": [{"status": "error", "status_code": 404}], "status": "success"},
    ],
)
def test_suprsend_bulk_crashes_on_answers_off_the_reference_shape(body: Any) -> None:
    with CaptureServer(respond=ss.fixed_answer(207, body)) as server, pytest.raises((TypeError, KeyError)):
        _bulk(server.url)


@needs_suprsend
@pytest.mark.parametrize("auth", ["bearer", "hmac"])
def test_suprsend_sdk_triggers_against_the_stack(stack: RunningStack, auth: str) -> None:
    """suprsend-py-sdk 0.20, unmodified: workflows.trigger and bulk_trigger_instance, with Bearer
    auth and with its HMAC signature (workspace key = environment id, secret = its API key)."""
    client = ss.clients(stack.url)[auth]
    result = ss.run_workflows(client)
    single = result["single"]
    assert single["success"] is True, single
    assert single["status_code"] == 202
    assert single["message"] == "idem-1"  # the $idempotency_key is the message id
    bulk = result["bulk"]
    assert (bulk["status"], bulk["total"], bulk["success"], bulk["failure"]) == ("partial", 3, 2, 1), bulk
    (failed,) = bulk["failed_records"]
    assert failed["code"] == 404
    assert failed["record"]["workflow"] == ss.UNKNOWN_WORKFLOW
    view = stack.call("GET", "/v1/events/trigger/idem-1")
    assert view.status_code == 200
    assert view.json()["data"]["workflowId"] == "welcome"


@needs_suprsend
def test_suprsend_sdk_with_a_wrong_secret_is_refused(stack: RunningStack) -> None:
    from suprsend import Suprsend, WorkflowTriggerRequest

    client = Suprsend(ss.WORKSPACE, "not-the-secret", base_url=stack.url)
    answer = client.workflows.trigger(WorkflowTriggerRequest(ss.workflow("welcome", "ada")))
    assert (answer["success"], answer["status_code"]) == (False, 401)
    assert answer["message"] == "signature does not match"

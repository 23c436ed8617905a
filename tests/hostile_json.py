"""Issue 11's hostile bodies (points 8 and 14), for every route that reads a body, and what each
must be answered: shared by the in-process test and the one over HTTP on the local stack."""

from __future__ import annotations

import json
import re
from typing import Any

from clarion.api import altcraft, opt_in, sequenzy, suprsend_cancel, suprsend_events
from clarion.api.app import app

from tests.strategies import nested

SUPRSEND_PATH = "/trigger/"
SUPRSEND_PATHS = {SUPRSEND_PATH, *suprsend_events.PATHS, suprsend_cancel.PATH}  # SuprSend's error shape
ALTCRAFT_PATHS = set(altcraft.PATHS)  # Altcraft's envelope: {error, error_text, error_debug}
SEQUENZY_PATHS = {*sequenzy.PATHS, opt_in.PATH}  # Sequenzy's error shape: {success: false, error}


def message_of(path: str, answer: Any) -> str:
    """A refusal's message, where the route's dialect puts it."""
    if path in SUPRSEND_PATHS:
        return str(answer["error"]["message"])
    if path in ALTCRAFT_PATHS:
        return str(answer.get("error_debug") or answer["error_text"])
    if path in SEQUENZY_PATHS:
        assert answer["success"] is False, answer
        return str(answer["error"])
    return str(answer["message"])


def not_json_message(path: str, content_type: str) -> str:
    """What a route answers to a body not declared JSON (Altcraft's routes also read XML)."""
    accepted = "application/json or application/xml" if path in ALTCRAFT_PATHS else "application/json"
    return f"Content-Type: send {accepted}, not {content_type}"


def body_routes() -> list[tuple[str, str]]:
    """(method, path) of every route that reads a body: each POST, and each PUT/PATCH/DELETE that
    declares one, from the served OpenAPI document; path parameters filled in."""
    document = json.loads(app.get_openapi_json_schema())
    routes = [
        (method.upper(), re.sub(r"\{[^}]+\}", "hostile", path) + ("/" if path == "/trigger" else ""))
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method == "post" or (method in ("put", "patch", "delete") and "requestBody" in operation)
    ]
    assert len(routes) >= 19, routes  # the trigger routes, the management routes
    return routes


def _body_with(value: str, *, also_in_data: bool = True) -> str:
    """A body shaped for any route (Novu event, SuprSend record, workflow, subscriber, tenant),
    with `value`'s JSON text in its payload (and its data)."""
    body = {
        "name": "welcome",
        "to": "ada",
        "workflow": "welcome",
        "recipients": ["ada"],
        "workflowId": "hostile",
        "subscriberId": "hostile",
        "identifier": "hostile",
        "key": "hostile",
        "payload": {"x": "@value@"},
        "data": {"x": "@value@" if also_in_data else "small"},
    }
    return json.dumps(body).replace('"@value@"', value)


# (case, body text, status, field named, what the message says)
CASES: list[tuple[str, str, int, str, str]] = [
    ("nesting 10,000 deep", _body_with(nested(10_000)), 400, "body", "nested deeper than 64 levels"),
    ("an integer of 5,000 digits", _body_with("9" * 5000), 400, "payload.x", "an integer of 5000 digits"),
    ("a lone surrogate", _body_with('"\\ud800"'), 400, "payload.x", "lone UTF-16 surrogate (\\ud800)"),
    ("NaN", _body_with("NaN"), 400, "payload.x", "NaN is not JSON"),
    ("Infinity", _body_with("Infinity"), 400, "payload.x", "Infinity is not JSON"),
    ("1e400", _body_with("1e400"), 400, "payload.x", "1e400 is beyond the range of a double"),
    (
        "a 9 MB body",
        _body_with(json.dumps("x" * 9_000_000), also_in_data=False),
        413,
        "body",
        "route accepts",
    ),
]
NOT_JSON_TYPES = ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded"]


def assert_refused(path: str, status: int, answer: Any, expected: int, field: str, says: str) -> None:
    """The refusal is `expected`, in the route's dialect, and names the field and the problem."""
    if path in ALTCRAFT_PATHS:  # Altcraft documents a 400 for a body over its limit
        assert status == (400 if expected == 413 else expected), (path, status, answer)
        assert answer["error"] == status and answer["error_text"] == "Invalid request", answer
        if expected == 413:
            assert answer["error_debug"] == "http: request body too large", answer
        else:
            assert answer["error_debug"].startswith(f"{field}: ") and says in answer["error_debug"], answer
        return
    assert status == expected, (path, status, answer)
    if path in SUPRSEND_PATHS:
        assert answer["status"] == "fail", answer
        assert says in answer["error"]["message"] and answer["error"]["message"].startswith(f"{field}: ")
        return
    if path in SEQUENZY_PATHS:
        assert answer["success"] is False and set(answer) == {"success", "error"}, answer
        assert says in answer["error"] and answer["error"].startswith(f"{field}: "), answer
        return
    assert answer.get("statusCode") == expected and answer["path"] == path, (path, answer)
    assert answer["message"].startswith(f"{field}: ") and says in answer["message"], answer
    if expected == 400:
        assert [e["field"] for e in answer["errors"]] == [field], answer

"""Examples of every dialect's requests and answers as the OpenAPI document shows them (api.openapi):
each validates against its schema in the document (tests/integration/test_openapi_document.py),
and the answers are ones the routes give."""

from __future__ import annotations

from typing import Any

NOVU_EVENT: dict[str, Any] = {
    "name": "welcome",
    "to": {"subscriberId": "ada", "email": "ada@example.com", "firstName": "Ada"},
    "payload": {"order": "A-1"},
}
NOVU_BULK: dict[str, Any] = {
    "events": [
        NOVU_EVENT,
        {"name": "welcome", "to": ["bob", "carol"], "payload": {"order": "B-2"}},
        {"name": "welcome", "to": {"type": "Topic", "topicKey": "beta-testers"}},
    ]
}
NOVU_BROADCAST: dict[str, Any] = {"name": "welcome", "payload": {"news": "We moved"}}
_PROCESSED = {
    "acknowledged": True,
    "status": "processed",
    "transactionId": "c1c5ab1e-6f0e-4bb4-9d36-2f7b3f44a001",
}
NOVU_ANSWER: dict[str, Any] = {"data": _PROCESSED}
NOVU_BULK_ANSWER: dict[str, Any] = {
    "data": [
        _PROCESSED,
        {**_PROCESSED, "transactionId": "order-B-2"},
        {
            "acknowledged": True,
            "status": "error",
            "error": ["workflow 'no-such-workflow' not found"],
            "transactionId": "c1c5ab1e-6f0e-4bb4-9d36-2f7b3f44a003",
        },
    ]
}


def novu_error(status_code: int, path: str, message: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "statusCode": status_code,
        "timestamp": "2026-01-01T00:00:00.000Z",
        "path": path.replace("{", "").replace("}", ""),
        "message": message,
    }
    if status_code == 400:
        body |= {"type": "validation_error", "errors": [{"field": "name", "message": "Field required"}]}
    return body


SUPRSEND_BULK: list[dict[str, Any]] = [
    {
        "workflow": "welcome",
        "recipients": [{"distinct_id": "ada", "$email": ["ada@example.com"], "name": "Ada"}],
        "data": {"order": "A-1"},
        "$idempotency_key": "order-A-1",
    },
    {"workflow": "welcome", "recipients": ["bob"], "data": {"order": "B-2"}},
]
SUPRSEND_ACCEPTED: dict[str, Any] = {"message_id": "01JD8Y4S1Q3K7M2N5P6R8T0V9W", "status": "success"}
SUPRSEND_MULTI: dict[str, Any] = {
    "records": [
        {"status": "success", "status_code": 202, "message_id": "01JD8Y4S1Q3K7M2N5P6R8T0V9W"},
        {
            "status": "error",
            "status_code": 404,
            "error": {"message": "workflow not found", "type": "not_found"},
        },
    ],
    "status": "success",
}
SUPRSEND_EVENTS: list[dict[str, Any]] = [
    {"event": "order_shipped", "distinct_id": "ada", "properties": {"order": "A-1"}},
    {"distinct_id": "ada", "$set": {"plan": "pro"}, "$append": {"$email": "ada@work.example.com"}},
]
SUPRSEND_EVENTS_MULTI: dict[str, Any] = {
    "records": [
        {
            "status": "success",
            "status_code": 202,
            "message_id": "01JD8Y4S1Q3K7M2N5P6R8T0V9X",
            "workflows": [],
        },
        {"status": "success", "status_code": 202, "message_id": "01JD8Y4S1Q3K7M2N5P6R8T0V9Y"},
    ],
    "status": "success",
}
SUPRSEND_CANCEL: dict[str, Any] = {"cancellation_key": "order-42", "workflow_slug": "welcome"}
SUPRSEND_CANCELLED: dict[str, Any] = {"execution_ids": ["3c2b9f5e-8f4d-4c8e-9a51-7d9e2b1c0f42"]}


def suprsend_failure(message: str) -> dict[str, Any]:
    return {"status": "fail", "message": message, "error": {"message": message, "type": "bad_request"}}


BULK_STATUS: dict[str, Any] = {
    "data": {
        "bulkId": "01JD8Y4S1Q3K7M2N5P6R8T0V9W",
        "status": "partially_failed",
        "total": 3,
        "counts": {"completed": 2, "error": 1},
        "createdAt": "2026-01-01T00:00:00.000Z",
        "startedAt": "2026-01-01T00:00:00.120Z",
        "completedAt": "2026-01-01T00:00:01.480Z",
    }
}
BULK_RECORDS: dict[str, Any] = {
    "data": [
        {"index": 0, "transactionId": "c1c5ab1e-6f0e-4bb4-9d36-2f7b3f44a001", "status": "completed"},
        {
            "index": 2,
            "transactionId": "c1c5ab1e-6f0e-4bb4-9d36-2f7b3f44a003",
            "status": "error",
            "error": "workflow 'no-such-workflow' not found",
        },
    ],
    "next": None,
}
TRANSACTION: dict[str, Any] = {
    "data": {
        "transactionId": "order-B-2",
        "bulkId": "01JD8Y4S1Q3K7M2N5P6R8T0V9W",
        "index": 1,
        "workflowId": "welcome",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "status": "completed",
        "error": None,
        "recipients": [
            {
                "subscriberId": "bob",
                "steps": [{"stepId": "inbox", "channel": "in_app", "status": "sent", "detail": None}],
            }
        ],
    }
}


ALTCRAFT_START_BATCH: dict[str, Any] = {
    "token": "clarion-dev-key",
    "trigger_id": 1,
    "matching": "email",
    "data": [{"email": "ada@example.com"}, {"email": "bob@example.com"}],
    "content": {"order": "A-1"},
}
ALTCRAFT_START_BATCH_TASK: dict[str, Any] = {
    **{k: v for k, v in ALTCRAFT_START_BATCH.items() if k != "trigger_id"},
    "id": 1,
}
ALTCRAFT_ANSWER: dict[str, Any] = {
    "error": 0,
    "error_text": "Successful operation",
    "result": [
        {"profile_id": "ada"},
        {
            "error": 404,
            "error_text": "Profile not found",
            "error_debug": "no profile with email 'bob@example.com'",
        },
    ],
}
ALTCRAFT_TASK: dict[str, Any] = {
    "error": 0,
    "error_text": "Successful operation",
    "result": {"task_id": "01JD8Y4S1Q3K7M2N5P6R8T0V9W"},
}


def altcraft_failure(code: int, message: str) -> dict[str, Any]:
    return {"error": code, "error_text": message}


SEQUENZY_EVENTS: dict[str, Any] = {
    "email": "ada@example.com",
    "externalId": "ada",
    "firstName": "Ada",
    "customAttributes": {"plan": "pro"},
    "events": [{"name": "welcome", "properties": {"order": "A-1"}, "eventId": "evt-1"}],
}
SEQUENZY_ANSWER: dict[str, Any] = {
    "success": True,
    "subscriber": {"id": "ada", "email": "ada@example.com", "externalId": "ada", "created": True},
    "events": [{"id": "evt-1", "name": "welcome", "definitionCreated": True}],
}


def sequenzy_failure(message: str) -> dict[str, Any]:
    return {"success": False, "error": message}

"""The OpenAPI document (`/swagger?format=json`, Swagger UI at `/swagger`): what Powertools
generates from the routes, completed here with what it cannot see.

- The server URL is `.`: relative to where the document is served, so Swagger UI and any client
  that resolves it against the document's URL reach the API at the root locally, under the stage
  on execute-api (`/live/`), at the root of a custom domain. Powertools' own guess (`/{stage}` when
  the request context's path starts with it) is wrong on the local stack, whose gateway reports
  the AWS path while serving at the root.
- The trigger routes read their bodies by hand (each record is validated on its own by its
  dialect, as leniently as the service it imitates), so Powertools sees no body: their request
  bodies, answers and examples are declared here from the dialects' models (and
  api.openapi_models), for the document only; nothing here validates a request.
- The security schemes the API takes (api.auth), and the error bodies every route answers with
  (api.app's exception handlers), in place of Powertools' own 422 shape, which Clarion never sends.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from clarion.api.openapi_security import SECURITY_SCHEMES

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI
    from pydantic import BaseModel

REF = "#/components/schemas/{model}"
SERVERS = [{"url": ".", "description": "where this document is served from (its base path)"}]
API_KEY_SECURITY: list[dict[str, list[str]]] = [{"ApiKey": []}, {"Bearer": []}, {"SuprSendHmac": []}]
PUBLIC = ("/v1/health", "/v1/inbox/session", "/v1/opt-in/confirm")  # the opt-in link is signed itself
INBOX = "/v1/inbox/"
ALTCRAFT = "/api/v1.1/"
ERRORS = {  # status -> (when, an example message)
    400: ("A bad input: the message (and `errors`) name the field.", "Validation failed"),
    401: ("No valid API key or signature.", "API key is missing: send 'Authorization: ApiKey <key>'"),
    404: ("Not found in the caller's environment.", "bulkId: bulk '01JD8Y4S1Q3K7M2N5P6R8T0V9W' not found"),
    413: ("The body is over the route's limit.", "body: larger than 5 MB"),
    415: ("The body is not JSON.", "Content-Type: send application/json, not text/plain"),
    422: ("Understood but refused (a single trigger of an unknown workflow).", "workflow_not_found: welcome"),
    429: ("Over the environment's rate limit: `Retry-After` says when to retry.", "rate limit exceeded"),
}
# Routes whose success is not Powertools' 200 (they answer a Response of their own); checked
# against the routes' real answers in tests/integration/test_openapi_statuses.py.
CREATED = (
    *("/v1/workflows", "/v1/subscribers", "/v1/subscribers/bulk", "/v1/tenants", "/v1/topics"),
    *("/v1/integrations", "/v1/inbox/session"),
)
NO_CONTENT = {
    ("delete", "/v1/tenants/{identifier}"),
    ("delete", "/v1/topics/{topic_key}/subscribers"),
    ("post", "/v1/topics/{topic_key}/subscribers/removal"),
    ("delete", "/v1/inbox/notifications/{notification_id}/delete"),
    *(
        ("post", f"/v1/inbox/notifications/{action}")
        for action in ("read", "archive", "read-archive", "seen", "delete")
    ),
}
SEQUENZY_PATHS = ("/api/v1/subscribers/events/bulk", "/v1/subscribers/events/bulk", "/v1/opt-in/confirm")
SUPRSEND_PATHS = ("/trigger", "/event", "/v2/event", "/v2/bulk/event", "/v1/workflow_run/cancel")


class DocumentedResolver(APIGatewayRestResolver):
    """Powertools' REST resolver whose OpenAPI document is completed by `complete` (every way
    the document is read, the served JSON and Swagger UI included, goes through here)."""

    def get_openapi_schema(self, **options: Any) -> OpenAPI:
        from aws_lambda_powertools.event_handler.openapi.models import OpenAPI  # only when it is read

        generated = super().get_openapi_schema(**options)
        document = generated.model_dump(mode="json", by_alias=True, exclude_none=True)
        return OpenAPI.model_validate(complete(document))


def _schemas(*models: type[BaseModel]) -> tuple[dict[type[BaseModel], dict[str, Any]], dict[str, Any]]:
    """Each model's `$ref` and every definition they need, named as Powertools names them."""
    from pydantic.json_schema import models_json_schema

    refs, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    return {model: refs[(model, "validation")] for model in models}, top.get("$defs", {})


def _json(schema: dict[str, Any], example: Any, description: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"content": {"application/json": {"schema": schema, "example": example}}}
    return {**body, "description": description} if description else body


def _bodies() -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, Any]]:
    """(method, path) -> what the document says of the operation; and the components it uses.
    Imported here: the document is built when it is read, not on every cold start."""
    from clarion.api import altcraft as altcraft_route
    from clarion.api import openapi_models as answers
    from clarion.api import sequenzy as sequenzy_route
    from clarion.api import suprsend as suprsend_route
    from clarion.api import suprsend_cancel, suprsend_events
    from clarion.dialects import altcraft, examples, novu, sequenzy, suprsend
    from clarion.dialects import suprsend_events as suprsend_items

    refs, definitions = _schemas(
        novu.NovuTriggerEvent,
        answers.NovuBulkTriggerRequest,
        answers.NovuTriggerResponse,
        answers.NovuBulkTriggerResponse,
        suprsend.WorkflowTrigger,
        suprsend_items.TrackedEvent,
        answers.SuprSendUserEdit,
        suprsend_cancel.CancelRequest,
        answers.SuprSendAccepted,
        answers.SuprSendMultiStatus,
        answers.SuprSendCancelled,
        answers.BulkStatusResponse,
        answers.BulkRecordsResponse,
        answers.TransactionStatusResponse,
        answers.CancelledResponse,
        altcraft.StartBatch,
        answers.AltcraftAnswer,
        sequenzy.BulkEventsRequest,
        sequenzy.SequenzyEvent,
        answers.SequenzyAnswer,
    )
    broadcast = copy.deepcopy(definitions["NovuTriggerEvent"])
    broadcast["properties"].pop("to")
    broadcast["required"] = [name for name in broadcast.get("required", []) if name != "to"]
    broadcast["description"] = "A trigger without `to`: sent to every subscriber of the environment."
    definitions["NovuBroadcastEvent"] = broadcast

    def one_or_many(item: dict[str, Any], most: int) -> dict[str, Any]:
        return {"anyOf": [item, {"type": "array", "items": item, "minItems": 1, "maxItems": most}]}

    novu_answer, novu_bulk = refs[answers.NovuTriggerResponse], refs[answers.NovuBulkTriggerResponse]
    accepted, multi = refs[answers.SuprSendAccepted], refs[answers.SuprSendMultiStatus]
    created = "Accepted (or refused) and recorded; `Location: /v1/events/trigger/bulk/{bulkId}`."
    per_item = "An array: one record per item, in request order."
    suprsend_event = {"anyOf": [refs[suprsend_items.TrackedEvent], refs[answers.SuprSendUserEdit]]}
    operations: dict[tuple[str, str], dict[str, Any]] = {
        ("post", "/v1/events/trigger"): {
            "requestBody": _json(refs[novu.NovuTriggerEvent], examples.NOVU_EVENT),
            "responses": {"201": _json(novu_answer, examples.NOVU_ANSWER, created)},
        },
        ("post", "/v1/events/trigger/bulk"): {
            "requestBody": _json(refs[answers.NovuBulkTriggerRequest], examples.NOVU_BULK),
            "responses": {"201": _json(novu_bulk, examples.NOVU_BULK_ANSWER, f"One per event. {created}")},
        },
        ("post", "/v1/events/trigger/broadcast"): {
            "requestBody": _json({"$ref": REF.format(model="NovuBroadcastEvent")}, examples.NOVU_BROADCAST),
            "responses": {"201": _json(novu_answer, examples.NOVU_ANSWER, created)},
        },
        ("post", suprsend_route.PATH): {
            "requestBody": _json(
                one_or_many(refs[suprsend.WorkflowTrigger], suprsend.MAX_RECORDS), examples.SUPRSEND_BULK
            ),
            "responses": {
                "202": _json(accepted, examples.SUPRSEND_ACCEPTED, "One trigger (an object), accepted."),
                "207": _json(multi, examples.SUPRSEND_MULTI, per_item),
            },
        },
        ("post", suprsend_cancel.PATH): {
            "requestBody": _json(refs[suprsend_cancel.CancelRequest], examples.SUPRSEND_CANCEL),
            "responses": {
                "200": _json(refs[answers.SuprSendCancelled], examples.SUPRSEND_CANCELLED, "Cancelled runs.")
            },
        },
        ("get", "/v1/events/trigger/bulk/{bulk_id}"): {
            "responses": {
                "200": _json(refs[answers.BulkStatusResponse], examples.BULK_STATUS, "Its status.")
            },
        },
        ("get", "/v1/events/trigger/bulk/{bulk_id}/records"): {
            "responses": {
                "200": _json(refs[answers.BulkRecordsResponse], examples.BULK_RECORDS, "In request order.")
            },
        },
        ("get", "/v1/events/trigger/{transaction_id}"): {
            "responses": {
                "200": _json(refs[answers.TransactionStatusResponse], examples.TRANSACTION, "One trigger.")
            },
        },
        ("delete", "/v1/events/trigger/{transaction_id}"): {
            "responses": {"200": _json(refs[answers.CancelledResponse], {"data": True}, "Cancelled or not.")},
        },
    }
    for path in suprsend_events.PATHS:
        operations[("post", path)] = {
            "requestBody": _json(
                one_or_many(suprsend_event, suprsend_items.MAX_ITEMS), examples.SUPRSEND_EVENTS
            ),
            "responses": {
                "202": _json(accepted, examples.SUPRSEND_ACCEPTED, "One event (an object), accepted."),
                "207": _json(multi, examples.SUPRSEND_EVENTS_MULTI, per_item),
            },
        }
    altcraft_answer = refs[answers.AltcraftAnswer]
    altcraft_body = "Altcraft's request (also as XML: `Content-Type: application/xml`)."
    operations[("post", altcraft_route.START_BATCH)] = {
        "requestBody": _json(refs[altcraft.StartBatch], examples.ALTCRAFT_START_BATCH, altcraft_body),
        "responses": {
            "200": _json(altcraft_answer, examples.ALTCRAFT_ANSWER, "One result per item, in order.")
        },
    }
    operations[("post", altcraft_route.START_BATCH_TASK)] = {
        "requestBody": _json(
            refs[altcraft.StartBatch],
            examples.ALTCRAFT_START_BATCH_TASK,
            altcraft_body,
        ),
        "responses": {"200": _json(altcraft_answer, examples.ALTCRAFT_TASK, "The task id (a bulk id).")},
    }
    sequenzy_body = definitions["BulkEventsRequest"]
    sequenzy_body["properties"]["events"]["items"] = refs[sequenzy.SequenzyEvent]  # each read on its own
    for path in sequenzy_route.PATHS:
        operations[("post", path)] = {
            "requestBody": _json(refs[sequenzy.BulkEventsRequest], examples.SEQUENZY_EVENTS),
            "responses": {
                "200": _json(refs[answers.SequenzyAnswer], examples.SEQUENZY_ANSWER, "Each event's outcome.")
            },
        }
    return operations, definitions


def _errors(path: str) -> dict[str, dict[str, Any]]:
    """The error answers of a route, in its dialect's shape (api.app's exception handlers)."""
    from clarion.dialects import examples

    shape = "SuprSendFailure" if path in SUPRSEND_PATHS else "ErrorBody"
    shape = "AltcraftAnswer" if path.startswith(ALTCRAFT) else shape
    shape = "SequenzyFailure" if path in SEQUENZY_PATHS else shape
    answers_by_code: dict[str, dict[str, Any]] = {}
    for code, (text, message) in ERRORS.items():
        if shape == "SuprSendFailure":
            example = examples.suprsend_failure(message)
        elif shape == "SequenzyFailure":
            example = examples.sequenzy_failure(message)
        elif shape == "AltcraftAnswer":
            example = examples.altcraft_failure(code, message)
        else:
            example = examples.novu_error(code, path, message)
        answers_by_code[str(code)] = _json({"$ref": REF.format(model=shape)}, example, text)
    return answers_by_code


def _success(method: str, path: str, generated: dict[str, Any] | None) -> dict[str, Any]:
    if (method, path) in NO_CONTENT:
        return {"204": {"description": "Done (no body)."}}
    if method == "post" and path in CREATED and generated:
        return {"201": {**generated, "description": "Created."}}
    return {}


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """The generated document with servers, security, the trigger routes' bodies and answers,
    and the error bodies; a route the document does not list is not invented here."""
    from clarion.api import openapi_models as answers

    operations, definitions = _bodies()
    _, error_definitions = _schemas(answers.ErrorBody, answers.SuprSendFailure, answers.SequenzyFailure)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in {**definitions, **error_definitions}.items():
        if name in schemas and schemas[name] != definition:
            raise ValueError(f"OpenAPI component {name} is defined twice, differently")
        schemas[name] = definition
    document["components"]["securitySchemes"] = SECURITY_SCHEMES
    document["servers"] = SERVERS
    document["security"] = API_KEY_SECURITY
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            declared = operations.get((method, path), {})
            responses = operation.setdefault("responses", {})
            success = declared.get("responses") or _success(method, path, responses.get("200"))
            if success:
                responses.pop("200", None)
                responses.update(success)
            responses.update(_errors(path))
            if "requestBody" in declared:
                operation["requestBody"] = {"required": True, **declared["requestBody"]}
            if path in PUBLIC:
                operation["security"] = []
            elif path.startswith(INBOX):
                operation["security"] = [{"InboxSession": []}]
            elif path.startswith(ALTCRAFT):  # Altcraft's `token` in the body, or Bearer
                operation["security"] = [{"Bearer": []}, {}]
            elif path in SEQUENZY_PATHS[:2]:
                operation["security"] = [{"Bearer": []}]
    return document

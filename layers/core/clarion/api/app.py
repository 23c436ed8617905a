"""The API resolver: routes from each resource's router, auth as middleware, errors mapped to
HTTP here and nowhere else."""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from clarion.api import (
    activity,
    altcraft,
    environment,
    events,
    inbox,
    inbox_auth,
    inbox_changes,
    inbox_preferences,
    integrations,
    messages,
    opt_in,
    sequenzy,
    status,
    subscribers,
    suprsend,
    suprsend_cancel,
    suprsend_events,
    tenants,
    topics,
    workflows,
)
from clarion.api.auth import SignedRequest, environment_for
from clarion.api.body import declares_json, max_bytes, max_stored_bytes, parse_json
from clarion.api.errors import ApiError, BadRequestError, field_errors
from clarion.api.openapi import DocumentedResolver
from clarion.clock import now_iso
from clarion.dialects import sequenzy as sequenzy_dialect
from clarion.dialects import suprsend as suprsend_dialect


def _strict_json(text: str) -> Any:
    """Every route's body, read by one strict parser (api.body) under its route's size limit."""
    path = app.current_event.path
    return parse_json(text, limit=max_bytes(path), stored_limit=max_stored_bytes(path))


app = DocumentedResolver(enable_validation=True, json_body_deserializer=_strict_json)  # api.openapi
app.enable_swagger(path="/swagger", title="Clarion", description="Notification trigger engine")

_PUBLIC_PATHS = ("/v1/health", "/swagger", opt_in.PATH)  # the opt-in link carries its own signature
_SUPRSEND_PATHS = (suprsend.PATH, *suprsend_events.PATHS, suprsend_cancel.PATH)  # SuprSend's error shape
_SEQUENZY_PATHS = (*sequenzy.PATHS, opt_in.PATH)  # Sequenzy's error shape
_METHODS_WITH_BODIES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class UnsupportedMediaTypeError(ApiError):
    status_code = 415
    error_type = "unsupported_media_type"


def _not_json() -> UnsupportedMediaTypeError | None:
    """One rule for every route: a body sent with a Content-Type that is not JSON is a 415."""
    event = app.current_event
    content_type = event.headers.get("content-type")
    if event.http_method in _METHODS_WITH_BODIES and event.body and not declares_json(content_type):
        return UnsupportedMediaTypeError(
            f"Content-Type: send application/json, not {(content_type or '')[:100]}"
        )
    return None


def require_json(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[dict[str, Any]]:
    """Routes that read their own bodies (the triggers) and bodies that Powertools' validation
    parsed as a form (it runs before any middleware) are held to the rule here."""
    refusal = _not_json()
    if refusal is not None and app.current_event.path.rstrip("/") not in altcraft.PATHS:  # JSON or XML
        raise refusal
    return next_middleware(app)


def authenticate(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[dict[str, Any]]:
    event = app.current_event
    if inbox_auth.is_inbox_path(event.path):  # browsers, with a session token (api.inbox_auth)
        app.append_context(**inbox_auth.context_for(event))
        response = next_middleware(app)
        response.headers.update(inbox_auth.cors_headers(event))
        return response
    if event.path.rstrip("/") not in _PUBLIC_PATHS + altcraft.PATHS:  # Altcraft's token may be in the body
        headers = {name.lower(): value for name, value in event.headers.items()}
        query = "&".join(
            f"{k}={v}"
            for k, values in (event.multi_value_query_string_parameters or {}).items()
            for v in values
        )
        body = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()
        request = SignedRequest(
            method=event.http_method,
            paths=tuple(dict.fromkeys([event.path, event.request_context.path or event.path])),
            query=query,
            body=body,
            content_type=headers.get("content-type", ""),
            date=headers.get("date"),
        )
        app.append_context(environment_id=environment_for(headers.get("authorization"), request))
    return next_middleware(app)


app.use([require_json, authenticate])


@app.get("/v1/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


for router in (
    events.router,
    workflows.router,
    subscribers.router,
    status.router,
    tenants.router,
    topics.router,
    integrations.router,
    messages.router,
    suprsend.router,
    suprsend_events.router,
    suprsend_cancel.router,
    altcraft.router,
    environment.router,
    inbox.router,
    inbox_changes.router,
    inbox_preferences.router,
    sequenzy.router,
    opt_in.router,
    activity.router,
):
    app.include_router(router)


def _error(error: ApiError) -> Response[dict[str, Any]]:
    """Error bodies in the caller's dialect. Novu's SDKs validate theirs: 400 lists field errors
    with a `type` (PayloadValidationExceptionDto), 422 maps fields to messages (ValidationErrorDto)."""
    body: dict[str, Any]
    if app.current_event.path.rstrip("/") in _SUPRSEND_PATHS:
        body = suprsend_dialect.failure(error.message, error.error_type)
    elif app.current_event.path.rstrip("/") in _SEQUENZY_PATHS:
        body = sequenzy_dialect.failure(error.message)
    else:
        body = {
            "statusCode": error.status_code,
            "timestamp": now_iso(),
            "path": app.current_event.path,
            "message": error.message,
        }
        named = error.field_errors()
        if error.status_code == 400:
            body["type"] = error.error_type
            body["errors"] = [
                {"field": field, "message": "; ".join(entry["messages"]), **_value(entry)}
                for field, entry in named.items()
            ]
        elif error.status_code == 422:
            body["errors"] = {
                field: {"messages": entry["messages"], **_value(entry)} for field, entry in named.items()
            }
    response = Response(status_code=error.status_code, content_type=content_types.APPLICATION_JSON, body=body)
    response.headers.update(error.headers | inbox_auth.cors_headers(app.current_event))
    return response


def _value(entry: dict[str, Any]) -> dict[str, Any]:
    return {"value": entry["value"]} if "value" in entry else {}


@app.exception_handler(ApiError)
def api_error(error: ApiError) -> Response[dict[str, Any]]:
    return _error(error)


@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response[dict[str, Any]]:
    """A form or multipart body that failed validation was never JSON: 415, as for any other."""
    refusal = _not_json()
    if refusal is not None:
        return _error(refusal)
    return _error(BadRequestError("Validation failed", field_errors(error.errors())))


@app.exception_handler(RequestUnsupportedContentType)
def unsupported_content_type(error: RequestUnsupportedContentType) -> Response[dict[str, Any]]:
    return _error(_not_json() or UnsupportedMediaTypeError("Content-Type: send application/json"))


@app.exception_handler(ValueError)
def malformed_multipart(error: ValueError) -> Response[dict[str, Any]]:
    """Powertools' validation re-raises a multipart body without a boundary as a plain
    ValueError; any other ValueError is a bug and stays one."""
    if app.current_event.headers.get("content-type", "").lower().startswith("multipart/"):
        return _error(UnsupportedMediaTypeError("Content-Type: send application/json"))
    raise error


@app.exception_handler(UnicodeDecodeError)
def not_utf8(error: UnicodeDecodeError) -> Response[dict[str, Any]]:
    return _error(BadRequestError("body: must be UTF-8 encoded JSON", {"body": {"messages": ["not UTF-8"]}}))


@app.exception_handler(json.JSONDecodeError)
def malformed_json(error: json.JSONDecodeError) -> Response[dict[str, Any]]:
    message = f"Body is not valid JSON: {error.msg} at position {error.pos}"
    return _error(BadRequestError(message, {"body": {"messages": [message]}}))

"""Errors are types; they are mapped to HTTP in one place (api.app). Bodies follow Novu's shape:
statusCode, timestamp, path, message, and errors on 400."""

from __future__ import annotations

from typing import Any

from clarion.model.refusal import field_errors

__all__ = [
    "ApiError",
    "BadRequestError",
    "ConflictError",
    "NotFoundError",
    "PayloadTooLargeError",
    "TooManyRequestsError",
    "UnauthorizedError",
    "UnprocessableError",
    "field_errors",
]


class ApiError(Exception):
    status_code = 400
    error_type = "bad_request"

    def __init__(
        self, message: str, errors: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def field_errors(self) -> dict[str, Any]:
        """{field: {"messages": [...], "value"?: ...}}. Without explicit ones, the message names
        its field first (`"cursor: not one this API returned"`), as every message here does."""
        if self.errors:
            return self.errors
        field, separator, text = self.message.partition(": ")
        if separator and field.replace(".", "").replace("_", "").replace("-", "").isalnum():
            return {field: {"messages": [text]}}
        return {"body": {"messages": [self.message]}}


class BadRequestError(ApiError):
    status_code = 400
    error_type = "bad_request"


class UnauthorizedError(ApiError):
    status_code = 401
    error_type = "unauthorized"


class NotFoundError(ApiError):
    status_code = 404
    error_type = "not_found"


class ConflictError(ApiError):
    status_code = 409
    error_type = "conflict"


class TooManyRequestsError(ApiError):
    status_code = 429
    error_type = "too_many_requests"


class PayloadTooLargeError(ApiError):
    status_code = 413
    error_type = "payload_too_large"


class UnprocessableError(ApiError):
    status_code = 422
    error_type = "unprocessable"

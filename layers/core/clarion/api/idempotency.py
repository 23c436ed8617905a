"""The `Idempotency-Key` header (Novu's semantics), on Powertools Idempotency: the same key with
the same body within 24 h replays the first answer (`Idempotency-Replay: true`); the same key
with another body is a 422; a duplicate arriving while the first is still running is a 409 with
`Retry-After`. Keys are scoped to the environment and bound to the method and route they were
first used on: the record is stored under environment + key (so a reuse anywhere is seen) and
holds the method and route beside the body's hash, so the same key on another route is a 422
naming the route it belongs to, never a replay of another route's answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.api.errors import ApiError, ConflictError, UnprocessableError
from clarion.config import settings

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
_REPLAYED = "_replayed"


class InProgressError(ConflictError):
    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"Retry-After": "1"})


def _mark_replay(response: Any, _record: Any) -> Any:
    return {**response, _REPLAYED: True}


class RouteMismatchError(Exception):
    """The key was first used on another method and route (`route`), or with another body."""

    def __init__(self, route: str | None) -> None:
        super().__init__(route)
        self.route = route


@lru_cache(maxsize=1)
def _runner() -> Callable[..., dict[str, Any]]:
    """Built on first use: Powertools' persistence layer imports boto3, which only requests that
    carry the header should pay for at cold start."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError

    class RouteBoundPersistence(DynamoDBPersistenceLayer):
        """Powertools' DynamoDB layer whose stored payload "hash" reads `<METHOD> <route> <sha256
        of the body>`: the body stays hashed, and a mismatch can say which route the key is on."""

        def _get_hashed_payload(self, data: dict[str, Any]) -> str:
            return f"{data['payload']['route']} {data['payload']['body']}"

        def _validate_payload(self, data_payload: Any, stored_data_record: Any) -> None:
            try:
                super()._validate_payload(data_payload, stored_data_record)
            except IdempotencyValidationError as error:
                stored_route, _, _ = (stored_data_record.payload_hash or "").rpartition(" ")
                raise IdempotencyValidationError(RouteMismatchError(stored_route or None)) from error

    table = settings().idempotency_table_name
    if not table:
        raise RuntimeError("CLARION_IDEMPOTENCY_TABLE_NAME is not set for this function")
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="payload",  # turns validation on; the layer reads it itself
        expires_after_seconds=24 * 3600,
        raise_on_no_idempotency_key=True,
        response_hook=_mark_replay,  # type: ignore[arg-type]
    )

    @idempotent_function(
        data_keyword_argument="request",
        config=config,
        persistence_store=RouteBoundPersistence(table_name=table),
    )
    def run(request: dict[str, Any], produce: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return produce()

    run.config = config  # type: ignore[attr-defined]
    return cast(Callable[..., dict[str, Any]], run)


def replay_current(router: APIGatewayRouter, produce: Callable[[], Response[Any]]) -> Response[Any]:
    """`replayable` for the request the router is answering (its Idempotency-Key and body)."""
    event = router.current_event
    return replayable(
        router.context["environment_id"],
        event.headers.get(HEADER),
        event.body,
        router.lambda_context,
        produce,
        route=f"{event.http_method} {event.path.rstrip('/')}",
    )


def replayable(
    environment_id: str,
    key: str | None,
    body: str | None,
    lambda_context: Any,
    produce: Callable[[], Response[Any]],
    *,
    route: str,
) -> Response[Any]:
    """Run `produce` once per (environment, key), on the `route` ("POST /v1/...") the key was
    first used on; without a key, just run it."""
    if key is None:
        return produce()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ApiError(f"{HEADER}: must be 1 to {MAX_KEY_LENGTH} characters")
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    run = _runner()
    if lambda_context is not None:
        run.config.register_lambda_context(lambda_context)  # type: ignore[attr-defined]
    request = {
        "key": f"{environment_id}#{key}",
        "payload": {"route": route, "body": hashlib.sha256((body or "").encode()).hexdigest()},
    }
    try:
        stored = run(request=request, produce=lambda: _to_stored(produce()))
    except IdempotencyValidationError as error:
        raise _mismatch(key, route, error) from error
    except IdempotencyAlreadyInProgressError as error:
        raise InProgressError(f"{HEADER}: a request with key '{key}' is still being processed") from error
    headers = {**stored["headers"], HEADER: key}
    if stored.get(_REPLAYED):
        headers["Idempotency-Replay"] = "true"
    return Response(
        status_code=stored["status_code"],
        content_type=content_types.APPLICATION_JSON,
        body=json.loads(stored["body"]),
        headers=headers,
    )


def _mismatch(key: str, route: str, error: Exception) -> UnprocessableError:
    """Why a key cannot be used here: it belongs to another route, or to another body."""
    mismatch = error.args[0] if error.args and isinstance(error.args[0], RouteMismatchError) else None
    if mismatch and mismatch.route and mismatch.route != route:
        message = (
            f"key '{key}' was already used on {mismatch.route}; a key belongs to one method and "
            f"route, so it cannot be used on {route}: send this request with a new key"
        )
    else:
        message = f"key '{key}' was already used with a different body"
    return UnprocessableError(f"{HEADER}: {message}", {HEADER: {"messages": [message], "value": key}})


def _to_stored(response: Response[Any]) -> dict[str, Any]:
    body = response.body
    headers = {name: value for name, value in response.headers.items() if name.lower() != "content-type"}
    return {
        "status_code": response.status_code,
        "headers": {k: v if isinstance(v, str) else ", ".join(v) for k, v in headers.items()},
        "body": body if isinstance(body, str) else json.dumps(body),
    }

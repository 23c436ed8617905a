"""Who calls the Inbox routes (`/v1/inbox/*`): a browser, holding one credential, the token a
session gave it.

- A session (`POST /v1/inbox/session`) names its environment by the public
  `applicationIdentifier` and proves the subscriber with `subscriberHash =
  hex(HMAC-SHA256(apiKey, subscriberId))`, made by the customer's server with any live API key
  of the environment (Novu's scheme). A wrong hash is always refused; a missing one where the
  environment requires it (the default everywhere but the local stack's `development`).
- The token: `<claims>.<signature>`, both base64url; the claims name the environment, the
  subscriber, the expiry and which API key signed it. The signing key is derived from that
  API key (HMAC-SHA256(apiKey, "clarion inbox token v1")): revoking the key ends its sessions,
  and a token can only ever speak for its own environment and subscriber.
- A browser's `Origin` must be one the environment allows (`inbox.allowedOrigins`); every
  Inbox answer reflects the Origin (CORS) so the page can read it, refusals included.

Every comparison is constant-time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from clarion.api.errors import ApiError, UnauthorizedError
from clarion.clock import now_seconds
from clarion.config import settings
from clarion.model.identifiers import is_environment_id
from clarion.store import environment_settings, environments

PREFIX = "/v1/inbox/"
SESSION_PATH = "/v1/inbox/session"
_TOKEN_CONTEXT = b"clarion inbox token v1"
_KEY_ID_LENGTH = 16
_MAX_TOKEN_LENGTH = 4096
ALLOWED_HEADERS = (
    "Authorization, Content-Type, Novu-API-Version, Novu-Client-Version, Novu-Application-Identifier"
)


class ForbiddenError(ApiError):
    status_code = 403
    error_type = "forbidden"


@dataclass(frozen=True)
class Claims:
    environment_id: str
    subscriber_id: str
    expires: int  # epoch seconds
    key_id: str


def is_inbox_path(path: str) -> bool:
    return path.startswith(PREFIX)


def subscriber_hash(api_key: str, subscriber_id: str) -> str:
    return hmac.new(api_key.encode(), subscriber_id.encode(), hashlib.sha256).hexdigest()


def _live_keys(environment_id: str) -> Iterator[str]:
    yield from environments.hmac_secrets(environment_id)


def check_subscriber_hash(environment_id: str, subscriber_id: str, given: str | None) -> None:
    """Refuse (401) a wrong hash, and a missing one where the environment requires one."""
    if given is None:
        if environment_settings.inbox_settings(environment_id).subscriber_hash_required:
            raise UnauthorizedError("subscriberHash: required in this environment")
        return
    given_bytes = given.strip().lower().encode()
    if not any(
        hmac.compare_digest(given_bytes, subscriber_hash(key, subscriber_id).encode())
        for key in _live_keys(environment_id)
    ):
        raise UnauthorizedError("subscriberHash: does not match this subscriber")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    """Strict: a character outside base64url is an error (binascii.Error, a ValueError)."""
    standard = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)


def _signing_key(api_key: str) -> bytes:
    return hmac.new(api_key.encode(), _TOKEN_CONTEXT, hashlib.sha256).digest()


def _key_id(api_key: str) -> str:
    return environments.hash_api_key(api_key)[:_KEY_ID_LENGTH]


def sign(claims: Claims, api_key: str) -> str:
    body = _b64(
        json.dumps(
            {
                "env": claims.environment_id,
                "sub": claims.subscriber_id,
                "exp": claims.expires,
                "kid": claims.key_id,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
    )
    signature = hmac.new(_signing_key(api_key), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(signature)}"


def mint(environment_id: str, subscriber_id: str) -> str:
    """A token for this subscriber of this environment, signed with its newest live key."""
    api_key = next(_live_keys(environment_id), None)
    if api_key is None:
        raise UnauthorizedError("applicationIdentifier: the environment has no API key to sign sessions with")
    expires = now_seconds() + settings().inbox_token_seconds
    return sign(Claims(environment_id, subscriber_id, expires, _key_id(api_key)), api_key)


def _claims(token: str) -> tuple[Claims, str, bytes]:
    """The claims a token states (not yet verified), its body and its signature."""
    body, dot, signature = token.partition(".")
    try:
        decoded = json.loads(_unb64(body))
        claims = Claims(decoded["env"], decoded["sub"], decoded["exp"], decoded["kid"])
        given = _unb64(signature)
    except (ValueError, TypeError, KeyError) as error:
        raise UnauthorizedError("Authorization: not a token this API issued") from error
    fields_ok = (
        isinstance(claims.environment_id, str)
        and isinstance(claims.subscriber_id, str)
        and isinstance(claims.key_id, str)
        and isinstance(claims.expires, int)
    )
    if not (dot and fields_ok and is_environment_id(claims.environment_id)):
        raise UnauthorizedError("Authorization: not a token this API issued")
    return claims, body, given


def verify(token: str) -> Claims:
    """The claims of a token this API signed for a live key and that has not expired; 401 otherwise."""
    if len(token) > _MAX_TOKEN_LENGTH:
        raise UnauthorizedError("Authorization: not a token this API issued")
    claims, body, given = _claims(token)
    for api_key in _live_keys(claims.environment_id):
        expected = hmac.new(_signing_key(api_key), body.encode(), hashlib.sha256).digest()
        if hmac.compare_digest(given, expected):
            if claims.expires <= now_seconds():
                raise UnauthorizedError("Authorization: the session has expired; start a new one")
            return claims
    raise UnauthorizedError("Authorization: not a token this API issued")


def check_origin(environment_id: str, origin: str | None) -> None:
    """A browser's Origin must be one the environment allows (403 otherwise); none is a server."""
    if origin and not environment_settings.inbox_settings(environment_id).allows_origin(origin):
        raise ForbiddenError(f"Origin: '{origin}' may not call this environment's Inbox")


def _headers(event: APIGatewayProxyEvent) -> dict[str, str]:
    return {name.lower(): value for name, value in event.headers.items()}


def context_for(event: APIGatewayProxyEvent) -> dict[str, Any]:
    """What an Inbox request's handlers know of their caller: nothing yet for a preflight or a
    session (it proves itself in its body), else the token's environment and subscriber."""
    if event.http_method == "OPTIONS" or event.path.rstrip("/") == SESSION_PATH:
        return {}
    scheme, _, token = (_headers(event).get("authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("Authorization: send 'Bearer <token>' from POST /v1/inbox/session")
    claims = verify(token.strip())
    check_origin(claims.environment_id, _headers(event).get("origin"))
    return {"environment_id": claims.environment_id, "subscriber_id": claims.subscriber_id}


def cors_headers(event: APIGatewayProxyEvent) -> dict[str, str]:
    """CORS for an Inbox answer: the Origin reflected (a disallowed one was refused already, with
    nothing but the refusal to read). Management routes get none: they are server-to-server."""
    origin = _headers(event).get("origin")
    if not origin or not is_inbox_path(event.path):
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def preflight_headers(event: APIGatewayProxyEvent) -> dict[str, str]:
    """A preflight names no environment (browsers send no Authorization with it): the methods
    and headers the Inbox routes take; the Origin is judged on the request itself."""
    return {
        "Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE, OPTIONS",
        "Access-Control-Allow-Headers": _headers(event).get("access-control-request-headers")
        or ALLOWED_HEADERS,
        "Access-Control-Max-Age": "600",
    }

"""The security schemes the API takes (api.auth), as the OpenAPI document names them."""

from __future__ import annotations

from typing import Any

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "ApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "Novu's scheme: enter `ApiKey <key>` (the local stack's key: `ApiKey clarion-dev-key`).",
    },
    "Bearer": {"type": "http", "scheme": "bearer", "description": "The API key as a bearer token."},
    "SuprSendHmac": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": (
            "SuprSend's signature: `<workspace key>:<base64 HMAC-SHA256(secret, method, MD5 of the body,"
            " Content-Type, Date, path)>` with a `Date` header within five minutes; the workspace key is"
            " the environment id, the secret its API key. Made by SuprSend's SDKs."
        ),
    },
    "InboxSession": {
        "type": "http",
        "scheme": "bearer",
        "description": "The short-lived token `POST /v1/inbox/session` answers (Novu's Inbox).",
    },
}

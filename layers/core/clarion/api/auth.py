"""Who is calling: `Authorization: ApiKey <key>` or `Bearer <key>` (Novu, SuprSend, Sequenzy), or
SuprSend's HMAC signature `<workspace key>:<base64 HMAC-SHA256>` with a `Date` within five
minutes. The workspace key is the environment id; the secret is any of its live API keys,
decrypted with KMS. A signature is accepted once: a repeat inside the Date window is a replay
and is refused like a wrong one. Every comparison is constant-time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from clarion.api.errors import UnauthorizedError
from clarion.model.identifiers import is_environment_id
from clarion.store import environments, signatures

_SCHEMES = ("apikey", "bearer")
MAX_CLOCK_SKEW_SECONDS = 300


@dataclass(frozen=True)
class SignedRequest:
    """What SuprSend's signature covers."""

    method: str
    paths: tuple[str, ...]  # the path as the client may have signed it (with or without a stage)
    query: str
    body: bytes
    content_type: str
    date: str | None


def environment_for(authorization: str | None, request: SignedRequest) -> str:
    if not authorization:
        raise UnauthorizedError("API key is missing: send 'Authorization: ApiKey <key>'")
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() in _SCHEMES and key.strip():
        environment_id = environments.environment_for_key(key.strip())
        if environment_id is None:
            raise UnauthorizedError("API key not found")
        return environment_id
    workspace, colon, signature = authorization.strip().partition(":")
    if colon and workspace and signature and " " not in workspace:
        if not is_environment_id(workspace):
            raise UnauthorizedError("signature does not match")
        return _verify_signature(workspace, signature, request)
    raise UnauthorizedError(
        "Authorization must be 'ApiKey <key>', 'Bearer <key>' or '<workspace>:<signature>'"
    )


def _verify_signature(environment_id: str, signature: str, request: SignedRequest) -> str:
    if not request.date:
        raise UnauthorizedError("Date: a signed request needs a Date header")
    try:
        sent = parsedate_to_datetime(request.date)
    except (TypeError, ValueError) as error:
        raise UnauthorizedError("Date: not an HTTP date") from error
    if sent.tzinfo is None or abs((datetime.now(UTC) - sent).total_seconds()) > MAX_CLOCK_SKEW_SECONDS:
        raise UnauthorizedError("Date: more than five minutes away from the server's clock")
    given = signature.strip().encode()
    for secret in environments.hmac_secrets(environment_id):
        if any(hmac.compare_digest(given, sign(secret, request, path).encode()) for path in request.paths):
            # Kept until the signed Date leaves the window: from then on the Date check refuses it.
            if not signatures.claim(
                environment_id, given.decode(), int(sent.timestamp()) + MAX_CLOCK_SKEW_SECONDS
            ):
                raise UnauthorizedError("signature already used: sign every request afresh (a new Date)")
            return environment_id
    raise UnauthorizedError("signature does not match")


def sign(secret: str, request: SignedRequest, path: str) -> str:
    """SuprSend's string to sign: method, body MD5 (hex), content type, Date, path[?query]."""
    digest = hashlib.md5(request.body).hexdigest() if request.body else ""  # noqa: S324 - the protocol's choice
    target = f"{path}?{request.query}" if request.query else path
    message = "\n".join([request.method, digest, request.content_type, request.date or "", target])
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()

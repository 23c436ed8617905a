"""`Authorization: ApiKey <key>` or `Bearer <key>` -> the environment id."""

from __future__ import annotations

from clarion.api.errors import UnauthorizedError
from clarion.store import environments

_SCHEMES = ("apikey", "bearer")


def environment_from_header(authorization: str | None) -> str:
    if not authorization:
        raise UnauthorizedError("API key is missing: send 'Authorization: ApiKey <key>'")
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() not in _SCHEMES or not key.strip():
        raise UnauthorizedError("Authorization must be 'ApiKey <key>' or 'Bearer <key>'")
    environment_id = environments.environment_for_key(key.strip())
    if environment_id is None:
        raise UnauthorizedError("API key not found")
    return environment_id

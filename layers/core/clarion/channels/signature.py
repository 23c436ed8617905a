"""The signature on everything Clarion POSTs to a user's endpoint (webhook step, push-webhook).

    X-Clarion-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

A receiver recomputes v1 over the raw body it got, compares in constant time, and refuses a
`t` older than a few minutes (replay). `verify` is that check.
"""

from __future__ import annotations

import hashlib
import hmac

from clarion import clock

HEADER = "X-Clarion-Signature"
TRANSACTION_HEADER = "X-Clarion-Transaction-Id"


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for this body."""
    t = clock.now_seconds() if timestamp is None else timestamp
    return f"t={t},v1={_digest(secret, t, body)}"


def verify(
    secret: str, header: str, body: bytes, tolerance_seconds: int = 300, now: int | None = None
) -> bool:
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        t = int(fields.get("t", ""))
    except ValueError:
        return False
    current = clock.now_seconds() if now is None else now
    if abs(current - t) > tolerance_seconds:
        return False
    return hmac.compare_digest(fields.get("v1", ""), _digest(secret, t, body))


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()

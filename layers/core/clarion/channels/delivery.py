"""What every channel answers, the outbound policy it obeys, and the helpers they share."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from clarion.channels import outbound
from clarion.model.step_status import StepStatus

DeliveryStatus = Literal[StepStatus.SENT, StepStatus.FAILED]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One step's delivery to one subscriber.

    provider_id: which provider carried it ("ses", "sns", "slack", "push-webhook", ...).
    message_ids: the provider's ids for what it accepted (SES/SNS MessageId), if it gives any.
    detail: why it failed, free of personal data (no address, number, URL path or query).
    retryable: a later attempt may succeed, and cannot duplicate a part already delivered.
    """

    status: DeliveryStatus
    provider_id: str | None = None
    detail: str | None = None
    retryable: bool = False
    message_ids: tuple[str, ...] = ()

    @classmethod
    def sent(cls, provider_id: str, *message_ids: str) -> Delivery:
        return cls(StepStatus.SENT, provider_id, None, False, message_ids)

    @classmethod
    def failed(cls, provider_id: str | None, detail: str, retryable: bool = False) -> Delivery:
        return cls(StepStatus.FAILED, provider_id, detail, retryable)


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """How outbound HTTP may behave. allow_loopback only for tests and the local stack;
    stack_endpoints (URLs of the stack's own AWS endpoints and gateway) are refused always."""

    allow_loopback: bool = False
    stack_endpoints: tuple[str, ...] = ()
    timeout_seconds: float = 5.0  # per connect and per read, for each HTTP request
    max_targets: int = 10  # webhooks, devices or endpoints per subscriber and step


def combine(provider_id: str, what: str, results: Sequence[Delivery], skipped: int = 0) -> Delivery:
    """One answer for a step that went to several targets (webhooks, devices).

    Sent only if every target took it. A partial failure is not retryable: a retry would send
    the delivered ones again. `skipped`: targets beyond the policy's limit, never attempted.
    """
    failures = [r for r in results if r.status == StepStatus.FAILED]
    if not failures:
        ids = tuple(i for r in results for i in r.message_ids)
        note = f"{skipped} {what} beyond the limit of {len(results)} not sent" if skipped else None
        return Delivery(StepStatus.SENT, provider_id, note, False, ids)
    first = failures[0].detail or "failed"
    detail = first if len(results) == 1 else f"{len(failures)} of {len(results)} {what} failed: {first}"
    retryable = len(failures) == len(results) and all(r.retryable for r in failures)
    return Delivery.failed(provider_id, detail, retryable)


def http_delivery(
    provider_id: str,
    url: str,
    body: Any,
    headers: Mapping[str, str] | None,
    policy: OutboundPolicy,
) -> Delivery:
    """POST through outbound.post_json and translate the answer into a Delivery."""
    try:
        result = outbound.post_json(
            url,
            body,
            headers,
            policy.timeout_seconds,
            policy.allow_loopback,
            stack_endpoints=policy.stack_endpoints,
        )
    except outbound.UnsafeUrlError as error:
        return Delivery.failed(provider_id, f"URL refused: {error.reason}")
    if result.ok:
        return Delivery.sent(provider_id)
    detail = result.error or "failed"
    if shown := excerpt(result.body):
        detail += f": {shown}"
    return Delivery.failed(provider_id, detail, result.retryable)


EXCERPT_CHARS = 160
_TRACEBACK = re.compile(r"^\s*(Traceback \(most recent call last\)|File \"[^\"]*\", line \d+)", re.MULTILINE)
_SECRET_WORDS = re.compile(
    r"secret|token|passw|api[_-]?key|authoriz|credential|signature|bearer|private|session|cookie",
    re.IGNORECASE,
)
_LONG_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{24,}")
_TAG = re.compile(r"<[^>]*>")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def excerpt(answer: str) -> str:
    """What of an endpoint's answer may go into execution details: a short, redacted excerpt.
    An HTML page is reduced to its title; a traceback and everything after it is dropped, and so
    is any line naming a secret; long tokens, emails, phone numbers and URL paths are masked."""
    if re.search(r"<html|<!doctype", answer[:1000], re.IGNORECASE):
        title = _TITLE.search(answer)
        answer = title.group(1) if title else ""
    traceback = _TRACEBACK.search(answer)
    if traceback:
        answer = answer[: traceback.start()]
    lines = [_TAG.sub(" ", line) for line in answer.splitlines()]
    kept = " ".join(line for line in lines if not _SECRET_WORDS.search(line))
    text = " ".join(redact(_LONG_TOKEN.sub("<redacted>", kept)).split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d ()-]{6,}\d")
_URL = re.compile(r"\b(https?://[^/\s?#]+)[^\s\"'<>]*", re.IGNORECASE)


def redact(text: str) -> str:
    """Mask what a provider's message may echo back: emails, phone numbers, URL paths/queries."""
    text = _URL.sub(r"\1/…", text)
    text = _EMAIL.sub("<email>", text)
    return _PHONE.sub("<phone>", text)


def text_of(content: Mapping[str, Any], *names: str) -> str | None:
    """The first non-blank string among these content fields."""
    for name in names:
        value = content.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return None


def section(overrides: Mapping[str, Any], channel: str) -> Mapping[str, Any]:
    """The trigger's overrides for one channel (Novu's shape: overrides.email.from, ...)."""
    value = overrides.get(channel)
    return value if isinstance(value, Mapping) else {}


def credentials(integration: Mapping[str, Any] | None) -> Mapping[str, Any]:
    value = (integration or {}).get("credentials")
    return value if isinstance(value, Mapping) else {}


def inactive(integration: Mapping[str, Any] | None) -> bool:
    return integration is not None and integration.get("active") is False


_RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "LimitExceededException",
        "RequestLimitExceeded",
        "InternalError",
        "InternalFailure",
        "InternalErrorException",
        "ServiceUnavailable",
        "KMSThrottlingException",
    }
)


def aws_failure(provider_id: str, error: Exception) -> Delivery:
    """A botocore ClientError or BotoCoreError as a failed Delivery (throttling, 5xx and
    connection trouble retryable; a refusal not)."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code = info.get("Code", "Unknown")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        message = excerpt(info.get("Message", ""))
        retryable = code in _RETRYABLE_CODES or status >= 500
        return Delivery.failed(
            provider_id, f"{provider_id} refused: {code}: {message}".rstrip(": "), retryable
        )
    transient = (ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError)
    return Delivery.failed(
        provider_id, f"{provider_id} call failed: {type(error).__name__}", isinstance(error, transient)
    )

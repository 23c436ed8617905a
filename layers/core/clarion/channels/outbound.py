"""Outbound HTTP that a subscriber or a workflow author chooses the address of.

Webhook URLs come from user data, so every request is checked first: http(s) only, and every
address the host resolves to must be public. The stack's own endpoints (the AWS endpoints its
functions are pointed at, the local gateway) are refused even where loopback is allowed: a step
must not reach the emulator's AWS API or the stack's own routes (channels.url_check). The
request then connects to the checked address itself (a second DNS answer cannot rebind it to
169.254.169.254), keeps the Host header and the TLS server name of the URL, and never follows a
redirect. Standard library only: the layer
ships no HTTP client, and http.client is what urllib.request is built on.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from clarion.channels.url_check import (
    IPAddress,
    OutboundError,
    ResolvedUrl,
    UnresolvableHostError,
    UnsafeUrlError,
    check_url,
    refusal,
)

MAX_BODY_BYTES = 1024  # of the answer: enough for an error message, never a whole page
USER_AGENT = "Clarion/1 (+https://github.com/clarion)"

__all__ = [
    "MAX_BODY_BYTES",
    "HttpResult",
    "IPAddress",
    "OutboundError",
    "ResolvedUrl",
    "UnresolvableHostError",
    "UnsafeUrlError",
    "check_url",
    "encode_json",
    "get",
    "post_json",
    "refusal",
]


@dataclass(frozen=True, slots=True)
class HttpResult:
    status: int | None  # None when no answer arrived
    body: str  # the first MAX_BODY_BYTES of the answer, decoded leniently
    error: str | None  # None when the answer is 2xx
    retryable: bool

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def encode_json(body: Any) -> bytes:
    """The exact bytes sent (and signed): compact JSON, UTF-8."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def post_json(
    url: str,
    body: Any,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    allow_loopback: bool = False,
    *,
    tls: ssl.SSLContext | None = None,
    stack_endpoints: Collection[str] = (),
) -> HttpResult:
    """POST JSON (or already encoded bytes) to a checked URL; one attempt, no redirects.

    Raises UnsafeUrlError when the URL is refused; every network or HTTP failure is an
    HttpResult instead (retryable: connection errors, timeouts, 429, 5xx). `tls` replaces the
    default trust store (tests, private CAs); `stack_endpoints` are refused (see check_url).
    """
    data = body if isinstance(body, bytes) else encode_json(body)
    sent = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
    result, answer = _request(
        "POST", url, data, sent, timeout, allow_loopback, tls, MAX_BODY_BYTES, stack_endpoints=stack_endpoints
    )
    return HttpResult(result.status, answer.decode("utf-8", errors="replace"), result.error, result.retryable)


def get(
    url: str,
    max_bytes: int,
    timeout: float = 10.0,
    allow_loopback: bool = False,
    *,
    tls: ssl.SSLContext | None = None,
    stack_endpoints: Collection[str] = (),
) -> tuple[HttpResult, bytes]:
    """GET a checked URL (a file to attach): the result, with an empty body, and the content.
    One attempt, no redirects; an answer longer than max_bytes is an error, not retryable."""
    return _request(
        "GET",
        url,
        None,
        {"User-Agent": USER_AGENT},
        timeout,
        allow_loopback,
        tls,
        max_bytes,
        True,
        stack_endpoints=stack_endpoints,
    )


def _request(
    method: str,
    url: str,
    data: bytes | None,
    headers: Mapping[str, str],
    timeout: float,
    allow_loopback: bool,
    tls: ssl.SSLContext | None,
    max_bytes: int,
    longer_is_error: bool = False,
    *,
    stack_endpoints: Collection[str] = (),
) -> tuple[HttpResult, bytes]:
    """One request to a checked URL; the result (its `body` left empty) and up to max_bytes of
    the answer (with longer_is_error, a longer answer is an error instead). Raises UnsafeUrlError
    when the URL is refused."""
    try:
        target = check_url(url, allow_loopback, stack_endpoints)
    except UnresolvableHostError as error:
        return HttpResult(None, "", error.reason, retryable=True), b""
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target, timeout, tls or _default_tls())
    else:
        connection = _PinnedHTTPConnection(target, timeout)
    try:
        connection.request(method, target.target, body=data, headers=dict(headers))
        response = connection.getresponse()
        answer = response.read(max_bytes + 1 if longer_is_error else max_bytes)
        status = response.status
    except TimeoutError:
        return HttpResult(None, "", f"{target.origin} timed out after {timeout:g}s", retryable=True), b""
    except ssl.SSLCertVerificationError as error:
        reason = error.verify_message or "certificate not valid"
        return HttpResult(None, "", f"TLS to {target.origin} failed: {reason}", retryable=False), b""
    except OSError as error:  # refused, reset, unreachable, TLS alerts
        reason = error.strerror or type(error).__name__
        return HttpResult(None, "", f"connection to {target.origin} failed: {reason}", retryable=True), b""
    except http.client.HTTPException as error:
        return (
            HttpResult(
                None,
                "",
                f"{target.origin} sent no valid HTTP answer ({type(error).__name__})",
                retryable=False,
            ),
            b"",
        )
    finally:
        connection.close()
    if longer_is_error and len(answer) > max_bytes:
        return HttpResult(status, "", f"{target.origin} sent more than {max_bytes} bytes", False), b""
    return HttpResult(status, "", _status_error(status), retryable=status == 429 or status >= 500), answer


def _status_error(status: int) -> str | None:
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"HTTP {status}: redirects are not followed"
    return f"HTTP {status}"


def _connect(addresses: tuple[str, ...], port: int, timeout: float | None) -> socket.socket:
    """socket.create_connection over the checked addresses only (no second lookup)."""
    error: OSError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout)
        except OSError as failure:
            error = failure
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise error or OSError("no address to connect to")


@cache
def _default_tls() -> ssl.SSLContext:
    return ssl.create_default_context()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Host header from the URL; the socket to the address that was checked."""

    def __init__(self, target: ResolvedUrl, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._addresses = target.addresses

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS: SNI and certificate verification against the URL's host name."""

    def __init__(self, target: ResolvedUrl, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._addresses = target.addresses
        self._tls = context

    def connect(self) -> None:
        sock = _connect(self._addresses, self.port, self.timeout)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise

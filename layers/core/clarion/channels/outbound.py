"""Outbound HTTP that a subscriber or a workflow author chooses the address of.

Webhook URLs come from user data, so every request is checked first: http(s) only, and every
address the host resolves to must be public. The stack's own endpoints (the AWS endpoints its
functions are pointed at, the local gateway) are refused even where loopback is allowed: a step
must not reach the emulator's AWS API or the stack's own routes. The request then connects to the checked address
itself (a second DNS answer cannot rebind it to 169.254.169.254), keeps the Host header and the
TLS server name of the URL, and never follows a redirect. Standard library only: the layer
ships no HTTP client, and http.client is what urllib.request is built on.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Literal
from urllib.parse import quote, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_BODY_BYTES = 1024  # of the answer: enough for an error message, never a whole page
USER_AGENT = "Clarion/1 (+https://github.com/clarion)"

# Cloud metadata and credential endpoints, refused by name so that the reason says so.
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "169.254.170.23", "fd00:ec2::23")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundError(Exception):
    """A URL that is not sent to. `reason` is safe to show: it never holds a path or query."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnsafeUrlError(OutboundError):
    """Refused by policy: wrong scheme, malformed, or a non-public address. Retrying cannot help."""


class UnresolvableHostError(OutboundError):
    """The host has no address right now (DNS failure): may succeed later."""


@dataclass(frozen=True, slots=True)
class ResolvedUrl:
    scheme: Literal["http", "https"]
    host: str  # ASCII (IDNA) host name or IP literal, without brackets
    port: int
    target: str  # path and query, as sent on the request line
    addresses: tuple[str, ...]  # every one checked; connected to in this order

    @property
    def origin(self) -> str:
        """scheme://host[:port], for logs and details: a path or query may carry a secret."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")


@dataclass(frozen=True, slots=True)
class HttpResult:
    status: int | None  # None when no answer arrived
    body: str  # the first MAX_BODY_BYTES of the answer, decoded leniently
    error: str | None  # None when the answer is 2xx
    retryable: bool

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def check_url(url: str, allow_loopback: bool = False, stack_endpoints: Collection[str] = ()) -> ResolvedUrl:
    """Parse, resolve and vet a URL. Raises UnsafeUrlError (or UnresolvableHostError).
    `stack_endpoints`: URLs of the stack's own services, refused whatever the policy."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise UnsafeUrlError(f"malformed URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrlError(f"scheme '{scheme or '(none)'}' is not allowed: use http or https")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrlError("credentials in the URL are not allowed: send them in a header")
    if not parts.hostname:
        raise UnsafeUrlError("URL has no host")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnsafeUrlError("host name is not valid") from None
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port)
    for address in addresses:
        reason = refusal(ipaddress.ip_address(address), allow_loopback)
        if reason:
            raise UnsafeUrlError(f"{reason} address {address} refused (host {host})")
    own = _own_endpoint(addresses, port, stack_endpoints)
    if own:
        raise UnsafeUrlError(f"{own} is the stack's own endpoint: refused (host {host})")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    target = quote(target, safe="/?=&;:@!$'()*+,%~-._")  # spaces, controls and non-ASCII escaped
    return ResolvedUrl(
        scheme="https" if scheme == "https" else "http",
        host=host,
        port=port,
        target=target,
        addresses=addresses,
    )


def refusal(ip: IPAddress, allow_loopback: bool = False) -> str | None:
    """Which kind of non-public address this is ("loopback", "private", ...), or None if public."""
    if isinstance(ip, ipaddress.IPv6Address):
        for kind, embedded in (
            ("IPv4-mapped", ip.ipv4_mapped),
            ("6to4", ip.sixtofour),
            ("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None),
        ):
            if embedded is not None:
                inner = refusal(embedded, allow_loopback)
                return f"{kind} {inner}" if inner else None
    if ip in _METADATA:
        return "cloud metadata"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return None if allow_loopback else "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip in _CGNAT:
        return "carrier-grade NAT"
    if ip.is_reserved or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local):
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "non-public"
    return None


def _own_endpoint(addresses: tuple[str, ...], port: int, stack_endpoints: Collection[str]) -> str | None:
    """The stack endpoint (host:port) these addresses and port reach, if any. On loopback every
    address counts as the same host: 127.0.0.2 or ::1 may reach a server listening on 127.0.0.1."""
    for endpoint in stack_endpoints:
        own = _endpoint(endpoint)
        if own is None or own[1] != port:
            continue
        for address in addresses:
            ip = ipaddress.ip_address(address)
            if address in own[2] or (
                ip.is_loopback and any(ipaddress.ip_address(a).is_loopback for a in own[2])
            ):
                return f"{own[0]}:{own[1]}"
    return None


@lru_cache(maxsize=32)
def _endpoint(url: str) -> tuple[str, int, frozenset[str]] | None:
    """host, port and addresses of a configured endpoint URL (None if it has no host)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return None
    if not parts.hostname:
        return None
    try:
        addresses = frozenset(_resolve(parts.hostname, port))
    except UnresolvableHostError:
        addresses = frozenset()
    return parts.hostname, port, addresses


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


def _resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise UnresolvableHostError(f"cannot resolve host {host}") from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnresolvableHostError(f"cannot resolve host {host}")
    return addresses


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

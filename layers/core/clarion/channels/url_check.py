"""Whether Clarion may send to a URL a subscriber or a workflow author chose: http(s) only, every
address the host resolves to public, never the stack's own endpoints (the AWS endpoints its
functions are pointed at, the local gateway), even where loopback is allowed. `check_url`
answers the checked addresses, which channels.outbound then connects to itself."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import quote, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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


def _resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise UnresolvableHostError(f"cannot resolve host {host}") from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnresolvableHostError(f"cannot resolve host {host}")
    return addresses

"""Outbound URL safety: which URLs a webhook may point at. No sockets: host names resolve through
a fake getaddrinfo, IP literals (and glibc's numeric forms) never leave the process."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from clarion.channels import outbound
from clarion.channels.outbound import ResolvedUrl, UnresolvableHostError, UnsafeUrlError, check_url


def _fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    """Resolve the given names to the given addresses; anything else is a DNS failure."""
    asked: list[str] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        asked.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


REFUSED = [
    # (url, the kind named in the reason)
    ("http://127.0.0.1/", "loopback"),
    ("http://127.8.9.10:8080/x", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://172.31.255.255/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://[fc00::1]/", "private"),
    ("http://[fd12:3456::1]/", "private"),
    ("http://169.254.1.1/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("http://[fd00:ec2::254]/", "cloud metadata"),
    ("http://169.254.170.2/v2/credentials", "cloud metadata"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "reserved"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://100.127.255.254/", "carrier-grade NAT"),
    ("http://192.0.2.10/", "private"),  # documentation range: never a real endpoint
    ("http://[::ffff:169.254.169.254]/", "IPv4-mapped cloud metadata"),
    ("http://[::ffff:127.0.0.1]/", "IPv4-mapped loopback"),
    ("http://[::ffff:10.1.2.3]/", "IPv4-mapped private"),
    ("http://[2002:a9fe:a9fe::1]/", "6to4 cloud metadata"),
    ("http://[64:ff9b::a9fe:a9fe]/", "NAT64 cloud metadata"),
    # Numeric spellings glibc accepts for 127.0.0.1: caught because the check is on the result.
    ("http://2130706433/", "loopback"),
    ("http://0x7f000001/", "loopback"),
    ("http://127.1/", "loopback"),
]


@pytest.mark.parametrize(("url", "kind"), REFUSED)
def test_every_non_public_address_class_is_refused(url: str, kind: str) -> None:
    with pytest.raises(UnsafeUrlError) as refused:
        check_url(url)
    assert refused.value.reason.startswith(f"{kind} address ")


def test_a_host_name_resolving_to_loopback_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, {"innocent.example": ["127.0.0.1"]})
    with pytest.raises(
        UnsafeUrlError, match=r"loopback address 127\.0\.0\.1 refused \(host innocent\.example\)"
    ):
        check_url("https://innocent.example/hook?token=secret")


def test_one_bad_address_among_good_ones_refuses_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, {"mixed.example": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(UnsafeUrlError, match=r"private address 10\.0\.0\.7"):
        check_url("https://mixed.example/")


def test_reason_never_carries_path_or_query(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, {"hooks.example": ["169.254.169.254"]})
    with pytest.raises(UnsafeUrlError) as refused:
        check_url("https://hooks.example/services/T000/B000/SECRETPATH?token=SECRETQUERY")
    assert "SECRET" not in refused.value.reason


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/file",
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "example.com/hook",
        "//example.com/hook",
        "",
    ],
)
def test_only_http_and_https_are_allowed(url: str) -> None:
    with pytest.raises(UnsafeUrlError, match="scheme"):
        check_url(url)


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("http://user:pass@example.com/", "credentials"),
        ("http://example.com:99999/", "malformed"),
        ("http:///path-only", "no host"),
    ],
)
def test_malformed_urls_are_refused(url: str, match: str) -> None:
    with pytest.raises(UnsafeUrlError, match=match):
        check_url(url)


def test_a_public_address_is_resolved_once_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _fake_dns(monkeypatch, {"hooks.example": ["93.184.216.34", "2606:2800:220:1::1"]})
    resolved = check_url("HTTPS://Hooks.Example/services/x?y=1#fragment")
    assert resolved == ResolvedUrl(
        scheme="https",
        host="hooks.example",
        port=443,
        target="/services/x?y=1",
        addresses=("93.184.216.34", "2606:2800:220:1::1"),
    )
    assert resolved.origin == "https://hooks.example"
    assert asked == ["hooks.example"]


def test_public_ip_literals_pass_with_their_port() -> None:
    assert check_url("http://93.184.216.34:8080").target == "/"
    assert check_url("http://93.184.216.34:8080").origin == "http://93.184.216.34:8080"
    assert check_url("https://[2606:4700:4700::1111]/dns").origin == "https://[2606:4700:4700::1111]"


def test_international_host_names_are_sent_as_idna(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, {"xn--bcher-kva.example": ["93.184.216.34"]})
    assert check_url("https://bücher.example/").host == "xn--bcher-kva.example"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://[::1]/", "http://[::ffff:127.0.0.1]/"])
def test_allow_loopback_admits_loopback_only(url: str) -> None:
    assert check_url(url, allow_loopback=True).addresses


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/", "http://10.0.0.1/", "http://0.0.0.0/", "http://[::ffff:169.254.169.254]/"],
)
def test_allow_loopback_still_refuses_everything_else(url: str) -> None:
    with pytest.raises(UnsafeUrlError):
        check_url(url, allow_loopback=True)


def test_unresolvable_host_is_its_own_retryable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, {})
    with pytest.raises(UnresolvableHostError, match=r"cannot resolve host nowhere\.example"):
        check_url("https://nowhere.example/")
    result = outbound.post_json("https://nowhere.example/", {"a": 1})
    assert (result.status, result.retryable, result.ok) == (None, True, False)


def test_post_json_refuses_before_any_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_connection(*args: Any, **kwargs: Any) -> Callable[..., Any]:
        raise AssertionError("connected to a refused address")

    monkeypatch.setattr(socket, "create_connection", no_connection)
    with pytest.raises(UnsafeUrlError, match="cloud metadata"):
        outbound.post_json("http://[::ffff:169.254.169.254]/latest/meta-data/", {"a": 1})


def test_json_is_compact_utf8() -> None:
    assert outbound.encode_json({"a": "é", "b": [1]}) == '{"a":"é","b":[1]}'.encode()


def test_the_request_target_is_always_ascii_and_one_line() -> None:
    resolved = check_url("http://93.184.216.34/päth with space?q=a b&x=%2F")
    assert resolved.target == "/p%C3%A4th%20with%20space?q=a%20b&x=%2F"

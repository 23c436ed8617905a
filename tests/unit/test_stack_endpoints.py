"""The stack's own endpoints are refused as outbound targets, and answers are excerpted."""

from __future__ import annotations

import pytest
from clarion import config
from clarion.channels.delivery import EXCERPT_CHARS, excerpt
from clarion.channels.outbound import UnsafeUrlError, check_url

OWN = ("http://127.0.0.1:4566", "http://localhost:4567/", "https://gateway.internal:3000")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:4566/moto-api/reset",
        "http://localhost:4566/",
        "http://127.0.0.2:4566/",
        "http://[::1]:4566/",
        "http://127.0.0.1:4567/queue",
    ],
)
def test_loopback_on_a_stack_port_is_refused_even_where_loopback_is_allowed(url: str) -> None:
    with pytest.raises(UnsafeUrlError, match="is the stack's own endpoint: refused") as refused:
        check_url(url, allow_loopback=True, stack_endpoints=OWN)
    assert "moto-api" not in refused.value.reason and "queue" not in refused.value.reason


def test_other_loopback_ports_stay_allowed_and_nothing_changes_without_stack_endpoints() -> None:
    assert check_url("http://127.0.0.1:4568/hook", allow_loopback=True, stack_endpoints=OWN).port == 4568
    assert check_url("http://127.0.0.1:4566/hook", allow_loopback=True).port == 4566


def test_settings_take_botocores_endpoint_variables_and_the_local_gateway(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLARION_TABLE_NAME", "t")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:41000")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:41001")
    monkeypatch.setenv("CLARION_LOCAL_GATEWAY_URL", "http://127.0.0.1:3000")
    config.settings.cache_clear()
    try:
        assert set(config.settings().stack_endpoints()) == {
            "http://127.0.0.1:4566",
            "http://127.0.0.1:41000",
            "http://127.0.0.1:41001",
            "http://127.0.0.1:3000",
        }
    finally:
        config.settings.cache_clear()


def test_excerpt_keeps_a_short_message_and_drops_tracebacks_pages_and_secrets() -> None:
    assert excerpt("  rate limited,\n try again  ") == "rate limited, try again"
    trace = 'Bad request\nTraceback (most recent call last):\n  File "x.py", line 1\nKeyError: AKIAXXXX'
    assert excerpt(trace) == "Bad request"
    page = "<!DOCTYPE html><html><title>500 Internal Server Error</title><body><pre>stack</pre></body></html>"
    assert excerpt(page) == "500 Internal Server Error"
    assert excerpt('{"error": "invalid api_key abc"}\ncall support@example.com') == "call <email>"
    assert excerpt("id ghp_0123456789abcdefghijklmnopqrstu rejected") == "id <redacted> rejected"
    assert len(excerpt("word " * 500)) == EXCERPT_CHARS

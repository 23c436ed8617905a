"""Novu's Inbox dialect, pure: a stored message as an InboxNotification, the filter forms the
Inbox sends, and the token's signature."""

from __future__ import annotations

import pytest
from clarion.api import inbox_auth
from clarion.dialects.novu_inbox import (
    FilterError,
    NotificationFilter,
    Row,
    WorkflowInfo,
    filter_from,
    matches,
    notification,
    parse_filters,
)

NOW = "2026-05-01T12:00:00.000Z"
MESSAGE = {
    "transactionId": "tx-1",
    "subscriberId": "ada",
    "workflowId": "billing",
    "stepId": "bell",
    "createdAt": "2026-05-01T11:00:00.000Z",
    "content": {
        "subject": "Invoice",
        "body": "Due soon",
        "data": {"plan": "pro", "region": "eu", "labels": ["a", "b"], "account": {"tier": "gold"}},
        "primaryAction": {"label": "Pay", "url": "https://pay.example.com"},
        "secondaryAction": {"label": ""},
    },
}
BILLING = WorkflowInfo("billing", name="Billing", tags=("money", "urgent"), critical=True)


def answer(**row: object) -> dict[str, object]:
    return notification(Row(id="n-1", message=MESSAGE, **row), BILLING, NOW)  # type: ignore[arg-type]


def test_a_message_maps_onto_an_inbox_notification() -> None:
    got = answer(snoozed_until="2026-05-02T00:00:00.000Z", completed={"primary": True})
    assert got["subject"] == "Invoice" and got["body"] == "Due soon"
    assert got["tags"] == ["money", "urgent"]
    assert got["workflow"] == {
        "id": "billing",
        "identifier": "billing",
        "name": "Billing",
        "critical": True,
        "tags": ["money", "urgent"],
        "severity": "none",
    }
    assert got["primaryAction"] == {
        "label": "Pay",
        "isCompleted": True,
        "redirect": {"url": "https://pay.example.com"},
    }
    assert "secondaryAction" not in got and "avatar" not in got and "redirect" not in got
    assert got["isSnoozed"] is True and got["snoozedUntil"] == "2026-05-02T00:00:00.000Z"
    assert answer(snoozed_until="2026-05-01T00:00:00.000Z")["isSnoozed"] is False  # woke up
    assert answer(is_read=True)["isSeen"] is True  # read implies seen


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"tags": ["money"]}, True),
        ({"tags": ["other", "urgent"]}, True),
        ({"tags": ["other"]}, False),
        ({"tags": {"or": ["other", "money"]}}, True),
        ({"tags": {"and": [{"or": ["money"]}, {"or": ["urgent", "x"]}]}}, True),
        ({"tags": {"and": [{"or": ["money"]}, {"or": ["x"]}]}}, False),
        ({"tags": []}, True),
        ({"data": {"plan": "pro"}}, True),
        ({"data": {"plan": "free"}}, False),
        ({"data": {"plan": ["free", "pro"]}}, True),
        ({"data": {"plan": {"or": ["free", "pro"]}}}, True),
        ({"data": {"labels": "b"}}, True),
        ({"data": {"labels": {"and": [{"or": ["a"]}, {"or": ["b"]}]}}}, True),
        ({"data": {"labels": {"and": [{"or": ["a"]}, {"or": ["c"]}]}}}, False),
        ({"data": {"account": {"tier": "gold"}}}, True),
        ({"data": {"account": {"tier": ["silver"]}}}, False),
        ({"data": {"plan": "pro", "region": "us"}}, False),
        ({"read": False, "archived": False, "seen": False, "snoozed": False}, True),
        ({"read": True}, False),
        ({"severity": ["high", "none"]}, True),
        ({"severity": "high"}, False),
        ({"createdGte": 1777633200000}, True),  # 2026-05-01T11:00:00Z
        ({"createdGte": 1777633200001}, False),
        ({"createdLte": 1777633199999}, False),
    ],
)
def test_filters_in_every_form_the_inbox_sends(raw: dict[str, object], expected: bool) -> None:
    assert matches(answer(), filter_from(raw)) is expected


def test_bulk_actions_send_data_as_a_json_string() -> None:
    assert filter_from({"data": '{"plan": "pro"}'}).data == {"plan": "pro"}
    with pytest.raises(FilterError, match=r"^data: "):
        filter_from({"data": "{not json"})


def test_bad_filters_name_their_place() -> None:
    with pytest.raises(FilterError, match=r"^filters\.1\.read: "):
        parse_filters('[{"read": true}, {"read": "perhaps"}]')
    with pytest.raises(FilterError, match=r"^filters\.0\.colour: "):
        parse_filters('[{"colour": "red"}]')
    with pytest.raises(FilterError, match=r"^filters: "):
        parse_filters('{"read": true}')
    assert parse_filters('[{"read": false, "tags": []}]')[0] == NotificationFilter(read=False, tags=[])


def test_a_token_speaks_only_for_its_claims_and_key() -> None:
    claims = inbox_auth.Claims("development", "ada", 2_000_000_000, "k" * 16)
    token = inbox_auth.sign(claims, "key-one")
    body, _, signature = token.partition(".")
    assert inbox_auth._claims(token)[0] == claims
    assert inbox_auth.sign(claims, "key-two") != token
    other = inbox_auth.sign(inbox_auth.Claims("development", "bob", 2_000_000_000, "k" * 16), "key-one")
    assert other.partition(".")[2] != signature
    for broken in ("", "abc", f"{body}", f"{body}.!!", "e30.AA", f"{inbox_auth._b64(b'[1]')}.{signature}"):
        with pytest.raises(inbox_auth.UnauthorizedError):
            inbox_auth._claims(broken)
    # Novu's scheme: hex(HMAC-SHA256(apiKey, subscriberId))
    assert (
        inbox_auth.subscriber_hash("key", "ada")
        == "708a727d2475357eaacc4f88c80d7eec3218ce0cabcf2694f6fecd080545cc6f"
    )

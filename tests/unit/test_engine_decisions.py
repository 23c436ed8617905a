"""The engine's pure decisions, without moto: how recipients expand into parts, how long a
continuation waits, which digest bucket an event joins, how a stored subscriber's older
identity keys are read."""

from __future__ import annotations

from typing import Any

import pytest
from clarion import clock
from clarion.dialects.suprsend_identities import with_stored_identities
from clarion.engine import delays, recipients
from clarion.engine.digest import digest_key
from clarion.engine.parts import MAX_SQS_DELAY, Parts
from clarion.model import Continuation, TriggerRecord
from clarion.model.trigger import AllSubscribers, SubscriberProfile, TopicRef


def record(*given: Any, continuation: Continuation | None = None) -> TriggerRecord:
    return TriggerRecord(
        environment_id="development",
        bulk_id="b",
        index=0,
        transaction_id="t",
        workflow_id="welcome",
        recipients=list(given),
        accepted_at="2026-01-01T00:00:00.000Z",
        continuation=continuation,
    )


def test_a_record_runs_its_named_subscribers_and_leaves_a_part_per_topic_and_one_broadcast() -> None:
    parts = Parts()
    given = record(
        AllSubscribers(),
        SubscriberProfile(subscriber_id="ada"),
        TopicRef(topic_key="team"),
        AllSubscribers(),
        TopicRef(topic_key="ops"),
    )
    direct = recipients.expand(given, parts)
    assert [p.subscriber_id for p in direct] == ["ada"]
    assert [(part.continuation.kind, part.continuation.topic_key, delay) for part, delay in parts.items] == [
        ("topic", "team", 0),
        ("topic", "ops", 0),
        ("broadcast", None, 0),
    ]
    assert all(part.recipients == given.recipients for part, _ in parts.items)


def test_a_continuation_that_arrives_early_waits_again_at_most_what_sqs_can_delay() -> None:
    with clock.controlled(at=1_000_000.0):
        parts = Parts()
        soon = Continuation(kind="delay", not_before=1_000_030)
        later = Continuation(kind="delay", not_before=1_000_000 + 3600)
        due = Continuation(kind="delay", not_before=1_000_000)
        assert delays.waits_more(record(SubscriberProfile(subscriber_id="a")), soon, parts)
        assert delays.waits_more(record(SubscriberProfile(subscriber_id="a")), later, parts)
        assert not delays.waits_more(record(SubscriberProfile(subscriber_id="a")), due, parts)
    assert [delay for _, delay in parts.items] == [30, MAX_SQS_DELAY]
    assert [part.continuation for part, _ in parts.items] == [soon, later]


def test_a_delay_until_a_date_counts_from_the_clock() -> None:
    with clock.controlled(at=1_893_456_000.0):  # 2030-01-01T00:00:00Z
        assert delays.delay_seconds("wait", {"until": "2030-01-01T00:05:00Z"}) == 300
        assert delays.delay_seconds("wait", {"until": "2029-12-31T00:00:00Z"}) == 0
        assert delays.delay_seconds("wait", {"amount": 2, "unit": "minutes"}) == 120
        with pytest.raises(ValueError, match=r"content\.amount"):
            delays.delay_seconds("wait", {"amount": -1})


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("payload.postId", "7"),
        ("postId", "7"),  # a bare name is read from the payload, as Novu does
        ("subscriber.team", "red"),
        ("payload.tags", '["a", "b"]'),
        ("payload.missing", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_the_digest_key_is_the_value_at_its_path_as_text(path: Any, expected: str) -> None:
    scope = {"payload": {"postId": 7, "tags": ["a", "b"]}, "subscriber": {"team": "red"}}
    assert digest_key(path, scope) == expected


def test_older_identity_keys_of_a_stored_subscriber_are_read_into_the_internal_shape() -> None:
    stored = {
        "subscriberId": "s1",
        "$email": ["ada@example.org"],
        "data": {
            "$sms": "+14155550100",
            "$androidpush": ["tok-a", " "],
            "$iospush": "tok-i",
            "$ms_teams": {"incoming_webhook": {"url": "https://teams.example/h"}},
        },
        "$slack": [{"incoming_webhook": {"url": "https://hooks.slack.example/1"}}, {"user_id": "U1"}],
        "channels": [{"providerId": "discord", "credentials": {"webhookUrl": "https://discord.example/d"}}],
    }
    doc = with_stored_identities(stored)
    assert (doc["email"], doc["phone"]) == ("ada@example.org", "+14155550100")
    assert doc["channels"] == [
        {"providerId": "discord", "credentials": {"webhookUrl": "https://discord.example/d"}},
        {"providerId": "fcm", "credentials": {"deviceTokens": ["tok-a"]}},
        {"providerId": "apns", "credentials": {"deviceTokens": ["tok-i"]}},
        {"providerId": "slack", "credentials": {"webhookUrl": "https://hooks.slack.example/1"}},
        {"providerId": "msteams", "credentials": {"webhookUrl": "https://teams.example/h"}},
    ]
    assert stored["channels"] == doc["channels"][:1]  # the stored document is not changed


def test_a_subscribers_own_address_wins_and_one_without_older_keys_is_left_alone() -> None:
    assert with_stored_identities({"email": "own@example.org", "$email": "old@example.org"})["email"] == (
        "own@example.org"
    )
    plain = {"subscriberId": "s", "email": "a@example.org", "data": {"plan": "pro"}}
    assert with_stored_identities(plain) is plain

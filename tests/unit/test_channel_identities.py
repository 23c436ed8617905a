"""A stored subscriber's addresses, typed (model.subscriber.ChannelIdentities): what every
channel reads, whichever dialect's identities were mapped onto the subscriber."""

from __future__ import annotations

from clarion.dialects.suprsend_identities import Identities
from clarion.model.profile import ListChange, ProfileEdit, apply_edit
from clarion.model.subscriber import ChannelIdentities


def test_suprsend_identities_mapped_by_the_adapter_read_back_typed() -> None:
    identities = Identities.model_validate(
        {
            "$email": "ada@example.org",
            "$sms": ["+14155550100"],
            "$androidpush": ["tok-a", {"token": "tok-x", "provider": "xiaomi"}],
            "$iospush": "tok-i",
            "$inbox": "inbox-1",
            "$webpush": {"endpoint": "https://push.example/1", "keys": {"p256dh": "k", "auth": "a"}},
            "$slack": {"incoming_webhook": {"url": "https://hooks.slack.example/1"}},
            "$ms_teams": {"incoming_webhook": {"url": "https://teams.example/1"}},
        }
    ).identities()
    stored = apply_edit(
        {"subscriberId": "ada"},
        ProfileEdit(subscriber_id="ada", operations=[ListChange(op="append", identities=identities)]),
    )

    typed = ChannelIdentities.of(stored)

    assert (typed.email, typed.phone) == ("ada@example.org", "+14155550100")
    assert typed.push_tokens() == {"fcm": ["tok-a"], "xiaomi": ["tok-x"], "apns": ["tok-i"]}
    assert typed.webhooks() == [
        ("slack", "https://hooks.slack.example/1"),
        ("msteams", "https://teams.example/1"),
    ]
    assert typed.inbox_ids() == ["inbox-1"]
    assert [s["endpoint"] for s in typed.web_push_subscriptions()] == ["https://push.example/1"]


def test_an_entry_tied_to_an_integration_is_used_only_with_that_one() -> None:
    stored = {
        "channels": [
            {"providerId": "FCM", "credentials": {"deviceTokens": ["free"]}},
            {
                "providerId": "fcm",
                "integrationIdentifier": "eu",
                "credentials": {"deviceTokens": ["eu-only"]},
            },
            {"providerId": "fcm", "integrationIdentifier": "us", "credentials": {"deviceTokens": "us-only"}},
            "not an entry",
        ]
    }
    typed = ChannelIdentities.of(stored)
    assert typed.push_tokens() == {"fcm": ["free", "eu-only", "us-only"]}
    assert typed.push_tokens("eu") == {"fcm": ["free", "eu-only"]}


def test_values_of_the_wrong_type_are_no_address() -> None:
    typed = ChannelIdentities.of(
        {"email": ["  "], "phone": 5, "channels": [{"providerId": "slack", "credentials": {"webhookUrl": 3}}]}
    )
    assert (typed.email, typed.phone, typed.webhooks()) == (None, None, [])

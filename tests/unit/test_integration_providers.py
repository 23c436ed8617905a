"""Integration bodies: a providerId must be one its channel delivers through, its credentials
the ones that provider reads; the table agrees with the channel modules."""

from __future__ import annotations

from typing import Any

import pytest
from clarion.channels import dispatch
from clarion.channels.delivery import OutboundPolicy
from clarion.model.integration import PROVIDERS, IntegrationCreate
from pydantic import ValidationError


def errors(body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        IntegrationCreate.model_validate(body)
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in caught.value.errors()}


@pytest.mark.parametrize(("channel", "provider_id"), [(c, p) for c, ps in PROVIDERS.items() for p in ps])
def test_every_listed_provider_is_one_its_channel_delivers_through(channel: str, provider_id: str) -> None:
    if channel == "in_app":
        return  # stored by Clarion itself, not dispatched
    delivery = dispatch.send(
        channel,
        {"subject": "s", "body": "b", "title": "t"},
        {"subscriberId": "nobody"},  # no address: each channel stops before any provider call
        {"providerId": provider_id, "channel": channel, "credentials": {}, "active": True},
        {},
        OutboundPolicy(),
        transaction_id="t",
    )
    assert delivery.status == "failed"
    assert "not supported" not in (delivery.detail or ""), delivery.detail


def test_a_provider_no_channel_delivers_through_is_refused_listing_the_ones_it_does() -> None:
    assert errors({"providerId": "0", "channel": "chat"}) == {
        "providerId": "Value error, '0' is not a provider the chat channel delivers through: "
        "slack, discord, msteams, ms_teams, ms-teams, teams"
    }
    assert "delivers through: ses" in errors({"providerId": "sendgrid", "channel": "email"})["providerId"]
    assert "sns, push-webhook" in errors({"providerId": "fcm", "channel": "push"})["providerId"]
    assert IntegrationCreate.model_validate({"providerId": "Slack", "channel": "chat"}).provider_id == "Slack"


def test_credentials_are_the_ones_the_provider_reads() -> None:
    assert errors(
        {"providerId": "ses", "channel": "email", "credentials": {"from": "x@y.z", "apiKey": "k"}}
    ) == {
        "credentials.apiKey": "unknown field; known fields here: from, senderName, replyTo, configurationSetName"
    }
    assert "credentials.from" in errors(
        {"providerId": "ses", "channel": "email", "credentials": {"from": "nope"}}
    )
    assert errors(
        {"providerId": "push-webhook", "channel": "push", "credentials": {"url": "https://x.example"}}
    ) == {"credentials": "Value error, secretKey or secret: required by push-webhook"}
    assert (
        "reads no credentials"
        in errors(
            {"providerId": "slack", "channel": "chat", "credentials": {"webhookUrl": "https://hooks.example"}}
        )["credentials"]
    )
    assert "credentials.smsType" in errors(
        {"providerId": "sns", "channel": "sms", "credentials": {"smsType": "Spam"}}
    )
    assert errors({"providerId": "sns", "channel": "sms", "secret": "x"}) == {
        "secret": "unknown field; known fields here: channel, providerId, credentials, active, identifier, name"
    }
    good = {"webhookUrl": "https://push.example/hook", "secretKey": "s3cr3t"}
    assert IntegrationCreate.model_validate(
        {"providerId": "push-webhook", "channel": "push", "credentials": good}
    )

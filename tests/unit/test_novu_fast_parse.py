"""The Novu parser validates each event once and builds the TriggerRecord from plain data (the
accept path's floor, issue 17). These properties pin its records and refusals to the model path
it replaced, kept here as the reference: every recipient, actor and profile built as a model
first, then the record from those models."""

from __future__ import annotations

import os
from typing import Any

from clarion.dialects import novu
from clarion.ids import generated_transaction_id
from clarion.model import RecordOutcome, SubscriberProfile, TopicRef, TriggerRecord
from clarion.model.trigger import Recipient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.strategies import CONTROL_CHARACTER_IDS, broken_novu_events, ids, json_values, novu_events

CONTEXT = {
    "environment_id": "development",
    "bulk_id": "b1",
    "index": 7,
    "accepted_at": "2026-01-01T00:00:00Z",
}
PROPERTIES = settings(
    max_examples=int(os.environ.get("CLARION_PROPERTY_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# --- the reference: the model path parse_event used before --------------------------------------


def _reference_profile(subscriber: novu.NovuSubscriber) -> SubscriberProfile:
    return SubscriberProfile(
        subscriber_id=subscriber.subscriberId,
        email=subscriber.email,
        phone=subscriber.phone,
        first_name=subscriber.firstName,
        last_name=subscriber.lastName,
        avatar=subscriber.avatar,
        locale=subscriber.locale,
        timezone=subscriber.timezone,
        data=subscriber.data,
        channels=subscriber.channels,
    )


def _reference_recipients(event: novu.NovuTriggerEvent) -> list[Recipient]:
    listed = event.to if isinstance(event.to, list) else [event.to]
    unique: dict[tuple[str, str], Recipient] = {}
    for entry in listed:
        recipient: Recipient
        if isinstance(entry, str):
            recipient = SubscriberProfile(subscriber_id=entry)
        elif isinstance(entry, novu.NovuTopic):
            recipient = TopicRef(topic_key=entry.topicKey)
        else:
            recipient = _reference_profile(entry)
        identity = (
            recipient.kind,
            recipient.topic_key if isinstance(recipient, TopicRef) else recipient.subscriber_id,
        )
        unique.setdefault(identity, recipient)
    return list(unique.values())


def reference_parse(raw: Any) -> TriggerRecord | None:
    """The record parse_event built before through the models; None where it refused (the refusal
    path is unchanged: test_dialect_properties pins its answers)."""
    try:
        event = novu.NovuTriggerEvent.model_validate(raw)
    except ValidationError:
        return None
    transaction_id = raw.get("transactionId")
    if not isinstance(transaction_id, str) or not transaction_id:
        transaction_id = generated_transaction_id(CONTEXT["bulk_id"], CONTEXT["index"])
    actor = None
    if event.actor is not None:
        actor = (
            SubscriberProfile(subscriber_id=event.actor)
            if isinstance(event.actor, str)
            else _reference_profile(event.actor)
        )
    tenant = (
        {"identifier": event.tenant}
        if isinstance(event.tenant, str)
        else event.tenant.model_dump(exclude_none=True)
        if event.tenant
        else None
    )
    return TriggerRecord(
        environment_id=CONTEXT["environment_id"],
        bulk_id=CONTEXT["bulk_id"],
        index=CONTEXT["index"],
        transaction_id=transaction_id,
        workflow_id=event.name,
        recipients=_reference_recipients(event),
        payload=event.payload,
        overrides=event.overrides,
        actor=actor,
        tenant=tenant,
        tenant_must_exist=isinstance(event.tenant, str),
        accepted_at=CONTEXT["accepted_at"],
    )


# --- the properties ------------------------------------------------------------------------------


@PROPERTIES
@given(event=novu_events)
def test_a_valid_event_becomes_the_record_the_model_path_built_byte_for_byte(event: dict[str, Any]) -> None:
    record = novu.parse_event(event, **CONTEXT)
    expected = reference_parse(event)

    assert isinstance(record, TriggerRecord), record
    assert expected is not None
    assert record == expected
    assert record.model_dump_json() == expected.model_dump_json()  # the SQS message body


@PROPERTIES
@given(case=broken_novu_events())
def test_a_broken_event_is_still_refused(case: tuple[str, dict[str, Any]]) -> None:
    _, event = case

    assert isinstance(novu.parse_event(event, **CONTEXT), RecordOutcome)
    assert reference_parse(event) is None


@PROPERTIES
@given(raw=json_values | st.dictionaries(st.sampled_from(["name", "to", "actor", "tenant"]), json_values))
def test_anything_sent_gets_the_answer_the_model_path_gave(raw: Any) -> None:
    _assert_answered_as_the_model_path(raw)


def _assert_answered_as_the_model_path(raw: Any) -> None:
    """Refused where the model path refused; else the record it built, to the byte."""
    parsed = novu.parse_event(raw, **CONTEXT)
    expected = reference_parse(raw)

    if expected is None:
        assert isinstance(parsed, RecordOutcome)
    else:
        assert isinstance(parsed, TriggerRecord)
        assert parsed == expected
        assert parsed.model_dump_json() == expected.model_dump_json()


# Events at the edge of the plain shape (dialects.novu._plain_record): ids valid, too long, empty
# or with control characters; profile fields of any JSON type; topics almost right; other keys.
_EDGE_IDS = ids(128) | ids(256) | st.text(min_size=255, max_size=258) | st.just("") | CONTROL_CHARACTER_IDS
_EDGE_PROFILES = st.dictionaries(
    st.sampled_from(["subscriberId", "email", "firstName", "data", "channels", "type", "topicKey", "x"]),
    _EDGE_IDS | json_values,
    max_size=4,
)
_EDGE_TOPICS = st.fixed_dictionaries(
    {"type": st.sampled_from(["Topic", "topic", "Subscriber"]), "topicKey": _EDGE_IDS | json_values},
    optional={"subscriberId": _EDGE_IDS},
)
_EDGE_RECIPIENTS = _EDGE_IDS | _EDGE_PROFILES | _EDGE_TOPICS | json_values
_EDGE_EVENTS = st.fixed_dictionaries(
    {"name": _EDGE_IDS | json_values, "to": _EDGE_RECIPIENTS | st.lists(_EDGE_RECIPIENTS, max_size=5)},
    optional={
        "payload": json_values,
        "overrides": json_values,
        "transactionId": _EDGE_IDS
        | st.sampled_from(
            ["clr_x", "clr_", generated_transaction_id("b1", 7), generated_transaction_id("b2", 3)]
        )
        | json_values,
        "actor": st.none(),
        "bridgeUrl": st.none(),
    },
)


@PROPERTIES
@given(raw=_EDGE_EVENTS)
def test_events_at_the_edge_of_the_plain_shape_get_the_answer_the_model_path_gave(
    raw: dict[str, Any],
) -> None:
    _assert_answered_as_the_model_path(raw)


def test_a_hundred_recipients_are_plain_and_a_hundred_and_one_are_refused_even_with_a_repeat() -> None:
    hundred = [f"s{i}" for i in range(100)]
    assert isinstance(novu.parse_event({"name": "w", "to": hundred}, **CONTEXT), TriggerRecord)
    # Novu counts `to` as sent (at most 100), before repeats are folded into one recipient
    repeated = novu.parse_event({"name": "w", "to": [*hundred, "s0"]}, **CONTEXT)
    assert isinstance(repeated, RecordOutcome)
    assert reference_parse({"name": "w", "to": [*hundred, "s0"]}) is None


def test_duplicate_recipients_keep_their_first_form_as_before() -> None:
    event = {
        "name": "w",
        "to": [
            {
                "subscriberId": "a",
                "firstName": "Ada",
                "phone": "+4915112345678",
                "data": {"plan": "pro"},
                "channels": [{"providerId": "slack", "credentials": {"webhookUrl": "https://x.io"}}],
                "x-extra": 1,
            },
            "a",
            {"type": "Topic", "topicKey": "a"},
            {"type": "Topic", "topicKey": "a"},
            "b",
        ],
        "actor": {"subscriberId": "boss", "email": "boss@example.com", "unknown": True},
        "tenant": {"identifier": "acme", "name": None, "plan": "gold"},
    }

    record = novu.parse_event(event, **CONTEXT)

    assert isinstance(record, TriggerRecord)
    expected = reference_parse(event)
    assert expected is not None
    assert record.model_dump_json() == expected.model_dump_json()
    assert [r.kind for r in record.recipients] == ["subscriber", "topic", "subscriber"]

from __future__ import annotations

from clarion.dialects import novu
from clarion.model import RecordOutcome, RecordStatus, SubscriberProfile, TopicRef, TriggerRecord


def parse(raw: object) -> TriggerRecord | RecordOutcome:
    return novu.parse_event(
        raw,
        environment_id="env",
        bulk_id="0b5e2c7e-8a7f-4d3e-9c11-2f1b6c1d9e00",
        index=3,
        accepted_at="t",
    )


def test_every_recipient_form_maps_to_the_model_and_duplicates_are_removed() -> None:
    record = parse(
        {
            "name": "w",
            "to": [
                "a",
                {"subscriberId": "b", "email": "b@x.io"},
                "a",
                {"type": "Topic", "topicKey": "news"},
                {"subscriberId": "a"},
            ],
        }
    )
    assert isinstance(record, TriggerRecord)
    assert record.recipients == [
        SubscriberProfile(subscriber_id="a"),
        SubscriberProfile(subscriber_id="b", email="b@x.io"),
        TopicRef(topic_key="news"),
    ]
    assert record.transaction_id.startswith("clr_0b5e2c7e-8a7f-4d3e-9c11-2f1b6c1d9e00_")
    assert record.index == 3


def test_actor_and_tenant_strings_become_objects() -> None:
    record = parse({"name": "w", "to": "a", "actor": "boss", "tenant": "acme", "transactionId": "tx-1"})
    assert isinstance(record, TriggerRecord)
    assert record.actor == SubscriberProfile(subscriber_id="boss")
    assert record.tenant == {"identifier": "acme"}
    assert record.transaction_id == "tx-1"


def test_invalid_event_is_refused_with_its_fields_named_and_keeps_its_transaction_id() -> None:
    outcome = parse({"to": [], "payload": "nope", "transactionId": "tx-9"})
    assert isinstance(outcome, RecordOutcome)
    assert outcome.status is RecordStatus.ERROR
    assert outcome.transaction_id == "tx-9"
    assert outcome.error is not None
    for field in ("name", "to", "payload"):
        assert field in outcome.error


def test_non_object_event_is_refused_not_raised() -> None:
    outcome = parse(["not", "an", "event"])
    assert isinstance(outcome, RecordOutcome)
    assert outcome.transaction_id.startswith("clr_0b5e2c7e-8a7f-4d3e-9c11-2f1b6c1d9e00_")


def test_answers_carry_exactly_novus_keys() -> None:
    queued = RecordOutcome(
        environment_id="e",
        bulk_id="0b5e2c7e-8a7f-4d3e-9c11-2f1b6c1d9e00",
        index=0,
        transaction_id="t",
        status=RecordStatus.QUEUED,
    )
    assert novu.answer_item(queued) == {"acknowledged": True, "status": "processed", "transactionId": "t"}
    refused = queued.model_copy(update={"status": RecordStatus.TRIGGER_NOT_ACTIVE, "error": "inactive"})
    assert novu.answer_item(refused) == {
        "acknowledged": True,
        "status": "trigger_not_active",
        "error": ["inactive"],
        "transactionId": "t",
    }


def test_generated_transaction_ids_name_their_bulk_and_record() -> None:
    from clarion.ids import generated_transaction_id, parse_generated_transaction_id

    bulk = "0b5e2c7e-8a7f-4d3e-9c11-2f1b6c1d9e00"
    assert parse_generated_transaction_id(generated_transaction_id(bulk, 42)) == (bulk, 42)
    for other in ("clr_x_1", "tx-1", f"clr_{bulk}_", f"clr_{bulk}_123456", f"xclr_{bulk}_1"):
        assert parse_generated_transaction_id(other) is None

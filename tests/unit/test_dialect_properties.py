"""Properties of the dialect adapters, over generated requests: any valid event becomes a
TriggerRecord (that survives the queue) and its verdict an answer item with exactly the
dialect's keys; any event broken in one field becomes a refusal naming that field; nothing
raises, whatever is sent."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from clarion.api.body import TRIGGER_MAX_BYTES, parse_json
from clarion.dialects import novu, suprsend
from clarion.ids import generated_transaction_id
from clarion.model import RecordOutcome, RecordStatus, SubscriberProfile, TopicRef, TriggerRecord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.strategies import (
    broken_novu_events,
    broken_suprsend_records,
    json_values,
    novu_events,
    odd_valid_values,
    suprsend_records,
    with_value_at_a_field,
)

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
NOVU_KEYS = {"acknowledged", "status", "transactionId"}
SUPRSEND_SUCCESS_KEYS = {"status", "status_code", "message_id"}
SUPRSEND_ERROR_KEYS = {"status", "status_code", "error"}
REFUSED = [s for s in RecordStatus if s is not RecordStatus.QUEUED]


def verdict(record: TriggerRecord, status: RecordStatus, error: str | None = None) -> RecordOutcome:
    return RecordOutcome.of(record, status, error)


def names(error: str) -> list[str]:
    """The fields a refusal names: `field: message; other.field: message`."""
    return re.findall(r"(?:^|; )([^:;]+): ", error)


def names_field(error: str, field: str) -> bool:
    return any(name == field or name.startswith(f"{field}.") for name in names(error))


def identity(entry: Any) -> tuple[str, str]:
    if isinstance(entry, str):
        return ("subscriber", entry)
    if entry.get("type") == "Topic":
        return ("topic", entry["topicKey"])
    return ("subscriber", entry["subscriberId"])


# --- Novu -------------------------------------------------------------------------------------


@PROPERTIES
@given(event=novu_events, refused=st.sampled_from(REFUSED), reason=st.text(min_size=1, max_size=30))
def test_novu_valid_event_maps_to_a_record_and_back_to_novus_answer_keys(
    event: dict[str, Any], refused: RecordStatus, reason: str
) -> None:
    record = novu.parse_event(event, **CONTEXT)

    assert isinstance(record, TriggerRecord), record
    assert TriggerRecord.model_validate_json(record.model_dump_json()) == record  # survives SQS
    assert record.workflow_id == event["name"]
    assert record.payload == event.get("payload", {})
    assert record.transaction_id == event.get("transactionId", generated_transaction_id("b1", 7))
    listed = event["to"] if isinstance(event["to"], list) else [event["to"]]
    wanted = list(dict.fromkeys(identity(entry) for entry in listed))  # first occurrence, in order
    got = [
        ("topic", r.topic_key) if isinstance(r, TopicRef) else ("subscriber", r.subscriber_id)
        for r in record.recipients
    ]
    assert got == wanted
    # A subscriber named twice is the first entry naming it: a later inline profile is not merged.
    first = {}
    for entry in listed:
        first.setdefault(identity(entry), entry)
    for recipient in record.recipients:
        if isinstance(recipient, SubscriberProfile):
            entry = first[("subscriber", recipient.subscriber_id)]
            assert recipient.email == (entry.get("email") if isinstance(entry, dict) else None)
    accepted = novu.answer_item(verdict(record, RecordStatus.QUEUED))
    assert set(accepted) == NOVU_KEYS
    assert accepted == {"acknowledged": True, "status": "processed", "transactionId": record.transaction_id}
    refusal = novu.answer_item(verdict(record, refused, reason))
    assert set(refusal) == NOVU_KEYS | {"error"}
    assert refusal["status"] == refused.value
    assert refusal["error"] == [reason]
    json.dumps([accepted, refusal])


@PROPERTIES
@given(broken=broken_novu_events())
def test_novu_event_broken_in_one_field_is_refused_naming_that_field(
    broken: tuple[str, dict[str, Any]],
) -> None:
    field, event = broken

    outcome = novu.parse_event(event, **CONTEXT)

    assert isinstance(outcome, RecordOutcome), f"{field} broken, yet accepted: {outcome}"
    assert outcome.error_type == novu.VALIDATION_ERROR
    assert outcome.status in (RecordStatus.ERROR, RecordStatus.INVALID_RECIPIENTS)
    assert outcome.error and names_field(outcome.error, field), (field, outcome.error)
    given_id = event.get("transactionId")
    expected = given_id if isinstance(given_id, str) and given_id else generated_transaction_id("b1", 7)
    assert outcome.transaction_id == expected
    item = novu.answer_item(outcome)
    assert set(item) == NOVU_KEYS | {"error"}
    assert item["error"] == [outcome.error]


@PROPERTIES
@given(
    raw=json_values
    | st.dictionaries(
        st.sampled_from(["name", "to", "payload", "transactionId", "actor", "tenant"]), json_values
    )
)
def test_novu_anything_at_all_is_a_record_or_a_refusal_never_an_exception(raw: Any) -> None:
    outcome = novu.parse_event(raw, **CONTEXT)

    if isinstance(outcome, RecordOutcome):
        assert outcome.status is not RecordStatus.QUEUED and outcome.error
        assert set(novu.answer_item(outcome)) == NOVU_KEYS | {"error"}
    else:
        assert isinstance(outcome, TriggerRecord)
        assert set(novu.answer_item(verdict(outcome, RecordStatus.QUEUED))) == NOVU_KEYS


# --- SuprSend ---------------------------------------------------------------------------------


@PROPERTIES
@given(record=suprsend_records, refused=st.sampled_from(REFUSED), reason=st.text(min_size=1, max_size=30))
def test_suprsend_valid_record_maps_to_a_record_and_back_to_suprsends_answer_keys(
    record: dict[str, Any], refused: RecordStatus, reason: str
) -> None:
    parsed = suprsend.parse_record(record, **CONTEXT)

    assert isinstance(parsed, TriggerRecord), parsed
    assert TriggerRecord.model_validate_json(parsed.model_dump_json()) == parsed
    assert parsed.workflow_id == record["workflow"]
    assert parsed.payload == record.get("data", {})
    assert parsed.transaction_id == record.get("$idempotency_key", generated_transaction_id("b1", 7))
    named = {
        r if isinstance(r, str) else r["distinct_id"]
        for r in record["recipients"]
        if not isinstance(r, dict) or "distinct_id" in r
    }
    transient = [r for r in record["recipients"] if isinstance(r, dict) and "distinct_id" not in r]
    ids = [r.subscriber_id for r in parsed.recipients if isinstance(r, SubscriberProfile)]
    assert len(ids) == len(set(ids))
    assert {i for i in ids if not i.startswith("transient-")} == named
    assert sum(r.transient for r in parsed.recipients if isinstance(r, SubscriberProfile)) == len(transient)

    accepted = suprsend.record_answer(verdict(parsed, RecordStatus.QUEUED))
    assert set(accepted) == SUPRSEND_SUCCESS_KEYS
    assert accepted == {"status": "success", "status_code": 202, "message_id": parsed.transaction_id}
    refusal = suprsend.record_answer(verdict(parsed, refused, reason))
    assert set(refusal) == SUPRSEND_ERROR_KEYS
    assert refusal["status"] == "error" and 400 <= refusal["status_code"] < 500
    assert set(refusal["error"]) == {"message", "type"}
    json.dumps([accepted, refusal])


@PROPERTIES
@given(broken=broken_suprsend_records())
def test_suprsend_record_broken_in_one_field_is_refused_naming_that_field(
    broken: tuple[str, dict[str, Any]],
) -> None:
    field, record = broken

    outcome = suprsend.parse_record(record, **CONTEXT)

    assert isinstance(outcome, RecordOutcome), f"{field} broken, yet accepted: {outcome}"
    assert outcome.status is RecordStatus.ERROR
    assert outcome.error_type == suprsend.VALIDATION_ERROR
    assert outcome.error and names_field(outcome.error, field), (field, outcome.error)
    item = suprsend.record_answer(outcome)
    assert set(item) == SUPRSEND_ERROR_KEYS
    assert item["status_code"] == 400 and item["error"]["type"] == "validation_error"


@PROPERTIES
@given(
    raw=json_values
    | st.dictionaries(
        st.sampled_from(["workflow", "recipients", "data", "actor", "$idempotency_key"]), json_values
    )
)
def test_suprsend_anything_at_all_is_a_record_or_a_refusal_never_an_exception(raw: Any) -> None:
    outcome = suprsend.parse_record(raw, **CONTEXT)

    if isinstance(outcome, RecordOutcome):
        assert outcome.status is RecordStatus.ERROR and outcome.error
        assert set(suprsend.record_answer(outcome)) == SUPRSEND_ERROR_KEYS
    else:
        assert isinstance(outcome, TriggerRecord)


# --- What the strict JSON reader lets through -------------------------------------------------


@PROPERTIES
@given(
    novu_case=with_value_at_a_field(novu_events, odd_valid_values),
    suprsend_case=with_value_at_a_field(suprsend_records, odd_valid_values),
)
def test_odd_but_valid_json_becomes_a_record_that_survives_the_queue_or_a_refusal(
    novu_case: tuple[str, str], suprsend_case: tuple[str, str]
) -> None:
    """Nesting 61 deep, 38-digit integers, 1e308, escaped surrogate pairs, brackets in strings:
    read by api.body as json.loads reads them, then mapped like any other value."""
    for parse, (text, _) in ((novu.parse_event, novu_case), (suprsend.parse_record, suprsend_case)):
        outcome = parse(parse_json(text, limit=TRIGGER_MAX_BYTES), **CONTEXT)

        if isinstance(outcome, TriggerRecord):
            queued = outcome.model_dump_json().encode()  # UTF-8, as SQS takes it
            assert TriggerRecord.model_validate_json(queued) == outcome
        else:
            assert isinstance(outcome, RecordOutcome) and outcome.error
            json.dumps(outcome.error, allow_nan=False).encode()


@pytest.mark.parametrize("dialect", ["novu", "suprsend"])
def test_refusals_name_fields_the_way_the_properties_read_them(dialect: str) -> None:
    """The reading of `names` itself, on a known refusal."""
    if dialect == "novu":
        outcome = novu.parse_event({"to": "ada"}, **CONTEXT)
    else:
        outcome = suprsend.parse_record({"recipients": ["ada"]}, **CONTEXT)
    assert isinstance(outcome, RecordOutcome) and outcome.error
    assert names(outcome.error) == ["name" if dialect == "novu" else "workflow"]

"""Properties of the trigger endpoints, through the real ApiFunction on moto: every generated
body is answered 201/207/202 or 4xx, never 5xx, with one answer item per event, in order.
Bodies include hostile JSON (deep nesting, huge integers, NaN/Infinity/1e400, lone surrogates)
and oversized fields, at any field of an event or of the whole body."""

from __future__ import annotations

import json
import os
from typing import Any

from clarion.ids import GENERATED_PREFIX
from clarion.observability import metrics
from clarion.store import environments
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import Cloud
from tests.strategies import (
    broken_novu_events,
    broken_suprsend_records,
    hostile_or_oversized_values,
    json_values,
    novu_events,
    suprsend_records,
    with_value_at_a_field,
)

ENDPOINT = settings(
    max_examples=int(os.environ.get("CLARION_PROPERTY_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
NOVU_KEYS = {"acknowledged", "status", "transactionId"}

# Events that name the seeded workflow, so that some are accepted and run.
novu_event = (
    novu_events.map(lambda e: {**e, "name": "welcome"})
    | novu_events
    | broken_novu_events().map(lambda broken: broken[1])
    | json_values
)
novu_bodies = (
    st.fixed_dictionaries({"events": st.lists(novu_event, max_size=12)}).map(json.dumps)
    | st.fixed_dictionaries(
        {"events": st.lists(st.just({"name": "welcome", "to": "x"}), min_size=101, max_size=101)}
    ).map(json.dumps)
    | json_values.map(json.dumps)
    | st.text(max_size=40)
    | with_value_at_a_field(novu_events, hostile_or_oversized_values).map(lambda c: f'{{"events": [{c[0]}]}}')
    | with_value_at_a_field(
        st.fixed_dictionaries({"events": st.lists(novu_event, max_size=3)}), hostile_or_oversized_values
    ).map(lambda c: c[0])
)
suprsend_record = (
    suprsend_records.map(lambda r: {**r, "workflow": "welcome"})
    | suprsend_records
    | broken_suprsend_records().map(lambda broken: broken[1])
    | json_values
)
suprsend_bodies = (
    st.lists(suprsend_record, max_size=12).map(json.dumps)
    | suprsend_record.map(json.dumps)
    | st.lists(st.just({"workflow": "welcome", "recipients": ["x"]}), min_size=101, max_size=101).map(
        json.dumps
    )
    | st.text(max_size=40)
    | with_value_at_a_field(
        suprsend_records | st.lists(suprsend_records, min_size=1, max_size=3), hostile_or_oversized_values
    ).map(lambda c: c[0])
)


def room_for_every_example(cloud: Cloud) -> None:
    # With POWERTOOLS_METRICS_DISABLED, log_metrics never clears what handlers added; at 100
    # values Powertools serialises them and fails ("Must contain a metric namespace").
    metrics.clear_metrics()
    with cloud.configured_as("ApiFunction"):
        environments.set_rate_limit(
            "development", environments.RateLimit(per_second=1_000_000, burst=1_000_000)
        )


def expected_transaction_id(event: Any, bulk_id: str, index: int) -> str:
    given_id = event.get("transactionId") if isinstance(event, dict) else None
    return given_id if isinstance(given_id, str) and given_id else f"{GENERATED_PREFIX}{bulk_id}_{index}"


@ENDPOINT
@given(body=novu_bodies)
def test_novu_bulk_answers_every_body_with_201_or_4xx_and_one_item_per_event_in_order(
    cloud: Cloud, body: str
) -> None:
    room_for_every_example(cloud)

    status, headers, answer = cloud.api("POST", "/v1/events/trigger/bulk", raw_body=body)

    assert status == 201 or 400 <= status < 500, (status, answer)
    if status != 201:
        assert answer["statusCode"] == status and answer["message"]
        return
    events = json.loads(body)["events"]
    bulk_id = headers["Location"].rsplit("/", 1)[1]
    assert len(answer["data"]) == len(events)
    for index, (event, item) in enumerate(zip(events, answer["data"], strict=True)):
        assert set(item) in (NOVU_KEYS, NOVU_KEYS | {"error"}), item
        assert item["transactionId"] == expected_transaction_id(event, bulk_id, index)
        assert (item["status"] == "processed") == ("error" not in item)


@ENDPOINT
@given(body=suprsend_bodies)
def test_suprsend_trigger_answers_every_body_with_202_207_or_4xx_and_one_record_per_item_in_order(
    cloud: Cloud, body: str
) -> None:
    room_for_every_example(cloud)

    status, headers, answer = cloud.api("POST", "/trigger/", raw_body=body)

    assert status in (202, 207) or 400 <= status < 500, (status, answer)
    sent = json.loads(body) if status in (202, 207) else None
    if status == 207:
        assert isinstance(sent, list)
        assert len(answer["records"]) == len(sent)
        bulk_id = headers["Location"].rsplit("/", 1)[1]
        for index, (record, item) in enumerate(zip(sent, answer["records"], strict=True)):
            if item["status"] == "success":
                assert set(item) == {"status", "status_code", "message_id"}
                key = record.get("$idempotency_key") if isinstance(record, dict) else None
                assert item["message_id"] == (key or f"{GENERATED_PREFIX}{bulk_id}_{index}")
            else:
                assert set(item) == {"status", "status_code", "error"}
                assert 400 <= item["status_code"] < 500
    elif status == 202:
        assert isinstance(sent, dict)
        assert set(answer) == {"message_id", "status"}
    else:
        assert answer["status"] == "fail" and set(answer["error"]) == {"message", "type"}

"""Properties of Sequenzy's bulk events route, through the real ApiFunction on moto: every
generated body is answered 200 with one answer per event, in order, or a 4xx in Sequenzy's shape
`{success: false, error}` naming a field; never a 5xx. Bodies include hostile JSON and oversized
values at any field."""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import Cloud
from tests.strategies import hostile_or_oversized_values, json_objects, json_values, with_value_at_a_field

PATH = "/api/v1/subscribers/events/bulk"
ENDPOINT = settings(
    max_examples=int(os.environ.get("CLARION_PROPERTY_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
names = st.sampled_from(["welcome", "signed_up", "a b#c", ""]) | st.text(max_size=140)
sequenzy_event = st.fixed_dictionaries(
    {"name": names},
    optional={
        "properties": json_objects | json_values,
        "eventId": st.sampled_from(["e-1", "e-2"]) | st.text(max_size=260) | json_values,
        "occurredAt": st.sampled_from(["2026-01-02T03:04:05Z", "2026-01-02T03:04:05", "yesterday"])
        | json_values,
    },
)
emails = st.sampled_from(["ada@example.com", "ADA@example.com", "grace@example.com", "not-an-email", ""])
external_ids = st.sampled_from(["u-1", "u-2", "sqz_x", "a\x00b", ""]) | st.text(max_size=260)
envelope = st.fixed_dictionaries(
    {"events": st.lists(sequenzy_event | json_values, max_size=8)},
    optional={
        "email": emails | json_values,
        "externalId": external_ids | json_values,
        "firstName": st.text(max_size=20) | json_values,
        "customAttributes": json_objects | json_values,
        "unknown": json_values,
    },
)
plausible = st.fixed_dictionaries(
    {
        "email": st.sampled_from(["ada@example.com", "ADA@example.com", "grace@example.com"]),
        "events": st.lists(sequenzy_event | json_values, min_size=1, max_size=8),
    },
    optional={
        "externalId": st.sampled_from(["u-1", "u-2"]),
        "firstName": st.text(max_size=20),
        "customAttributes": json_objects,
    },
)
bodies = (
    plausible.map(json.dumps)
    | plausible.map(json.dumps)
    | envelope.map(json.dumps)
    | json_values.map(json.dumps)
    | st.text(max_size=40)
    | with_value_at_a_field(envelope, hostile_or_oversized_values).map(lambda c: c[0])
)


@ENDPOINT
@given(body=bodies)
def test_every_body_is_answered_200_with_one_answer_per_event_or_a_4xx_naming_a_field(
    cloud: Cloud, body: str
) -> None:
    status, _, answer = cloud.api("POST", PATH, raw_body=body)
    event(f"status {status}")

    assert status < 500, (body[:300], answer)
    assert isinstance(answer, dict) and isinstance(answer.get("success"), bool), answer
    if status != 200:
        assert status in (400, 404, 409, 413), (status, answer)
        assert set(answer) == {"success", "error"} and answer["success"] is False, answer
        field = answer["error"].split(": ", 1)[0]
        assert field and " " not in field, answer
        return
    sent: Any = json.loads(body)
    assert len(answer["events"]) == len(sent["events"]), answer
    for given_event, answered in zip(sent["events"], answer["events"], strict=True):
        if "error" in answered:
            assert answered["success"] is False and answered["id"] is None
        else:
            assert answered["name"] == given_event["name"] and answered["id"]
    assert answer["success"] is not any("error" in a for a in answer["events"])

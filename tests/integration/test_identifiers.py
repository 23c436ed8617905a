"""Issue 11, point 3: environment ids get a strict pattern wherever they are created or read, and
subscriber, tenant, topic and workflow ids refuse NUL and control characters, in bodies, inside
bulks (per record) and in paths."""

from __future__ import annotations

import json
from email.utils import formatdate
from typing import Any

import pytest
from botocore.stub import Stubber
from clarion import aws
from clarion.api.auth import SignedRequest, sign
from clarion.model.identifiers import CONTROL_CHARACTERS_REFUSED, is_environment_id
from clarion.model.subscriber import SubscriberCreate
from clarion.store import environments
from clarion_cli.seed import DEFAULT_API_KEY

from tests.integration.conftest import Cloud

BAD_ENVIRONMENT_IDS = ["probe#SUB#x", "", "-leading", "a b", "nul\x00", "tab\t", "x" * 65, "é", "a/b"]


@pytest.mark.parametrize("environment_id", BAD_ENVIRONMENT_IDS)
def test_an_environment_id_outside_the_pattern_is_never_created(cloud: Cloud, environment_id: str) -> None:
    with cloud.configured_as("ApiFunction"), pytest.raises(ValueError, match="environment id"):
        environments.create_environment(environment_id, environments.new_api_key())


def test_the_issues_probe_cannot_read_another_environments_subscriber(cloud: Cloud) -> None:
    """`probe#SUB#x` + subscriber `y` would share its key with `probe`'s subscriber `x#SUB#y`."""
    with cloud.configured_as("ApiFunction"):
        environments.create_environment("probe", "probe-key")
    assert cloud.api("POST", "/v1/subscribers", {"subscriberId": "x#SUB#y"}, key="probe-key")[0] == 201
    with cloud.configured_as("ApiFunction"), pytest.raises(ValueError):
        environments.create_environment("probe#SUB#x", "attacker-key")
    assert cloud.api("GET", "/v1/subscribers/y", key="attacker-key")[0] == 401


def test_good_environment_ids_pass() -> None:
    assert all(is_environment_id(i) for i in ["development", "staging-cli", "a", "A.b_c-9", "x" * 64])


def test_a_signed_request_from_a_workspace_outside_the_pattern_is_401_without_a_dynamodb_call(
    cloud: Cloud,
) -> None:
    body = json.dumps({"workflow": "welcome", "recipients": ["ada"]}).encode()
    date = formatdate(usegmt=True)
    request = SignedRequest("POST", ("/trigger/",), "", body, "application/json", date)
    headers = {
        "Authorization": f"probe#SUB#x:{sign(DEFAULT_API_KEY, request, '/trigger/')}",
        "Date": date,
        "Content-Type": "application/json",
    }
    with Stubber(aws.dynamodb()) as stubber:  # nothing queued: any DynamoDB call would raise
        status, _, answer = cloud.api("POST", "/trigger/", raw_body=body.decode(), key=None, headers=headers)
        stubber.assert_no_pending_responses()
    assert status == 401
    assert answer["status"] == "fail"


CONTROL = ["a\x00b", "line\nbreak", "del\x7f", "c1\x85"]


def field_names(body: dict[str, Any]) -> set[str]:
    return {error["field"] for error in body["errors"]}


@pytest.mark.parametrize("bad", CONTROL)
def test_subscriber_ids_with_control_characters_are_refused_naming_the_field(cloud: Cloud, bad: str) -> None:
    status, _, body = cloud.api("POST", "/v1/subscribers", {"subscriberId": bad})
    assert status == 400
    assert "subscriberId" in field_names(body)
    assert CONTROL_CHARACTERS_REFUSED in json.dumps(body)

    status, _, body = cloud.api(
        "POST", "/v1/subscribers/bulk", {"subscribers": [{"subscriberId": "fine"}, {"subscriberId": bad}]}
    )
    assert status == 201
    assert body["data"]["created"] == [{"subscriberId": "fine"}]
    (failed,) = body["data"]["failed"]
    assert failed["index"] == 1
    assert "subscribers.1.subscriberId" in failed["errors"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/subscribers/a%00b", "subscriberId"),
        ("/v1/subscribers/a%0Ab/notifications/feed", "subscriberId"),
        ("/v1/tenants/t%00", "identifier"),
        ("/v1/topics/k%1F/subscribers", "key"),
        ("/v1/workflows/w%7F", "workflowId"),
    ],
)
def test_ids_in_paths_with_control_characters_are_400_naming_the_field(
    cloud: Cloud, path: str, field: str
) -> None:
    status, _, body = cloud.api("GET", path)
    assert status == 400, body
    assert field in field_names(body)


def test_tenant_topic_and_member_ids_with_control_characters_are_refused(cloud: Cloud) -> None:
    status, _, body = cloud.api("POST", "/v1/tenants", {"identifier": "t\x00", "name": "T"})
    assert (status, "identifier" in field_names(body)) == (400, True)
    status, _, body = cloud.api("POST", "/v1/topics", {"key": "k\x00", "name": "K"})
    assert (status, "key" in field_names(body)) == (400, True)
    assert cloud.api("POST", "/v1/topics", {"key": "k", "name": "K"})[0] == 201
    status, _, body = cloud.api("POST", "/v1/topics/k/subscribers", {"subscribers": ["ok", "a\x00"]})
    assert status == 400
    assert "subscribers.1" in field_names(body)
    status, _, body = cloud.api(
        "PATCH", "/v1/subscribers/ada/preferences", {"workflows": {"w\x00": {"email": False}}}
    )
    assert status == 400


def test_a_novu_bulk_refuses_only_the_events_with_control_characters(cloud: Cloud) -> None:
    events = [
        {"name": "welcome", "to": "ada"},
        {"name": "welcome", "to": "a\x00b"},
        {"name": "welcome", "to": {"subscriberId": "b\x01"}},
        {"name": "welcome", "to": {"type": "Topic", "topicKey": "t\x02"}},
        {"name": "welcome", "to": "ada", "actor": "x\x03"},
        {"name": "welcome", "to": "ada", "tenant": "t\x04"},
        {"name": "welcome", "to": "ada", "tenant": {"identifier": "t\x05", "name": "T"}},
        {"name": "wel\x1fcome", "to": "ada"},
    ]
    status, _, body = cloud.api("POST", "/v1/events/trigger/bulk", {"events": events})
    assert status == 201
    answers = body["data"]
    assert answers[0]["status"] == "processed"
    for answer, field in zip(
        answers[1:], ["to", "to", "to", "actor", "tenant", "tenant", "name"], strict=True
    ):
        assert answer["status"] in {"error", "invalid_recipients"}, answer
        assert answer["error"][0].startswith(field), answer
        assert CONTROL_CHARACTERS_REFUSED in answer["error"][0]


def test_a_suprsend_bulk_refuses_only_the_records_with_control_characters(cloud: Cloud) -> None:
    records = [
        {"workflow": "welcome", "recipients": ["ada"]},
        {"workflow": "welcome", "recipients": ["a\x00"]},
        {"workflow": "welcome", "recipients": [{"distinct_id": "b\x00"}]},
        {"workflow": "welcome", "recipients": ["ada"], "actor": "c\x00"},
        {"workflow": "welcome", "recipients": ["ada"], "tenant_id": "t\x00"},
        {"workflow": "wel\x00come", "recipients": ["ada"]},
    ]
    status, _, body = cloud.api("POST", "/trigger/", raw_body=json.dumps(records))
    assert status == 207
    codes = [record["status_code"] for record in body["records"]]
    assert codes == [202, 400, 400, 400, 400, 400]
    for record, field in zip(
        body["records"][1:], ["recipients", "recipients", "actor", "tenant_id", "workflow"], strict=True
    ):
        assert record["error"]["message"].startswith(field), record


def test_the_shared_subscriber_id_type_is_what_the_management_model_uses() -> None:
    with pytest.raises(ValueError, match=CONTROL_CHARACTERS_REFUSED):
        SubscriberCreate.model_validate({"subscriberId": "\x00"})

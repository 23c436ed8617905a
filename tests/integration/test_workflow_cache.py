"""A container's workflow cache never hides a workflow another container has just written: a
miss is not cached (a user creates a workflow, then triggers it, and another warm container
answers), and the management route reads what is stored now."""

from __future__ import annotations

import json
from typing import Any

import boto3
from clarion.config import settings
from clarion.store import keys, workflows

from tests.integration.conftest import DEVELOPMENT, Cloud

LATE = {
    "workflowId": "late",
    "name": "Late",
    "steps": [{"stepId": "inbox", "type": "in_app", "content": {"body": "Hi"}}],
}


def _stored_item(cloud: Cloud) -> tuple[Any, dict[str, Any]]:
    with cloud.configured_as("ApiFunction"):
        table = boto3.resource("dynamodb").Table(settings().table_name)
    key = keys.workflow(DEVELOPMENT, "late")
    return table, table.get_item(Key=key)["Item"]


def test_a_workflow_another_container_writes_is_found_by_the_next_trigger(cloud: Cloud) -> None:
    assert cloud.api("POST", "/v1/workflows", LATE)[0] == 201
    table, item = _stored_item(cloud)
    table.delete_item(Key=keys.workflow(DEVELOPMENT, "late"))  # as if it did not exist yet
    workflows.forget_cached_workflows()

    _, _, refused = cloud.trigger_bulk({"name": "late", "to": "ada"})
    assert refused["data"][0]["error"] == ["workflow_not_found"]

    table.put_item(Item=item)  # another container creates it: this one's cache is not told
    _, _, accepted = cloud.trigger_bulk({"name": "late", "to": "ada"})
    assert accepted["data"][0]["status"] == "processed", accepted


def test_reading_a_workflow_answers_what_is_stored_now(cloud: Cloud) -> None:
    assert cloud.api("POST", "/v1/workflows", LATE)[0] == 201
    table, item = _stored_item(cloud)
    assert cloud.api("GET", "/v1/workflows/late")[0] == 200  # cached by this container now

    doc = json.loads(item["doc"])
    table.put_item(Item={**item, "doc": json.dumps({**doc, "name": "Renamed elsewhere"})})
    _, _, body = cloud.api("GET", "/v1/workflows/late")
    assert body["data"]["name"] == "Renamed elsewhere"

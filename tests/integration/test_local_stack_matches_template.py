"""The local stack's tables and queues are the template's: change the template, the stack follows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from clarion_cli import emulator
from clarion_cli.template import Template

from tests.conftest import TEMPLATE


@pytest.fixture
def fresh_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    port = emulator.free_port()
    server = emulator.start_moto(port)
    endpoint = f"http://127.0.0.1:{port}"
    requests.post(f"{endpoint}/moto-api/reset", timeout=10)  # moto's backends are per process
    yield endpoint
    server.stop()


def table_shape(table: dict[str, Any], ttl_attribute: str | None) -> dict[str, Any]:
    """What the template declares of a table and the emulator must describe alike (DescribeTable
    and the template's Properties name them the same)."""
    return {
        "KeySchema": table["KeySchema"],
        "AttributeDefinitions": sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
        "GlobalSecondaryIndexes": sorted(
            (
                {"IndexName": g["IndexName"], "KeySchema": g["KeySchema"], "Projection": g["Projection"]}
                for g in table.get("GlobalSecondaryIndexes", [])
            ),
            key=lambda g: g["IndexName"],
        ),
        "TTL": ttl_attribute,
    }


def described(template: Template, endpoint: str) -> dict[str, Any]:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
    tables = {}
    for logical_id in template.of_type("AWS::DynamoDB::Table"):
        name = template.physical_name(logical_id)
        table = dynamodb.describe_table(TableName=name)["Table"]
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        tables[logical_id] = table_shape(
            table, ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") == "ENABLED" else None
        )
    queues = {}
    for logical_id in template.of_type("AWS::SQS::Queue"):
        url = sqs.get_queue_url(QueueName=template.physical_name(logical_id))["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attributes["RedrivePolicy"]) if "RedrivePolicy" in attributes else None
        queues[logical_id] = {
            "VisibilityTimeout": int(attributes["VisibilityTimeout"]),
            "MessageRetentionPeriod": int(attributes["MessageRetentionPeriod"]),
            "RedrivePolicy": redrive
            and {
                "deadLetterTargetArn": redrive["deadLetterTargetArn"],
                "maxReceiveCount": int(redrive["maxReceiveCount"]),
            },
        }
    return {"tables": tables, "queues": queues}


def declared(template: Template) -> dict[str, Any]:
    tables = {}
    for logical_id, resource in template.of_type("AWS::DynamoDB::Table").items():
        props = template.resolve(resource["Properties"])
        ttl = props.get("TimeToLiveSpecification", {})
        tables[logical_id] = table_shape(props, ttl.get("AttributeName") if ttl.get("Enabled") else None)
    queues = {}
    for logical_id, resource in template.of_type("AWS::SQS::Queue").items():
        props = template.resolve(resource.get("Properties", {}))
        redrive = props.get("RedrivePolicy")
        queues[logical_id] = {
            "VisibilityTimeout": int(props.get("VisibilityTimeout", 30)),
            "MessageRetentionPeriod": int(props.get("MessageRetentionPeriod", 345600)),
            "RedrivePolicy": redrive
            and {
                "deadLetterTargetArn": redrive["deadLetterTargetArn"],
                "maxReceiveCount": int(redrive["maxReceiveCount"]),
            },
        }
    return {"tables": tables, "queues": queues}


def test_local_tables_and_queues_equal_the_template(fresh_emulator: str) -> None:
    template = Template(TEMPLATE, endpoint=fresh_emulator)
    emulator.provision(template, fresh_emulator)
    local = described(template, fresh_emulator)
    assert local == declared(template)
    assert local["queues"]["TriggerQueue"]["RedrivePolicy"]["maxReceiveCount"] == 5
    assert local["tables"]["ClarionTable"]["GlobalSecondaryIndexes"][0]["IndexName"] == "gsi1"


def test_changing_the_template_changes_the_local_stack(fresh_emulator: str, tmp_path: Path) -> None:
    text = TEMPLATE.read_text()  # CloudFormation tags: edited as text, as a user would
    text = text.replace("maxReceiveCount: 5", "maxReceiveCount: 3", 1)
    text = text.replace(
        "      TimeToLiveSpecification:",
        "        - IndexName: gsi2\n          KeySchema:\n            - AttributeName: gsi1sk\n              KeyType: HASH\n"
        "          Projection:\n            ProjectionType: KEYS_ONLY\n      TimeToLiveSpecification:",
        1,
    )
    changed = tmp_path / "template.yaml"
    changed.write_text(text)
    template = Template(changed, endpoint=fresh_emulator)
    emulator.provision(template, fresh_emulator)
    local = described(template, fresh_emulator)
    assert local == declared(template)
    assert local["queues"]["TriggerQueue"]["RedrivePolicy"]["maxReceiveCount"] == 3
    assert [g["IndexName"] for g in local["tables"]["ClarionTable"]["GlobalSecondaryIndexes"]] == [
        "gsi1",
        "gsi2",
    ]

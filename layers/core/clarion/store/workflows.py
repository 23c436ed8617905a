"""Workflows by id (batched reads, short per-container cache) and by numeric triggerId."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.model import Workflow
from clarion.store import batches, items, keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_cache: dict[tuple[str, str], tuple[float, Workflow]] = {}
_trigger_ids: dict[tuple[str, int], str] = {}


class WorkflowExistsError(Exception):
    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"workflow {workflow_id!r} already exists")
        self.workflow_id = workflow_id


class WorkflowChangedError(Exception):
    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"workflow {workflow_id!r} was changed concurrently; try again")
        self.workflow_id = workflow_id


def get_many(
    environment_id: str, workflow_ids: set[str], client: DynamoDBClient | None = None, *, fresh: bool = False
) -> dict[str, Workflow | None]:
    """Workflows by id in one BatchGetItem (per 100 ids), found ones served from the cache for
    `workflow_cache_seconds` unless `fresh`. A workflow not found is never cached: one created
    in another container is found by the next trigger."""
    now = time.monotonic()
    found: dict[str, Workflow | None] = {}
    missing: list[str] = []
    for workflow_id in workflow_ids:
        cached = _cache.get((environment_id, workflow_id))
        if cached and cached[0] > now and not fresh:
            found[workflow_id] = cached[1]
        else:
            missing.append(workflow_id)
    if missing:
        client = client or aws.dynamodb()
        table = settings().table_name
        for raw in batches.get(client, table, [items.key(keys.workflow(environment_id, w)) for w in missing]):
            workflow = Workflow.model_validate(items.doc(raw))
            found[workflow.workflow_id] = workflow
        expires = now + settings().workflow_cache_seconds
        for workflow_id in missing:
            stored = found.setdefault(workflow_id, None)
            if stored is not None:
                _cache[(environment_id, workflow_id)] = (expires, stored)
    return found


def get(
    environment_id: str, workflow_id: str, client: DynamoDBClient | None = None, *, fresh: bool = False
) -> Workflow | None:
    return get_many(environment_id, {workflow_id}, client, fresh=fresh)[workflow_id]


def by_trigger_id(
    environment_id: str, trigger_id: int, client: DynamoDBClient | None = None
) -> Workflow | None:
    """The workflow whose numeric triggerId this is (Altcraft's trigger_id), or None."""
    client = client or aws.dynamodb()
    workflow_id = _trigger_ids.get((environment_id, trigger_id))  # a triggerId never names another
    if workflow_id is None:
        pointer = client.get_item(
            TableName=settings().table_name,
            Key=items.key(keys.workflow_by_trigger_id(environment_id, trigger_id)),
        ).get("Item")
        workflow_id = items.string(pointer, "workflowId") if pointer else None
        if workflow_id is None:
            return None
        _trigger_ids[(environment_id, trigger_id)] = workflow_id
    return get(environment_id, workflow_id, client)


def create(environment_id: str, workflow: Workflow, client: DynamoDBClient | None = None) -> Workflow:
    """Store a new workflow with the next numeric triggerId; an existing id is refused."""
    client = client or aws.dynamodb()
    table = settings().table_name
    answer = client.update_item(
        TableName=table,
        Key=items.key(keys.counter(environment_id, "workflow")),
        UpdateExpression="ADD #v :one",
        ExpressionAttributeNames={"#v": "value"},
        ExpressionAttributeValues={":one": items.n(1)},
        ReturnValues="UPDATED_NEW",
    )
    trigger_id = int(answer["Attributes"]["value"]["N"])
    stored = workflow.model_copy(update={"trigger_id": trigger_id})
    try:
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": items.item(
                            keys.workflow(environment_id, stored.workflow_id),
                            stored.to_api(),
                            gsi1pk=keys.workflow_list(environment_id),
                            gsi1sk=stored.workflow_id,
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": items.item(
                            keys.workflow_by_trigger_id(environment_id, trigger_id),
                            workflowId=stored.workflow_id,
                        ),
                    }
                },
            ]
        )
    except client.exceptions.TransactionCanceledException as error:
        raise WorkflowExistsError(workflow.workflow_id) from error
    _cache.pop((environment_id, stored.workflow_id), None)
    return stored


def update(
    environment_id: str, workflow_id: str, changes: dict[str, Any], client: DynamoDBClient | None = None
) -> Workflow | None:
    """Replace a stored workflow's fields given in `changes` (API names: name, active, steps, ...),
    keeping its id and triggerId; None if there is no such workflow. Written on condition that
    the stored one is still the one read (WorkflowChangedError otherwise)."""
    client = client or aws.dynamodb()
    table = settings().table_name
    key = items.key(keys.workflow(environment_id, workflow_id))
    raw = client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    if raw is None:
        return None
    current = items.doc(raw)
    allowed = {name: value for name, value in changes.items() if name not in ("workflowId", "triggerId")}
    stored = Workflow.model_validate(current | allowed)
    try:
        client.put_item(
            TableName=table,
            Item=items.item(
                keys.workflow(environment_id, stored.workflow_id),
                stored.to_api(),
                gsi1pk=keys.workflow_list(environment_id),
                gsi1sk=stored.workflow_id,
            ),
            ConditionExpression="#doc = :read",
            ExpressionAttributeNames={"#doc": "doc"},
            ExpressionAttributeValues={":read": raw["doc"]},
        )
    except client.exceptions.ConditionalCheckFailedException as error:
        raise WorkflowChangedError(workflow_id) from error
    finally:
        _cache.pop((environment_id, workflow_id), None)
    return stored


def delete(environment_id: str, workflow_id: str, client: DynamoDBClient | None = None) -> bool:
    """Delete a workflow and its triggerId pointer; False if there was none."""
    client = client or aws.dynamodb()
    table = settings().table_name
    old = client.delete_item(
        TableName=table, Key=items.key(keys.workflow(environment_id, workflow_id)), ReturnValues="ALL_OLD"
    ).get("Attributes")
    _cache.pop((environment_id, workflow_id), None)
    if not old:
        return False
    trigger_id = Workflow.model_validate(items.doc(old)).trigger_id
    if trigger_id is not None:
        client.delete_item(
            TableName=table, Key=items.key(keys.workflow_by_trigger_id(environment_id, trigger_id))
        )
    return True


def list_all(environment_id: str, client: DynamoDBClient | None = None) -> list[Workflow]:
    client = client or aws.dynamodb()
    paginator = client.get_paginator("query")
    workflows: list[Workflow] = []
    for page in paginator.paginate(
        TableName=settings().table_name,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": items.s(keys.workflow_list(environment_id))},
    ):
        workflows.extend(Workflow.model_validate(items.doc(raw)) for raw in page["Items"])
    return workflows


def forget_cached_workflows() -> None:
    _cache.clear()
    _trigger_ids.clear()

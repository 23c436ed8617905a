"""store.batches against moto, with DynamoDB's partial answers put in front of it: what a call
leaves unprocessed is sent again after a backoff, and a batch that never goes through raises
instead of looping for ever."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from clarion.store import batches
from moto import mock_aws

from tests.integration.conftest import use_moto_credentials

TABLE = "batches"


class PartialAnswers:
    """A real moto client whose first `refusals` batch calls leave their last `left` entries
    unprocessed (those are not applied, the others are), as DynamoDB does under load."""

    def __init__(self, client: Any, refusals: int, left: int = 3) -> None:
        self.client, self.refusals, self.left, self.calls = client, refusals, left, 0

    def batch_write_item(self, RequestItems: Any) -> Any:
        self.calls += 1
        writes = RequestItems[TABLE]
        if self.calls <= self.refusals:
            if writes[: -self.left]:
                self.client.batch_write_item(RequestItems={TABLE: writes[: -self.left]})
            return {"UnprocessedItems": {TABLE: writes[-self.left :]}}
        return self.client.batch_write_item(RequestItems=RequestItems)

    def batch_get_item(self, RequestItems: Any) -> Any:
        self.calls += 1
        request = RequestItems[TABLE]
        if self.calls <= self.refusals:
            answer = {"Responses": {TABLE: []}}
            if request["Keys"][: -self.left]:
                answer = self.client.batch_get_item(
                    RequestItems={TABLE: {**request, "Keys": request["Keys"][: -self.left]}}
                )
            return answer | {"UnprocessedKeys": {TABLE: {**request, "Keys": request["Keys"][-self.left :]}}}
        return self.client.batch_get_item(RequestItems=RequestItems)


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    use_moto_credentials(monkeypatch)
    slept: list[float] = []
    monkeypatch.setattr(batches.time, "sleep", slept.append)
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.slept = slept
        yield client


def puts(count: int) -> list[Any]:
    return [{"PutRequest": {"Item": {"pk": {"S": f"item-{i:03d}"}}}} for i in range(count)]


def stored(client: Any) -> set[str]:
    return {raw["pk"]["S"] for raw in client.scan(TableName=TABLE)["Items"]}


def test_writes_left_unprocessed_are_sent_again_after_a_growing_pause(dynamodb: Any) -> None:
    partial = PartialAnswers(dynamodb, refusals=3)
    batches.write(partial, TABLE, puts(30))  # type: ignore[arg-type]
    assert stored(dynamodb) == {f"item-{i:03d}" for i in range(30)}
    assert partial.calls == 5  # 25 + 5 entries; the first three calls leave 3 behind
    assert len(dynamodb.slept) == 3
    assert all(0 <= pause <= batches._BACKOFF_SECONDS * 2**n for n, pause in enumerate(dynamodb.slept))


def test_a_batch_that_never_goes_through_raises_instead_of_looping(dynamodb: Any) -> None:
    partial = PartialAnswers(dynamodb, refusals=1_000)
    with pytest.raises(batches.UnprocessedError, match="3 writes"):
        batches.write(partial, TABLE, puts(10))  # type: ignore[arg-type]
    assert partial.calls == batches._ATTEMPTS
    assert stored(dynamodb) == {f"item-{i:03d}" for i in range(7)}  # what went through stays


def test_reads_left_unprocessed_are_read_again(dynamodb: Any) -> None:
    batches.write(dynamodb, TABLE, puts(120))
    keys = [{"pk": {"S": f"item-{i:03d}"}} for i in range(120)]
    partial = PartialAnswers(dynamodb, refusals=2)
    found = list(batches.get(partial, TABLE, keys, ConsistentRead=True))  # type: ignore[arg-type]
    assert sorted(raw["pk"]["S"] for raw in found) == [f"item-{i:03d}" for i in range(120)]
    assert partial.calls == 4  # 100 + 20 keys; two answers left 3 keys each
    with pytest.raises(batches.UnprocessedError, match="3 reads"):
        list(batches.get(PartialAnswers(dynamodb, refusals=1_000), TABLE, keys[:10]))  # type: ignore[arg-type]

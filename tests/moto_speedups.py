"""Two of moto's DynamoDB costs that grow with the table, replaced by equivalent cheaper ones, so a
run of thousands of notifications stays linear. Behaviour is unchanged; only the bookkeeping is.

- TransactWriteItems deep-copies every table it touches, whole, as its rollback state (seconds
  per call once the table holds a few thousand items). Here: a copy of the touched items only,
  put back the same way if the transaction is cancelled. (Tables with streams are not supported:
  moto's rollback also rewinds the stream; Clarion's tables have none.)
- Query on a table's key scans every item of the table for the partition. Here: the partition's
  own items (moto keeps them by hash key), found the same way.
"""

from __future__ import annotations

import copy
import inspect
from types import SimpleNamespace
from typing import Any

import pytest
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    _fast_transactions(monkeypatch)
    _fast_key_queries(monkeypatch)


def _fast_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    transact = DynamoDBBackend.transact_write_items

    def no_table_copies(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Table, DynamoType, DynamoType | None, Any]] = []
        for entry in transact_items:
            _, operation = next(iter(entry.items()))
            table = self.tables.get(operation.get("TableName"))
            if table is None:
                continue
            assert table.stream_shard is None, "tables with streams need moto's own rollback"
            key = operation.get("Key") or operation.get("Item") or {}
            if table.hash_key_attr not in key:
                continue
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        try:
            transact(self, transact_items)
        except BaseException:
            for table, hash_key, range_key, item in reversed(saved):
                if range_key is None:
                    if item is None:
                        table.items.pop(hash_key, None)
                    else:
                        table.items[hash_key] = item
                elif item is None:
                    table.items.get(hash_key, {}).pop(range_key, None)
                else:
                    table.items.setdefault(hash_key, {})[range_key] = item
            raise

    monkeypatch.setattr(dynamodb_models, "copy", SimpleNamespace(deepcopy=no_table_copies))
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)


def _fast_key_queries(monkeypatch: pytest.MonkeyPatch) -> None:
    query = Table.query
    all_items = Table.all_items

    def partition_items(self: Table) -> list[Any]:
        wanted = getattr(self, "_only_partition", None)
        if wanted is None:
            return all_items(self)
        found = self.items.get(wanted)
        if found is None:
            return []
        return sorted(found.values(), key=lambda x: x.range_key) if self.range_key_attr else [found]

    signature = inspect.signature(query)

    def key_query(self: Table, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs).arguments
        if bound.get("index_name") or bound.get("hash_key") is None:
            return query(self, *args, **kwargs)
        self._only_partition = bound["hash_key"]  # type: ignore[attr-defined]
        try:
            return query(self, *args, **kwargs)
        finally:
            self._only_partition = None  # type: ignore[attr-defined]

    monkeypatch.setattr(Table, "all_items", partition_items)
    monkeypatch.setattr(Table, "query", key_query)

"""moto's DynamoDB: expressions parsed and walked once, and two costs that grow with a table."""

from __future__ import annotations

import copy
import inspect
import threading
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from clarion_cli.moto_patches.registry import SetAttr, register


@register(
    "dynamodb-expression-traversal",
    replaces=("moto.dynamodb.parsing.ast_nodes.DepthFirstTraverser.nodes_to_be_processed",),
)
def expression_traversal(setattr: SetAttr) -> None:
    """moto's DynamoDB expression processors rebuild their tuple of node types for every node of
    every expression they walk; the tuple depends only on the processor's class."""
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser

    kinds: dict[type, tuple[type, ...]] = {}

    def nodes_to_be_processed(self: Any) -> tuple[type, ...]:
        found = kinds.get(type(self))
        if found is None:
            found = kinds[type(self)] = tuple(self._processing_map().keys())
        return found

    setattr(DepthFirstTraverser, "nodes_to_be_processed", nodes_to_be_processed)


@register("dynamodb-set-values", replaces=("moto.dynamodb.models.dynamo_type.DynamoType.cast_value",))
def set_values(setattr: SetAttr) -> None:
    """A DynamoDB condition such as contains(#set, :v) reads the set as Python values, which moto
    builds through one DynamoType per member, for every clause. String and number sets are
    their strings and Decimals: the same values, without the objects."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    full = DynamoType.cast_value.fget
    assert full is not None

    def cast_value(self: Any) -> Any:
        if self.type == "NS":
            return {Decimal(member) for member in self.value}
        if self.type == "SS":
            return set(self.value)
        return full(self)

    setattr(DynamoType, "cast_value", property(cast_value))


@register("dynamodb-condition-parse", replaces=("moto.dynamodb.comparisons.ConditionExpressionParser.parse",))
def condition_parse(setattr: SetAttr) -> None:
    """moto parses a condition expression for every request that carries one, twice for a
    conditional write (once to check its names and values are all used, once to apply it), and
    every step's claim carries the same one. The parse of an expression with its names and
    values is an immutable tree, kept here (built from copies of them, so a later change to one
    request's values cannot reach it). Same answers; a failed parse is not kept."""
    from moto.dynamodb.comparisons import ConditionExpressionParser

    full = ConditionExpressionParser.parse
    parsed: dict[str, tuple[Any, list[str], list[str]]] = {}

    def parse(self: Any) -> Any:
        expression = (
            self.condition_expression,
            self.expression_attribute_names,
            self.expression_attribute_values,
        )
        key = repr(expression)  # values may hold bytes (B, BS): repr tells them from strings
        found = parsed.get(key)
        if found is None:
            private = ConditionExpressionParser(*copy.deepcopy(expression))
            found = (full(private), private.expr_attr_names_found, private.expr_attr_values_found)
            if len(parsed) >= 10_000:  # most expressions carry values that never come again
                parsed.clear()
            parsed[key] = found
        self.expr_attr_names_found.extend(found[1])
        self.expr_attr_values_found.extend(found[2])
        return found[0]

    setattr(ConditionExpressionParser, "parse", parse)


@register(
    "dynamodb-transaction-rollback",
    replaces=("moto.dynamodb.models.copy", "moto.dynamodb.models.DynamoDBBackend.transact_write_items"),
)
def transaction_rollback(setattr: SetAttr) -> None:
    """TransactWriteItems deep-copies every table it touches, whole, as its rollback state
    (seconds per call once the table holds a few thousand items). Here: a copy of the touched
    items only, put back the same way if the transaction is cancelled. (Tables with streams are
    not supported: moto's rollback also rewinds the stream; Clarion's tables have none.)"""
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    transact = DynamoDBBackend.transact_write_items

    def no_table_copies(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
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

    setattr(models, "copy", SimpleNamespace(deepcopy=no_table_copies))
    setattr(DynamoDBBackend, "transact_write_items", transact_write_items)


@register(
    "dynamodb-key-queries",
    replaces=(
        "moto.dynamodb.models.table.Table.all_items",
        "moto.dynamodb.models.table.Table.query",
        "moto.dynamodb.models.table.Table.put_item",
        "moto.dynamodb.models.DynamoDBBackend.update_item",
    ),
)
def key_queries(setattr: SetAttr) -> None:
    """Query scans every item of the table for the partition it reads, on the table's key and
    on a global index alike. Here: a table-key query reads the partition's own items (moto keeps
    them by hash key); a query on a global index with one hash attribute reads the items an
    index of that attribute lists, kept per table as items are put or updated (built from the
    table the first time an index is queried). The index only grows (an item deleted or moved to
    another value stays listed): moto's own loop still checks every listed item against the key
    condition, so the answers are moto's. The partition a query wants is the querying thread's
    own (moto server answers requests on many threads)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    query = Table.query
    all_items = Table.all_items
    put_item = Table.put_item
    update_item = DynamoDBBackend.update_item
    signature = inspect.signature(query)
    current = threading.local()

    def index_attributes(table: Any) -> dict[str, str]:
        """{index name: its one hash attribute} of the table's global indexes."""
        found = {}
        for index in table.global_indexes or []:
            hashes = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
            if len(hashes) == 1:
                found[index.name] = hashes[0]
        return found

    def listed(table: Any) -> dict[str, dict[Any, dict[Any, None]]] | None:
        return vars(table).get("_clarion_index_listing")

    def list_item(table: Any, listing: dict[str, dict[Any, dict[Any, None]]], item: Any) -> None:
        for name, attribute in index_attributes(table).items():
            value = item.attrs.get(attribute)
            if value is not None:
                listing.setdefault(name, {}).setdefault(value, {})[(item.hash_key, item.range_key)] = None

    def listing_of(table: Any) -> dict[str, dict[Any, dict[Any, None]]]:
        listing = listed(table)
        if listing is None:
            listing = {}
            for item in all_items(table):
                list_item(table, listing, item)
            vars(table)["_clarion_index_listing"] = listing
        return listing

    def index_candidates(table: Any, index_name: str, value: Any) -> list[Any]:
        keys = list(listing_of(table).get(index_name, {}).get(value, {}))  # one C call: thread-safe
        found = []
        for hash_key, range_key in keys:
            partition = table.items.get(hash_key)
            item = partition.get(range_key) if table.range_key_attr and partition is not None else partition
            if item is not None:
                found.append(item)
        return found

    def partition_items(self: Any) -> list[Any]:
        if getattr(current, "table", None) is not self:
            return all_items(self)
        if current.index is not None:
            return index_candidates(self, current.index, current.partition)
        found = self.items.get(current.partition)
        if found is None:
            return []
        return sorted(found.values(), key=lambda x: x.range_key) if self.range_key_attr else [found]

    def key_query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs).arguments
        index_name, hash_key = bound.get("index_name"), bound.get("hash_key")
        conditions = bound.get("hash_key_conditions") or []
        if index_name:
            attribute = index_attributes(self).get(index_name)
            values = [value for name, value in conditions if name == attribute]
            if attribute is None or len(conditions) != 1 or len(values) != 1:
                return query(self, *args, **kwargs)
            hash_key = values[0]
        elif hash_key is None:
            return query(self, *args, **kwargs)
        current.table, current.index, current.partition = self, index_name or None, hash_key
        try:
            return query(self, *args, **kwargs)
        finally:
            current.table = current.index = current.partition = None

    def listed_put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = put_item(self, *args, **kwargs)
        listing = listed(self)
        if listing is not None:
            list_item(self, listing, item)
        return item

    def listed_update_item(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        item = update_item(self, table_name, *args, **kwargs)
        table = self.get_table(table_name)
        listing = listed(table)
        if listing is not None and item is not None:
            list_item(table, listing, item)
        return item

    setattr(Table, "all_items", partition_items)
    setattr(Table, "query", key_query)
    setattr(Table, "put_item", listed_put_item)
    setattr(DynamoDBBackend, "update_item", listed_update_item)

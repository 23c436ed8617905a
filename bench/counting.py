"""Counting AWS calls, DynamoDB capacity units and billed SQS requests from botocore's event hooks.

Every botocore client created while `Recorder.installed()` is active gets two hooks
(`before-parameter-build` and `after-call`); a call is recorded only while a scope is open
(`Recorder.scope("ApiFunction")`), so the harness's own calls are never counted. Hooking at client
creation (not only `clarion.aws._client`) also catches clients Clarion does not create itself,
such as the one Powertools Idempotency's persistence layer makes.

DynamoDB units are computed from item sizes (moto's ConsumedCapacity is a constant, not a
measurement), following DynamoDB's published sizing rules:

- write: 1 WRU per KB (rounded up, at least 1) of the larger of the item before and after the
  write; a failed conditional write still costs it; transactional writes (and condition checks)
  cost twice; every GSI the old or new item projects into costs again (1x, rounded per item;
  a changed index key is a delete plus a put);
- read: 1 RRU per 4 KB (rounded up, at least 1) for a strongly consistent read, half for an
  eventually consistent one; a transactional read costs twice; BatchGetItem charges each key as a
  GetItem (missing items at the minimum); Query/Scan charge the returned items' total size.

Item images before and after a write are read straight from moto's in-process backend (no API
call), so they are available only under `mock_aws`; elsewhere units are not computed.
"""

from __future__ import annotations

import base64
import math
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

REGION = "us-east-1"
WRITE_KB = 1024
READ_KB = 4096
SQS_CHUNK = 64 * 1024

DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
DYNAMODB_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})


@dataclass
class Call:
    scope: str
    service: str
    operation: str
    error: str | None = None
    wru: float = 0.0
    rru: float = 0.0
    sqs_requests: int = 0  # billed requests: one per started 64 KB of payload
    items_written: int = 0
    # (partition, sort key or None, WRU) for every item the write touched: the table's own item
    # ("pk" / "sk") and each GSI entry ("index:<name>" pk, no sk), for the hot-key model.
    keyed_units: list[tuple[str, str | None, float]] = field(default_factory=list, repr=False)
    params: dict[str, Any] = field(default_factory=dict, repr=False)
    response: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation}"


@dataclass
class Invocation:
    function: str
    seconds: float  # wall time of the handler, minus time spent in the bench's own hooks
    emulator_seconds: float = 0.0  # of which moto spent answering its AWS calls
    operations: list[str] = field(default_factory=list)  # the AWS calls it made


@dataclass
class Window:
    """What happened between two marks of a Recorder."""

    calls: list[Call]
    invocations: list[Invocation]

    def of(self, *scopes: str) -> list[Call]:
        return [c for c in self.calls if c.scope in scopes]

    @staticmethod
    def by_operation(calls: list[Call]) -> dict[str, int]:
        return dict(Counter(c.name for c in calls).most_common())

    @staticmethod
    def wru(calls: list[Call]) -> float:
        return sum(c.wru for c in calls)

    @staticmethod
    def rru(calls: list[Call]) -> float:
        return sum(c.rru for c in calls)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.invocations: list[Invocation] = []
        self.current: str | None = None
        self.hook_seconds = 0.0
        self.emulator_seconds = 0.0
        self.keep_responses = False

    # --- scopes and windows ---------------------------------------------------------------
    @contextmanager
    def scope(self, name: str) -> Iterator[None]:
        outer, self.current = self.current, name
        try:
            yield
        finally:
            self.current = outer

    @contextmanager
    def invocation(self, function: str) -> Iterator[None]:
        hooks_before, emulator_before, calls_before = (
            self.hook_seconds,
            self.emulator_seconds,
            len(self.calls),
        )
        started = time.perf_counter()
        try:
            with self.scope(function):
                yield
        finally:
            elapsed = time.perf_counter() - started - (self.hook_seconds - hooks_before)
            self.invocations.append(
                Invocation(
                    function,
                    max(elapsed, 0.0),
                    min(self.emulator_seconds - emulator_before, max(elapsed, 0.0)),
                    [c.operation for c in self.calls[calls_before:] if c.scope == function],
                )
            )

    def mark(self) -> tuple[int, int]:
        return len(self.calls), len(self.invocations)

    def since(self, mark: tuple[int, int]) -> Window:
        return Window(self.calls[mark[0] :], self.invocations[mark[1] :])

    # --- installing the hooks -------------------------------------------------------------
    @contextmanager
    def installed(self) -> Iterator[Recorder]:
        """Hook every botocore client created inside this block."""
        import botocore.session

        original = botocore.session.Session.create_client
        recorder = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            recorder.hook(client)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        stubber_class, answer = _moto_stubber()
        if stubber_class is not None:

            def timed(stubber: Any, *args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return answer(stubber, *args, **kwargs)
                finally:
                    recorder.emulator_seconds += time.perf_counter() - started

            stubber_class.__call__ = timed
        try:
            yield self
        finally:
            botocore.session.Session.create_client = original  # type: ignore[method-assign]
            if stubber_class is not None:
                stubber_class.__call__ = answer

    def hook(self, client: Any) -> None:
        events = client.meta.events
        events.register("before-parameter-build", self._before, unique_id="clarion-bench-before")
        events.register("after-call", self._after, unique_id="clarion-bench-after")

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if self.current is None:
            return
        started = time.perf_counter()
        service = model.service_model.service_name
        state: dict[str, Any] = {"scope": self.current, "params": params}
        if service == "dynamodb" and model.name in DYNAMODB_WRITES:
            state["before"] = _images_for_write(model.name, params)
        context["clarion_bench"] = state
        self.hook_seconds += time.perf_counter() - started

    def _after(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        state = context.get("clarion_bench")
        if state is None:
            return
        started = time.perf_counter()
        service = model.service_model.service_name
        error = None
        if http_response is not None and http_response.status_code >= 300:
            error = (parsed.get("Error") or {}).get("Code") or str(http_response.status_code)
        params = state["params"]
        call = Call(state["scope"], service, model.name, error)
        if service in ("ses", "sesv2"):
            call.params = {"Destination": params.get("Destination")}
        if service == "dynamodb":
            if model.name in DYNAMODB_WRITES:
                _price_write(call, params, parsed, state.get("before") or {})
            elif model.name in DYNAMODB_READS:
                call.rru = _read_units(model.name, params, parsed)
        elif service == "sqs":
            call.sqs_requests = _sqs_billed_requests(model.name, params, parsed)
        if self.keep_responses:
            call.response = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
        self.calls.append(call)
        self.hook_seconds += time.perf_counter() - started


def _moto_stubber() -> tuple[Any, Any]:
    """moto's in-process answering machine (a `before-send` handler), to time the emulator."""
    try:
        from moto.core.botocore_stubber import BotocoreStubber
    except ImportError:
        return None, None
    return BotocoreStubber, BotocoreStubber.__call__


# --- sizes -------------------------------------------------------------------------------


def _number_size(text: str) -> int:
    """About 1 byte per two significant digits, plus 1 (DynamoDB's published rule)."""
    try:
        significant = len(Decimal(text).normalize().as_tuple().digits)
    except InvalidOperation:
        significant = sum(1 for c in text if c.isdigit())
    significant = significant or 1
    return 1 + math.ceil(significant / 2)


def _binary_size(value: Any) -> int:
    if isinstance(value, bytes | bytearray):
        return len(value)
    try:
        return len(base64.b64decode(value))
    except (ValueError, TypeError):
        return len(str(value))


def attribute_size(value: dict[str, Any]) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        return _number_size(str(content))
    if kind == "B":
        return _binary_size(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in content)
    if kind == "NS":
        return sum(_number_size(str(s)) for s in content)
    if kind == "BS":
        return sum(_binary_size(b) for b in content)
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in content)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in content.items())
    return len(str(content))


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def _units(size: int, per: int) -> int:
    return max(1, math.ceil(size / per))


# --- moto's backend: table schemas and item images (no API calls) ---------------------------


def _backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]


def _table(name: str) -> Any:
    """The table in this process's moto; None when it holds no such table (the calls went to
    AWS elsewhere: the local stack's emulator, or a deployed stack)."""
    from moto.dynamodb.exceptions import ResourceNotFoundException

    try:
        return _backend().get_table(name)
    except ResourceNotFoundException:
        return None


def _image(table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """The item's image in this process's moto; None when there is no such table, or the key is
    not the table's (the write itself is then refused, and costs nothing)."""
    from moto.dynamodb.exceptions import MockValidationException, ResourceNotFoundException

    try:
        found = _backend().get_item(table_name, key)
    except (ResourceNotFoundException, MockValidationException):
        return None
    return found.to_json()["Attributes"] if found is not None else None


def _key_of(table_name: str, item: dict[str, Any]) -> dict[str, Any] | None:
    table = _table(table_name)
    if table is None:
        return None
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    if not all(n in item for n in names):
        return None
    return {n: item[n] for n in names}


def _write_targets(operation: str, params: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], Any]]:
    """(kind, table, key, new item or None) for every item a write request touches."""
    targets: list[tuple[str, str, dict[str, Any], Any]] = []

    def add(kind: str, table: str, key: dict[str, Any] | None, item: Any = None) -> None:
        if key is not None:
            targets.append((kind, table, key, item))

    if operation == "PutItem":
        add("Put", params["TableName"], _key_of(params["TableName"], params["Item"]), params["Item"])
    elif operation in ("UpdateItem", "DeleteItem"):
        add(operation[:-4], params["TableName"], params["Key"])
    elif operation == "BatchWriteItem":
        for table, requests in params["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    item = request["PutRequest"]["Item"]
                    add("Put", table, _key_of(table, item), item)
                else:
                    add("Delete", table, request["DeleteRequest"]["Key"])
    elif operation == "TransactWriteItems":
        for entry in params["TransactItems"]:
            ((kind, spec),) = entry.items()
            if kind == "Put":
                add(kind, spec["TableName"], _key_of(spec["TableName"], spec["Item"]), spec["Item"])
            else:
                add(kind, spec["TableName"], spec["Key"])
    return targets


def _images_for_write(operation: str, params: dict[str, Any]) -> dict[int, dict[str, Any] | None]:
    return {
        position: _image(table, key)
        for position, (_, table, key, _) in enumerate(_write_targets(operation, params))
    }


def _projected(
    image: dict[str, Any] | None, table_keys: list[str], index_keys: list[str], projection: dict[str, Any]
) -> dict[str, Any] | None:
    """The part of an item a GSI holds, or None when the item lacks the index's keys."""
    if not image or not all(k in image for k in index_keys):
        return None
    kind = projection.get("ProjectionType", "ALL")
    if kind == "ALL":
        return image
    wanted = set(table_keys) | set(index_keys)
    if kind == "INCLUDE":
        wanted |= set(projection.get("NonKeyAttributes", []))
    return {k: v for k, v in image.items() if k in wanted}


def _index_units(
    table_name: str, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> list[tuple[str, float]]:
    """Write units the table's GSIs consume for one item changing from `before` to `after`, per
    GSI partition written (`index:<name>#<gsi partition key value>`)."""
    table = _table(table_name)
    if table is None:
        return []
    units: list[tuple[str, float]] = []
    table_keys = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    for index in table.global_indexes:
        index_keys = [k["AttributeName"] for k in index.schema]
        projection = index.projection or {}
        old = _projected(before, table_keys, index_keys, projection)
        new = _projected(after, table_keys, index_keys, projection)
        if old is None and new is None:
            continue

        def partition(image: dict[str, Any], name: str = index.name, hash_key: str = index_keys[0]) -> str:
            return f"index:{name}#{_plain(image[hash_key])}"

        if old is None or new is None:
            image = old or new
            assert image is not None
            units.append((partition(image), _units(item_size(image), WRITE_KB)))
        elif all(old[k] == new[k] for k in index_keys):
            if old != new:
                units.append((partition(new), _units(max(item_size(old), item_size(new)), WRITE_KB)))
        else:  # the index key changed: a delete and a put
            units.append((partition(old), _units(item_size(old), WRITE_KB)))
            units.append((partition(new), _units(item_size(new), WRITE_KB)))
    return units


def _key_parts(table_name: str, key: dict[str, Any]) -> tuple[str, str | None]:
    table = _table(table_name)
    if table is None:
        return _plain(next(iter(key.values()))), None
    sort = key.get(table.range_key_attr) if table.range_key_attr else None
    return _plain(key[table.hash_key_attr]), _plain(sort) if sort else None


def _plain(value: dict[str, Any]) -> str:
    ((_, content),) = value.items()
    return str(content)


def _price_write(call: Call, params: dict[str, Any], parsed: dict[str, Any], before: dict[int, Any]) -> None:
    operation = call.operation
    transactional = operation == "TransactWriteItems"
    factor = 2 if transactional else 1
    succeeded = call.error is None
    for position, (kind, table, key, new_item) in enumerate(_write_targets(operation, params)):
        old = before.get(position)
        if succeeded:
            after = None if kind == "Delete" else _image(table, key)
        else:
            after = new_item if kind == "Put" else old  # what the failed write would have written
        pk, sk = _key_parts(table, key)
        if kind == "ConditionCheck":
            call.wru += factor * _units(item_size(old), WRITE_KB)
            call.keyed_units.append((pk, sk, factor * _units(item_size(old), WRITE_KB)))
            continue
        units = factor * _units(max(item_size(old), item_size(after)), WRITE_KB)
        call.wru += units
        call.keyed_units.append((pk, sk, units))
        call.items_written += 1 if succeeded else 0
        if succeeded:
            for partition, index_units in _index_units(table, old, after):
                call.wru += index_units
                call.keyed_units.append((partition, None, index_units))
    if operation == "BatchWriteItem" and parsed.get("UnprocessedItems"):
        # Unprocessed items were not written (their retry is another, counted call).
        unprocessed = sum(len(v) for v in parsed["UnprocessedItems"].values())
        call.items_written -= unprocessed


def _read_units(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> float:
    def factor(consistent: bool | None) -> float:
        return 1.0 if consistent else 0.5

    if operation == "GetItem":
        return factor(params.get("ConsistentRead")) * _units(item_size(parsed.get("Item")), READ_KB)
    if operation == "BatchGetItem":
        total = 0.0
        for table, request in params.get("RequestItems", {}).items():
            found = parsed.get("Responses", {}).get(table, [])
            unprocessed = len((parsed.get("UnprocessedKeys") or {}).get(table, {}).get("Keys", []))
            missing = max(len(request.get("Keys", [])) - len(found) - unprocessed, 0)
            units = sum(_units(item_size(i), READ_KB) for i in found) + missing
            total += factor(request.get("ConsistentRead")) * units
        return total
    if operation in ("Query", "Scan"):
        size = sum(item_size(i) for i in parsed.get("Items", []))
        return factor(params.get("ConsistentRead")) * _units(size, READ_KB)
    if operation == "TransactGetItems":
        return sum(2.0 * _units(item_size(r.get("Item")), READ_KB) for r in parsed.get("Responses", []))
    return 0.0


# --- SQS ----------------------------------------------------------------------------------


def _attributes_size(attributes: dict[str, Any] | None) -> int:
    size = 0
    for name, value in (attributes or {}).items():
        size += len(name) + len(value.get("DataType", ""))
        size += len(str(value.get("StringValue", ""))) + _binary_size(value.get("BinaryValue", b""))
    return size


def _sqs_billed_requests(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> int:
    """SQS bills every started 64 KB chunk of a request's payload as one request."""
    if operation == "SendMessage":
        size = len(params.get("MessageBody", "").encode()) + _attributes_size(params.get("MessageAttributes"))
    elif operation == "SendMessageBatch":
        size = sum(
            len(e.get("MessageBody", "").encode()) + _attributes_size(e.get("MessageAttributes"))
            for e in params.get("Entries", [])
        )
    elif operation == "ReceiveMessage":
        size = sum(
            len(m.get("Body", "").encode()) + _attributes_size(m.get("MessageAttributes"))
            for m in parsed.get("Messages", [])
        )
    else:
        size = 0
    return _units(size, SQS_CHUNK)

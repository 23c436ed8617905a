"""Identifiers Clarion generates.

A transactionId Clarion generates names its bulk and record (`clr_<bulkId>_<index>`): it is
unique by construction, so it needs no claim in the table, and its status is found without a
lookup. A caller's own transactionIds are claimed once per environment (store.transactions).

Callers' ids and Clarion's live in separate namespaces: no caller-given id is ever taken as
Clarion's. Novu refuses a caller's transactionId that begins with `clr_` unless it is one Clarion
generated (a reuse, refused as such); a SuprSend `$idempotency_key`, which SuprSend never shows
back, that begins with `clr_` becomes `clr_key_<key>`, a shape generated ids never have."""

from __future__ import annotations

import re
import uuid

GENERATED_PREFIX = "clr_"
CALLER_KEY_PREFIX = f"{GENERATED_PREFIX}key_"
_GENERATED = re.compile(r"^clr_(?P<bulk>[0-9a-f-]{36})_(?P<index>\d{1,5})$")


def new_id() -> str:
    return str(uuid.uuid4())


def generated_transaction_id(bulk_id: str, index: int) -> str:
    return f"{GENERATED_PREFIX}{bulk_id}_{index}"


def parse_generated_transaction_id(transaction_id: str) -> tuple[str, int] | None:
    """(bulkId, index) of an id Clarion generated, else None."""
    match = _GENERATED.match(transaction_id)
    return (match["bulk"], int(match["index"])) if match else None


def is_generated(transaction_id: str) -> bool:
    return _GENERATED.match(transaction_id) is not None


def caller_key_transaction_id(key: str) -> str:
    """A caller's own key as a transactionId: the key itself, unless it begins like Clarion's ids;
    then under CALLER_KEY_PREFIX (one key, one id: `clr_key_` keys are prefixed again)."""
    return f"{CALLER_KEY_PREFIX}{key}" if key.startswith(GENERATED_PREFIX) else key

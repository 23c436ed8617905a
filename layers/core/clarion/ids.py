"""Identifiers Clarion generates.

A transactionId Clarion generates names its bulk and record (`clr_<bulkId>_<index>`): it is
unique by construction, so it needs no claim in the table, and its status is found without a
lookup. A caller's own transactionIds are claimed once per environment (store.transactions)."""

from __future__ import annotations

import re
import uuid

GENERATED_PREFIX = "clr_"
_GENERATED = re.compile(r"^clr_(?P<bulk>[0-9a-f-]{36})_(?P<index>\d{1,5})$")


def new_id() -> str:
    return str(uuid.uuid4())


def generated_transaction_id(bulk_id: str, index: int) -> str:
    return f"{GENERATED_PREFIX}{bulk_id}_{index}"


def parse_generated_transaction_id(transaction_id: str) -> tuple[str, int] | None:
    """(bulkId, index) of an id Clarion generated, else None."""
    match = _GENERATED.match(transaction_id)
    return (match["bulk"], int(match["index"])) if match else None

"""Patches to moto, in a registry (see registry.py): each names the moto version it was written
for and what it replaces, and is applied only to that moto.

EMULATOR: what the local stack's emulator runs with, so that a queue or table costs the same
however full it is, with moto's own answers (sqs-deletes also closes a race moto has; a query on
a table's key or a global index reads its partition, not the whole table: a transaction's claims
are read from 101 partitions, a subscriber listing from 101 index partitions).
LARGE_TABLES: the two written for the fault-injection test (and the bench), which run thousands of
notifications in-process and need moto's costs that grow with a table made linear (the
emulator applies the key queries, not the transaction rollback)."""

from __future__ import annotations

from clarion_cli.moto_patches import core, dynamodb, sqs
from clarion_cli.moto_patches.registry import (
    MOTO_PIN,
    REGISTRY,
    MotoPatch,
    install,
    installed_moto_version,
    resolve,
    uninstall,
)

EMULATOR = (
    "sqs-standard-queue-sends",
    "sqs-retention-check",
    "sqs-deletes",
    "sqs-clock",
    "action-lookup",
    "dynamodb-expression-traversal",
    "dynamodb-set-values",
    "dynamodb-condition-parse",
    "random-strings",
    "dynamodb-key-queries",
)
LARGE_TABLES = ("dynamodb-transaction-rollback", "dynamodb-key-queries")

__all__ = [
    "EMULATOR",
    "LARGE_TABLES",
    "MOTO_PIN",
    "REGISTRY",
    "MotoPatch",
    "core",
    "dynamodb",
    "install",
    "installed_moto_version",
    "resolve",
    "sqs",
    "uninstall",
]

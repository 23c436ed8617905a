"""Subscribers written straight to the table, as today's writes put them or as items written before
the listing was sharded still lie (tests of the sharded listing and the broadcast walk)."""

from __future__ import annotations

from clarion import aws
from clarion.config import settings
from clarion.store import batches, items, keys

from tests.integration.conftest import DEVELOPMENT, Cloud

LEGACY = f"ENV#{DEVELOPMENT}#SUBS"
"""The unsharded listing partition every subscriber was indexed under before the sharding."""


def put_subscribers(cloud: Cloud, ids: list[str], *, legacy: bool = False, mail: bool = False) -> None:
    """Subscribers written straight to the table: under their shard as today's writes put them,
    or (`legacy`) under the unsharded partition as they were written before the sharding."""
    with cloud.configured_as("ApiFunction"):
        batches.write(
            aws.dynamodb(),
            settings().table_name,
            [
                {
                    "PutRequest": {
                        "Item": items.item(
                            keys.subscriber(DEVELOPMENT, i),
                            {"subscriberId": i, "createdAt": "2026-01-01T00:00:00Z"}
                            | ({"email": f"{i}@example.com"} if mail else {}),
                            gsi1pk=LEGACY if legacy else keys.subscriber_list(DEVELOPMENT, i),
                            gsi1sk=i,
                        )
                    }
                }
                for i in ids
            ],
        )

"""What one Sequenzy request reads before it writes, in one strongly consistent BatchGetItem: the
subscriber it most likely names (its externalId, or the id Clarion makes for its email), the
email's index entry (store.subscriber_emails) and the definitions of its event names
(store.event_definitions). Keys and items stay those of their own store modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.store import batches, event_definitions, items, keys, subscriber_emails

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class RequestItems:
    """`subscriber`: the raw stored item of `subscriber_id`, None if there is none;
    `email_owner`: the subscriberId the email's entry names, None if free (or no email);
    `defined`: those of the names already defined."""

    subscriber_id: str
    subscriber: dict[str, Any] | None
    email_owner: str | None
    defined: set[str]


def read(
    environment_id: str,
    subscriber_id: str,
    email: str | None,
    names: set[str],
    client: DynamoDBClient | None = None,
) -> RequestItems:
    subscriber_key = items.key(keys.subscriber(environment_id, subscriber_id))
    email_key = items.key(subscriber_emails.entry_key(environment_id, email)) if email else None
    definition_keys = [items.key(event_definitions.definition_key(environment_id, n)) for n in sorted(names)]
    wanted = [subscriber_key, *([email_key] if email_key else []), *definition_keys]
    found = list(batches.get(client or aws.dynamodb(), settings().table_name, wanted, ConsistentRead=True))

    def stored(key: dict[str, Any]) -> dict[str, Any] | None:
        return next((raw for raw in found if raw["pk"] == key["pk"] and raw["sk"] == key["sk"]), None)

    defined = {items.doc(raw)["name"] for raw in filter(None, map(stored, definition_keys))}
    email_entry = stored(email_key) if email_key else None
    return RequestItems(
        subscriber_id, stored(subscriber_key), subscriber_emails.owner_of(email_entry), defined
    )

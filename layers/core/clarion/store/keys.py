"""The one table's key design. Every partition key but the API-key lookup starts with the
environment id, so no query can cross environments (the Inbox's public applicationIdentifier
lookup is the other exception: it only names its environment).

| access pattern                                   | pk                          | sk                       | gsi1pk / gsi1sk                  |
|--------------------------------------------------|-----------------------------|--------------------------|----------------------------------|
| API key hash -> environment (cached); env's keys  | APIKEY#<sha256>             | APIKEY                   | ENV#<env>#KEYS / <sha256>        |
|   + the key KMS-encrypted: its HMAC secret        |                             |                          |                                  |
| Inbox applicationIdentifier (public) -> env       | APPID#<applicationId>       | APPID                    |                                  |
| environment (and its rate limits)                 | ENV#<env>                   | ENV                      |                                  |
| rate-limit bucket per environment (shard 0)       | ENV#<env>                   | RATE                     |                                  |
|   its other shards, when its rate needs them       | ENV#<env>#RATE#<shard>      | RATE                     |                                  |
| HMAC signature used once (TTL: its Date window)   | ENV#<env>#SIG#<signature>   | SIG                      |                                  |
| numeric id counters (workflow triggerId)          | ENV#<env>                   | COUNTER#<name>           |                                  |
| workflow by id; list workflows                    | ENV#<env>#WF#<id>           | WF                       | ENV#<env>#WFS / <id>             |
| workflow by numeric triggerId                     | ENV#<env>#WFTRIGGER#<n>     | WF                       |                                  |
| subscriber by id; list subscribers, paged         | ENV#<env>#SUB#<id>          | PROFILE                  | ENV#<env>#SUBS#<shard> / <id>    |
|   (written before the listing was sharded)        |                             |                          | ENV#<env>#SUBS / <id>            |
| tenant by identifier; list tenants, paged         | ENV#<env>#TENANT#<id>       | TENANT                   | ENV#<env>#TENANTS / <id>         |
| topic by key; list topics, paged                  | ENV#<env>#TOPIC#<key>       | TOPIC                    | ENV#<env>#TOPICS / <key>         |
| topic -> members, paged; subscriber -> topics     | ENV#<env>#TOPIC#<key>       | MEMBER#<subscriberId>    | ENV#<env>#SUBTOPICS#<sub> / <key>|
| integrations; the active one per channel          | ENV#<env>#INTEGRATIONS      | INT#<id> / ACTIVE#<chan> |                                  |
| bulk by id; its records in request order          | ENV#<env>#BULK#<id>         | BULK / REC#<index:05d>   |                                  |
| transactionId claimed once -> bulk, index         | ENV#<env>#TX#<tx>           | TX                       |                                  |
| claim per (transaction, recipient, step) = message| ENV#<env>#TX#<tx>#M#<shard> | MSG#<subscriber>#<step>  | ENV#<env>#FEED#<sub> / <ts>#<tx>  |
|   (written before the claims were sharded)        | ENV#<env>#TX#<tx>           | MSG#<subscriber>#<step>  |                                  |
| worker attempt marker per TriggerQueue message   | ENV#<env>#ATTEMPT#<msgId>   | ATTEMPT                  |                                  |
|   (redelivered batches only; TTL two days)        |                             |                          |                                  |
| cancellation key -> its transactions (SuprSend)   | ENV#<env>#CANCEL#<key>      | TX#<tx>                  |                                  |
| digest bucket per (subscriber, workflow, step,    | ENV#<env>#DIGEST#<wf>#<sub> | W#<start>#P#<page>#...   |                                  |
|   digest key value, window): one item per page    |                             |   (in full below)        |                                  |

Two keys would otherwise take a write per event or per notification: the subscriber listing
(every first contact adds a subscriber) and a fan-out's transaction (a broadcast claims every
recipient under it). Both are spread over SHARDS partitions by a stable hash of the subscriber id
(`shard`), so at 60,000 writes/s one takes 60,000 / SHARDS: 600, under DynamoDB's 1,000 WCU/s per
key. Point reads rebuild the key from the subscriber id; a listing reads every shard (and the
unsharded key, for items written before) and merges them in sort-key order (store.paging); a
broadcast, which needs no order, walks them one after another (store.subscriber_shards).

Environment ids match clarion.model.identifiers.ENVIRONMENT_ID_PATTERN (no '#'), so the
`ENV#<env>#` prefix is the environment's alone.

A digest bucket's sk is W#<windowStart:012d>#P#<page:03d>#S#<stepId>#K#<digest key value>
(H#<sha256 of the value> for values over 256 bytes). Workflow and step ids cannot contain '#',
window start and page are fixed-width, and the key's value comes last: a subscriber id or key
value holding '#' can never make two buckets share a key (store.digests).
"""

from __future__ import annotations

import hashlib
from typing import TypedDict

SHARDS = 100
"""Partitions of the subscriber listing and of a transaction's claims."""


def shard(subscriber_id: str) -> int:
    """The subscriber's shard: the same on every container and every run (not Python's hash)."""
    return int.from_bytes(hashlib.sha256(subscriber_id.encode()).digest()[:8], "big") % SHARDS


class Key(TypedDict):
    pk: str
    sk: str


def _env(environment_id: str) -> str:
    return f"ENV#{environment_id}"


def api_key(key_hash: str) -> Key:
    return {"pk": f"APIKEY#{key_hash}", "sk": "APIKEY"}


def api_key_list(environment_id: str) -> str:
    return f"{_env(environment_id)}#KEYS"


def application(application_identifier: str) -> Key:
    return {"pk": f"APPID#{application_identifier}", "sk": "APPID"}


def environment(environment_id: str) -> Key:
    return {"pk": _env(environment_id), "sk": "ENV"}


def rate_bucket(environment_id: str, shard: int = 0) -> Key:
    """Shard 0 is the environment's original bucket; the others have a partition each."""
    if shard == 0:
        return {"pk": _env(environment_id), "sk": "RATE"}
    return {"pk": f"{_env(environment_id)}#RATE#{shard}", "sk": "RATE"}


def signature(environment_id: str, signature: str) -> Key:
    return {"pk": f"{_env(environment_id)}#SIG#{signature}", "sk": "SIG"}


def counter(environment_id: str, name: str) -> Key:
    return {"pk": _env(environment_id), "sk": f"COUNTER#{name}"}


def workflow(environment_id: str, workflow_id: str) -> Key:
    return {"pk": f"{_env(environment_id)}#WF#{workflow_id}", "sk": "WF"}


def workflow_list(environment_id: str) -> str:
    return f"{_env(environment_id)}#WFS"


def workflow_by_trigger_id(environment_id: str, trigger_id: int) -> Key:
    return {"pk": f"{_env(environment_id)}#WFTRIGGER#{trigger_id}", "sk": "WF"}


def subscriber(environment_id: str, subscriber_id: str) -> Key:
    return {"pk": f"{_env(environment_id)}#SUB#{subscriber_id}", "sk": "PROFILE"}


def bulk(environment_id: str, bulk_id: str) -> Key:
    return {"pk": f"{_env(environment_id)}#BULK#{bulk_id}", "sk": "BULK"}


def bulk_record(environment_id: str, bulk_id: str, index: int) -> Key:
    return {"pk": f"{_env(environment_id)}#BULK#{bulk_id}", "sk": f"REC#{index:05d}"}


def transaction(environment_id: str, transaction_id: str) -> Key:
    return {"pk": f"{_env(environment_id)}#TX#{transaction_id}", "sk": "TX"}


def message(environment_id: str, transaction_id: str, subscriber_id: str, step_id: str) -> Key:
    return {
        "pk": f"{_env(environment_id)}#TX#{transaction_id}#M#{shard(subscriber_id)}",
        "sk": f"MSG#{subscriber_id}#{step_id}",
    }


def message_keys(environment_id: str, transaction_id: str, subscriber_id: str, step_id: str) -> list[Key]:
    """Where a claim may be: its shard, then the transaction's partition, where claims written
    before the sharding are (a point read or change tries the next when one finds nothing)."""
    sharded = message(environment_id, transaction_id, subscriber_id, step_id)
    return [sharded, {"pk": transaction(environment_id, transaction_id)["pk"], "sk": sharded["sk"]}]


def message_partitions(
    environment_id: str, transaction_id: str, subscriber_id: str | None = None
) -> list[str]:
    """The partitions holding a transaction's claims (one subscriber's, if given): the shards and
    the unsharded transaction partition."""
    legacy = transaction(environment_id, transaction_id)["pk"]
    shards = range(SHARDS) if subscriber_id is None else [shard(subscriber_id)]
    return [f"{legacy}#M#{n}" for n in shards] + [legacy]


def attempt(environment_id: str, message_id: str) -> Key:
    return {"pk": f"{_env(environment_id)}#ATTEMPT#{message_id}", "sk": "ATTEMPT"}


def cancellation(environment_id: str, cancellation_key: str, transaction_id: str) -> Key:
    return {"pk": f"{_env(environment_id)}#CANCEL#{cancellation_key}", "sk": f"TX#{transaction_id}"}


def feed(environment_id: str, subscriber_id: str) -> str:
    return f"{_env(environment_id)}#FEED#{subscriber_id}"


def subscriber_list(environment_id: str, subscriber_id: str | None = None) -> str:
    """The listing partition a subscriber is indexed under (without an id: the unsharded one
    that items written before the listing was sharded are under)."""
    legacy = f"{_env(environment_id)}#SUBS"
    return legacy if subscriber_id is None else f"{legacy}#{shard(subscriber_id)}"


def subscriber_lists(environment_id: str) -> list[str]:
    """Every partition of the subscriber listing: the shards and the unsharded one."""
    legacy = subscriber_list(environment_id)
    return [f"{legacy}#{n}" for n in range(SHARDS)] + [legacy]


def subscriber_walk(environment_id: str) -> list[str]:
    """The listing's partitions in the order a broadcast walks them (store.subscriber_shards):
    the unsharded one first, then shards 0..SHARDS-1. A write only ever moves a subscriber from
    the unsharded partition into its shard, so one moved while the walk is under way is met in
    its shard later, never missed."""
    legacy = subscriber_list(environment_id)
    return [legacy] + [f"{legacy}#{n}" for n in range(SHARDS)]


def subscriber_topics(environment_id: str, subscriber_id: str) -> str:
    return f"{_env(environment_id)}#SUBTOPICS#{subscriber_id}"


def tenant(environment_id: str, identifier: str) -> Key:
    return {"pk": f"{_env(environment_id)}#TENANT#{identifier}", "sk": "TENANT"}


def tenant_list(environment_id: str) -> str:
    return f"{_env(environment_id)}#TENANTS"


def topic(environment_id: str, topic_key: str) -> Key:
    return {"pk": f"{_env(environment_id)}#TOPIC#{topic_key}", "sk": "TOPIC"}


def topic_member(environment_id: str, topic_key: str, subscriber_id: str) -> Key:
    return {"pk": f"{_env(environment_id)}#TOPIC#{topic_key}", "sk": f"MEMBER#{subscriber_id}"}


def topic_list(environment_id: str) -> str:
    return f"{_env(environment_id)}#TOPICS"


def integration(environment_id: str, identifier: str) -> Key:
    return {"pk": f"{_env(environment_id)}#INTEGRATIONS", "sk": f"INT#{identifier}"}


def active_integration(environment_id: str, channel: str) -> Key:
    return {"pk": f"{_env(environment_id)}#INTEGRATIONS", "sk": f"ACTIVE#{channel}"}


_DIGEST_KEY_MAX = 256


def digest_bucket(
    environment_id: str,
    workflow_id: str,
    subscriber_id: str,
    step_id: str,
    digest_key: str,
    window_start: int,
    page: int,
) -> Key:
    value = f"K#{digest_key}"
    if len(digest_key.encode()) > _DIGEST_KEY_MAX:  # sort keys hold 1 KB: long values are hashed
        value = f"H#{hashlib.sha256(digest_key.encode()).hexdigest()}"
    return {
        "pk": f"{_env(environment_id)}#DIGEST#{workflow_id}#{subscriber_id}",
        "sk": f"W#{window_start:012d}#P#{page:03d}#S#{step_id}#{value}",
    }

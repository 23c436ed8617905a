"""Who a record reaches, and the people in its scope.

A record names its recipients by kind (model.trigger.Recipient). `expand` is the one place each
kind is turned into subscribers: named subscribers run now; a topic and a broadcast become
parts that read one page of members (or of the environment's subscribers) at a time and fan
out into parts of at most 100. A new kind of recipient is one more entry in `_EXPANSIONS`.

The subscribers named in a batch are resolved once for the batch (`Known`, shared by its
records): inline profile fields are upserted, stored ones read (store.subscribers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clarion.clock import now_iso
from clarion.engine.parts import Parts
from clarion.model import Continuation, SubscriberProfile, TopicRef, TriggerRecord
from clarion.model.trigger import AllSubscribers, Recipient
from clarion.store import subscriber_shards, subscribers, tenants, topics

TOPIC_PAGE = 100
BROADCAST_PAGE = 100

Known = dict[str, dict[str, Any]]
"""The batch's subscribers as resolved so far, by subscriberId."""


def _topics(record: TriggerRecord, given: list[Recipient], parts: Parts) -> None:
    for topic in given:
        if isinstance(topic, TopicRef):
            parts.add(record, Continuation(kind="topic", topic_key=topic.topic_key))


def _broadcast(record: TriggerRecord, given: list[Recipient], parts: Parts) -> None:
    parts.add(record, Continuation(kind="broadcast"))  # once, however often it is named


# How the recipients of a kind other than a named subscriber reach their subscribers: by the
# parts they spawn, in this order.
_EXPANSIONS: dict[type, Callable[[TriggerRecord, list[Recipient], Parts], None]] = {
    TopicRef: _topics,
    AllSubscribers: _broadcast,
}


def expand(record: TriggerRecord, parts: Parts) -> list[SubscriberProfile]:
    """A record's own run: the subscribers it names directly (run now); every other kind of
    recipient becomes parts."""
    for kind, expansion in _EXPANSIONS.items():
        given = [r for r in record.recipients if isinstance(r, kind)]
        if given:
            expansion(record, given, parts)
    return named(record)


def named(record: TriggerRecord) -> list[SubscriberProfile]:
    return [r for r in record.recipients if isinstance(r, SubscriberProfile)]


def prefetch(records: list[TriggerRecord], known: Known) -> None:
    """Resolve the subscribers a batch's records name, once for the batch (per environment)."""
    by_environment: dict[str, dict[str, SubscriberProfile]] = {}
    for record in records:
        if record.continuation is None or record.continuation.kind == "fanout":
            for profile in named(record) + ([record.actor] if record.actor else []):
                if not profile.transient:
                    by_environment.setdefault(record.environment_id, {})[profile.subscriber_id] = profile
    for environment_id, profiles in by_environment.items():
        known.update(subscribers.resolve(environment_id, list(profiles.values()), now_iso()))


def resolve(record: TriggerRecord, profiles: list[SubscriberProfile], known: Known, now: str) -> None:
    """Make sure these profiles (and the actor) are in `known`: upsert or read what is missing."""
    wanted = [p for p in profiles + ([record.actor] if record.actor else []) if not p.transient]
    missing = [p for p in wanted if p.subscriber_id not in known]
    if missing:
        known.update(subscribers.resolve(record.environment_id, missing, now))


def subscriber_document(profile: SubscriberProfile, known: Known) -> dict[str, Any]:
    """The subscriber a step runs for: the stored one, or the trigger's inline fields for one
    never stored (transient). Identities are in the internal shape: each adapter maps its
    dialect's on the way in."""
    return known.get(profile.subscriber_id) or _transient(profile)


def actor_document(record: TriggerRecord, known: Known) -> dict[str, Any]:
    if record.actor is None:
        return {}
    return known.get(record.actor.subscriber_id) or _transient(record.actor)


def upsert_inline_tenant(record: TriggerRecord, now: str) -> dict[str, Any]:
    """The tenant in scope. A record's own run whose trigger carries the tenant's name or data
    writes them onto the stored tenant first (and answers the result); otherwise it is read."""
    if not record.tenant or not record.tenant.get("identifier"):
        return {}
    identifier = str(record.tenant["identifier"])
    if record.continuation is None and (record.tenant.get("name") or record.tenant.get("data")):
        return tenants.upsert(
            record.environment_id, identifier, record.tenant.get("name"), record.tenant.get("data"), now
        )
    return tenants.get(record.environment_id, identifier) or dict(record.tenant)


def expand_topic_page(record: TriggerRecord, continuation: Continuation, parts: Parts) -> None:
    """One page of members becomes a fanout part; the next page, another topic continuation."""
    members, cursor = topics.members_page(
        record.environment_id, continuation.topic_key or "", TOPIC_PAGE, continuation.cursor
    )
    _fan_out(record, continuation, members, cursor, parts)


def expand_subscribers_page(record: TriggerRecord, continuation: Continuation, parts: Parts) -> None:
    """A broadcast: one page of the environment's subscribers (in no particular order: a walk over
    the listing's partitions, store.subscriber_shards) becomes a fanout part, the next page
    another broadcast continuation; the environment is never read at once."""
    ids, cursor = subscriber_shards.page(record.environment_id, BROADCAST_PAGE, continuation.cursor)
    _fan_out(record, continuation, ids, cursor, parts)


def _fan_out(
    record: TriggerRecord, continuation: Continuation, ids: list[str], cursor: str | None, parts: Parts
) -> None:
    """A page of subscriber ids (without the actor) as a fanout part; the next page's continuation."""
    actor = record.actor.subscriber_id if record.actor else None
    recipients = [SubscriberProfile(subscriber_id=i) for i in ids if i != actor]
    if recipients:
        parts.add(record, Continuation(kind="fanout"), recipients=recipients)
    if cursor:
        parts.add(record, continuation.model_copy(update={"cursor": cursor}))


def _transient(profile: SubscriberProfile) -> dict[str, Any]:
    return {"subscriberId": profile.subscriber_id} | profile.api_fields()

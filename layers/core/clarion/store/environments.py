"""Environments and their API keys. Keys are stored as SHA-256 hashes; the stored hash is compared
in constant time, and a found key is cached per container for a short while. Each key item also
holds the key encrypted with KMS: SuprSend's HMAC secret, which lives and dies with its key."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.clock import now_iso
from clarion.config import settings
from clarion.model.identifiers import check_environment_id
from clarion.store import items, keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_cache: dict[str, tuple[float, str | None]] = {}


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def environment_for_key(api_key: str, client: DynamoDBClient | None = None) -> str | None:
    """The environment id an API key belongs to, or None."""
    key_hash = hash_api_key(api_key)
    now = time.monotonic()
    cached = _cache.get(key_hash)
    if cached and cached[0] > now:
        return cached[1]
    client = client or aws.dynamodb()
    found = client.get_item(TableName=settings().table_name, Key=items.key(keys.api_key(key_hash))).get(
        "Item"
    )
    environment_id = None
    if found and hmac.compare_digest(items.string(found, "keyHash") or "", key_hash):
        environment_id = items.string(found, "environmentId")
    _cache[key_hash] = (now + settings().auth_cache_seconds, environment_id)
    return environment_id


class EnvironmentExistsError(Exception):
    def __init__(self, environment_id: str) -> None:
        super().__init__(f"environment {environment_id!r} exists")


class EnvironmentNotFoundError(Exception):
    def __init__(self, environment_id: str) -> None:
        super().__init__(f"no environment {environment_id!r}")


class KeyInUseError(Exception):
    def __init__(self, environment_id: str) -> None:
        super().__init__(f"this API key belongs to environment {environment_id!r}")


def create_environment(
    environment_id: str,
    api_key: str,
    allow_loopback_urls: bool | None = None,
    *,
    force: bool = False,
    client: DynamoDBClient | None = None,
) -> None:
    """Create an environment with this API key; an existing one is refused (EnvironmentExistsError)
    unless `force`, which adds the key and sets only what is given here: limits, older keys and
    everything else stay. Seeding with the same key twice is harmless."""
    check_environment_id(environment_id)
    client = client or aws.dynamodb()
    loopback = (
        ":loopback" if allow_loopback_urls is not None else "if_not_exists(allowLoopbackUrls, :loopback)"
    )
    update: dict[str, Any] = {
        "TableName": settings().table_name,
        "Key": items.key(keys.environment(environment_id)),
        "UpdateExpression": f"SET #name = :name, allowLoopbackUrls = {loopback}, "
        "createdAt = if_not_exists(createdAt, :now)",
        "ExpressionAttributeNames": {"#name": "name"},
        "ExpressionAttributeValues": {
            ":name": items.s(environment_id),
            ":loopback": {"BOOL": bool(allow_loopback_urls)},
            ":now": items.s(now_iso()),
        },
    }
    if not force:
        update["ConditionExpression"] = "attribute_not_exists(pk)"
    try:
        client.update_item(**update)
    except client.exceptions.ConditionalCheckFailedException as error:
        raise EnvironmentExistsError(environment_id) from error
    _environments.pop(environment_id, None)
    add_key(environment_id, api_key, client)


def exists(environment_id: str, client: DynamoDBClient | None = None) -> bool:
    client = client or aws.dynamodb()
    key = items.key(keys.environment(environment_id))
    return "Item" in client.get_item(TableName=settings().table_name, Key=key, ConsistentRead=True)


def new_api_key() -> str:
    return "ck_" + secrets.token_urlsafe(32)


def add_key(environment_id: str, api_key: str, client: DynamoDBClient | None = None) -> str:
    """Store the key's hash (for lookups) and, encrypted with KMS when a secrets key is
    configured, the key itself on the same item: it is an HMAC secret for exactly as long as the
    key exists. Adding a key the environment already has again is harmless; a key of another
    environment is refused (KeyInUseError). Returns the hash."""
    check_environment_id(environment_id)
    client = client or aws.dynamodb()
    key_hash = hash_api_key(api_key)
    item = items.item(
        keys.api_key(key_hash), keyHash=key_hash, environmentId=environment_id, createdAt=now_iso()
    )
    item |= {"gsi1pk": items.s(keys.api_key_list(environment_id)), "gsi1sk": items.s(key_hash)}
    if settings().secrets_key_id:
        ciphertext = aws.kms().encrypt(
            KeyId=settings().secrets_key_id,
            Plaintext=api_key.encode(),
            EncryptionContext=_encryption_context(environment_id, key_hash),
        )["CiphertextBlob"]
        item["secretCiphertext"] = {"B": ciphertext}
    try:
        client.put_item(
            TableName=settings().table_name,
            Item=item,
            ConditionExpression="attribute_not_exists(pk) OR environmentId = :environment",
            ExpressionAttributeValues={":environment": items.s(environment_id)},
        )
    except client.exceptions.ConditionalCheckFailedException as error:
        owner = client.get_item(TableName=settings().table_name, Key=items.key(keys.api_key(key_hash)))
        raise KeyInUseError(items.string(owner.get("Item") or {}, "environmentId") or "?") from error
    _signing_keys.pop(environment_id, None)
    return key_hash


def list_keys(environment_id: str, client: DynamoDBClient | None = None) -> list[dict[str, str]]:
    """The environment's keys as {keyHash, createdAt}, newest first: hashes only, a key is never
    stored in the clear."""
    return [
        {"keyHash": items.string(raw, "keyHash") or "", "createdAt": items.string(raw, "createdAt") or ""}
        for raw in _key_items(environment_id, client)
    ]


def _key_items(environment_id: str, client: DynamoDBClient | None = None) -> list[dict[str, Any]]:
    client = client or aws.dynamodb()
    found: list[dict[str, Any]] = []
    query: dict[str, Any] = {
        "TableName": settings().table_name,
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": {":pk": items.s(keys.api_key_list(environment_id))},
    }
    while True:
        answer = client.query(**query)
        found += answer["Items"]
        if "LastEvaluatedKey" not in answer:
            break
        query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return sorted(found, key=lambda raw: items.string(raw, "createdAt") or "", reverse=True)


def revoke_key(environment_id: str, key_hash_prefix: str, client: DynamoDBClient | None = None) -> list[str]:
    """Delete the environment's keys whose hash starts with the prefix (at least 8 characters),
    and with each its HMAC secret. Containers that cached the key, or the environment's signing
    keys, stop accepting it within auth_cache_seconds."""
    if len(key_hash_prefix) < 8:
        raise ValueError("give at least 8 characters of the key's hash")
    client = client or aws.dynamodb()
    revoked = [
        k["keyHash"] for k in list_keys(environment_id, client) if k["keyHash"].startswith(key_hash_prefix)
    ]
    for key_hash in revoked:
        client.delete_item(TableName=settings().table_name, Key=items.key(keys.api_key(key_hash)))
        _cache.pop(key_hash, None)
        _secrets.pop(key_hash, None)
    _signing_keys.pop(environment_id, None)
    return revoked


def _encryption_context(environment_id: str, key_hash: str) -> dict[str, str]:
    return {"environment": environment_id, "keyHash": key_hash}


# environment -> (expiry, [(key hash, ciphertext or None)]) of its live keys, newest first
_signing_keys: dict[str, tuple[float, list[tuple[str, bytes | None]]]] = {}
_secrets: dict[str, str] = {}  # key hash -> the key, decrypted once per container


def hmac_secrets(environment_id: str) -> Iterator[str]:
    """The secrets a SuprSend signature of this environment may be made with: each of its live API
    keys, newest first, decrypted lazily (once per key and container). Which keys are live is
    cached for auth_cache_seconds, the bound ApiKey/Bearer lookups have: a revoked key stops
    signing when it stops authenticating, and a container that cached the list before a rotation
    takes the new key as a secret within the same bound."""
    now = time.monotonic()
    cached = _signing_keys.get(environment_id)
    if cached is None or cached[0] <= now:
        live = [
            (items.string(raw, "keyHash") or "", raw.get("secretCiphertext", {}).get("B"))
            for raw in _key_items(environment_id)
        ]
        cached = (now + settings().auth_cache_seconds, live)
        _signing_keys[environment_id] = cached
    without_own_secret = set()
    for key_hash, ciphertext in cached[1]:
        if ciphertext is None:
            without_own_secret.add(key_hash)
        else:
            yield _decrypted(key_hash, ciphertext, _encryption_context(environment_id, key_hash))
    if without_own_secret:
        yield from _legacy_secret(environment_id, without_own_secret)


def _legacy_secret(environment_id: str, live_hashes: set[str]) -> Iterator[str]:
    """Keys added before secrets moved onto key items: the environment item holds the newest
    one's ciphertext, trusted only while a live key hashes to it."""
    ciphertext = _environment_item(environment_id).get("secretCiphertext", {}).get("B")
    if ciphertext:
        cache_key = "ENV#" + hashlib.sha256(ciphertext).hexdigest()
        secret = _decrypted(cache_key, ciphertext, {"environment": environment_id})
        if hash_api_key(secret) in live_hashes:
            yield secret


def _decrypted(cache_key: str, ciphertext: bytes, context: dict[str, str]) -> str:
    secret = _secrets.get(cache_key)
    if secret is None:
        plaintext = aws.kms().decrypt(CiphertextBlob=ciphertext, EncryptionContext=context)
        secret = _secrets[cache_key] = plaintext["Plaintext"].decode()
    return secret


@dataclass(frozen=True)
class RateLimit:
    per_second: int
    burst: int


_environments: dict[str, tuple[float, dict[str, Any]]] = {}


def _environment_item(environment_id: str, client: DynamoDBClient | None = None) -> dict[str, Any]:
    """The environment's item, cached per container like keys."""
    now = time.monotonic()
    cached = _environments.get(environment_id)
    if cached and cached[0] > now:
        return cached[1]
    client = client or aws.dynamodb()
    key = items.key(keys.environment(environment_id))
    found = dict(client.get_item(TableName=settings().table_name, Key=key).get("Item") or {})
    _environments[environment_id] = (now + settings().auth_cache_seconds, found)
    return found


def rate_limit(environment_id: str) -> RateLimit:
    """The environment's limit: its own, or the defaults."""
    found = _environment_item(environment_id)
    return RateLimit(
        per_second=items.number(found, "ratePerSecond", settings().default_rate_per_second),
        burst=items.number(found, "rateBurst", settings().default_rate_burst),
    )


def allows_loopback_urls(environment_id: str) -> bool:
    """Whether outbound URLs may point at loopback: only the local stack's environment does."""
    return bool(_environment_item(environment_id).get("allowLoopbackUrls", {}).get("BOOL", False))


def set_rate_limit(environment_id: str, limit: RateLimit, client: DynamoDBClient | None = None) -> None:
    """Set an existing environment's limit (EnvironmentNotFoundError otherwise)."""
    check_environment_id(environment_id)
    client = client or aws.dynamodb()
    try:
        client.update_item(
            TableName=settings().table_name,
            Key=items.key(keys.environment(environment_id)),
            UpdateExpression="SET ratePerSecond = :rate, rateBurst = :burst",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":rate": items.n(limit.per_second), ":burst": items.n(limit.burst)},
        )
    except client.exceptions.ConditionalCheckFailedException as error:
        raise EnvironmentNotFoundError(environment_id) from error
    _environments.pop(environment_id, None)


def forget_cached_keys() -> None:
    from clarion.store import rate_buckets

    rate_buckets.forget()  # what this container saw of the buckets
    _cache.clear()
    _environments.clear()
    _signing_keys.clear()
    _secrets.clear()

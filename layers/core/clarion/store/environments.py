"""Environments and their API keys. Keys are stored as SHA-256 hashes; the stored hash is compared
in constant time, and a found key is cached per container for a short while."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.clock import now_iso
from clarion.config import settings
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


def create_environment(
    environment_id: str, api_key: str, allow_loopback_urls: bool = False, client: DynamoDBClient | None = None
) -> None:
    """Create (or re-key) an environment with this API key. Idempotent: seeding twice is harmless."""
    client = client or aws.dynamodb()
    environment = items.item(keys.environment(environment_id), name=environment_id)
    environment["allowLoopbackUrls"] = {"BOOL": allow_loopback_urls}
    client.put_item(TableName=settings().table_name, Item=environment)
    add_key(environment_id, api_key, client)


def new_api_key() -> str:
    return "ck_" + secrets.token_urlsafe(32)


def add_key(environment_id: str, api_key: str, client: DynamoDBClient | None = None) -> str:
    """Store the key's hash (for lookups) and make it the environment's HMAC secret, encrypted
    with KMS when a secrets key is configured. Returns the hash."""
    client = client or aws.dynamodb()
    key_hash = hash_api_key(api_key)
    item = items.item(
        keys.api_key(key_hash), keyHash=key_hash, environmentId=environment_id, createdAt=now_iso()
    )
    item |= {"gsi1pk": items.s(keys.api_key_list(environment_id)), "gsi1sk": items.s(key_hash)}
    client.put_item(TableName=settings().table_name, Item=item)
    if settings().secrets_key_id:
        ciphertext = aws.kms().encrypt(
            KeyId=settings().secrets_key_id,
            Plaintext=api_key.encode(),
            EncryptionContext={"environment": environment_id},
        )["CiphertextBlob"]
        client.update_item(
            TableName=settings().table_name,
            Key=items.key(keys.environment(environment_id)),
            UpdateExpression="SET secretCiphertext = :secret",
            ExpressionAttributeValues={":secret": {"B": ciphertext}},
        )
    _environments.pop(environment_id, None)
    return key_hash


def list_keys(environment_id: str, client: DynamoDBClient | None = None) -> list[dict[str, str]]:
    """The environment's keys as {keyHash, createdAt}: hashes only, a key is never stored."""
    client = client or aws.dynamodb()
    pages = client.get_paginator("query").paginate(  # every key: revoking must see them all
        TableName=settings().table_name,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": items.s(keys.api_key_list(environment_id))},
    )
    return [
        {"keyHash": items.string(raw, "keyHash") or "", "createdAt": items.string(raw, "createdAt") or ""}
        for answer in pages
        for raw in answer["Items"]
    ]


def revoke_key(environment_id: str, key_hash_prefix: str, client: DynamoDBClient | None = None) -> list[str]:
    """Delete the environment's keys whose hash starts with the prefix (at least 8 characters).
    Containers that cached the key stop accepting it within auth_cache_seconds."""
    if len(key_hash_prefix) < 8:
        raise ValueError("give at least 8 characters of the key's hash")
    client = client or aws.dynamodb()
    revoked = [
        k["keyHash"] for k in list_keys(environment_id, client) if k["keyHash"].startswith(key_hash_prefix)
    ]
    for key_hash in revoked:
        client.delete_item(TableName=settings().table_name, Key=items.key(keys.api_key(key_hash)))
        _cache.pop(key_hash, None)
    return revoked


_secrets: dict[str, tuple[float, str | None]] = {}


def hmac_secret(environment_id: str) -> str | None:
    """The environment's HMAC secret (its newest API key), decrypted; cached per container."""
    now = time.monotonic()
    cached = _secrets.get(environment_id)
    if cached and cached[0] > now:
        return cached[1]
    ciphertext = _environment_item(environment_id).get("secretCiphertext", {}).get("B")
    secret = None
    if ciphertext:
        plaintext = aws.kms().decrypt(
            CiphertextBlob=ciphertext, EncryptionContext={"environment": environment_id}
        )
        secret = plaintext["Plaintext"].decode()
    _secrets[environment_id] = (now + settings().auth_cache_seconds, secret)
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
    client = client or aws.dynamodb()
    client.update_item(
        TableName=settings().table_name,
        Key=items.key(keys.environment(environment_id)),
        UpdateExpression="SET ratePerSecond = :rate, rateBurst = :burst",
        ExpressionAttributeValues={":rate": items.n(limit.per_second), ":burst": items.n(limit.burst)},
    )
    _environments.pop(environment_id, None)


def forget_cached_keys() -> None:
    _cache.clear()
    _environments.clear()
    _secrets.clear()

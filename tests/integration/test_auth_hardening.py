"""Issue 11, points 1, 2 and 4: a revoked key no longer signs SuprSend HMAC requests, a signed
request is accepted once, and `env create` on an existing environment refuses (or, forced, keeps
what it does not set)."""

from __future__ import annotations

import json
import time
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

import pytest
from clarion import aws
from clarion.api.auth import MAX_CLOCK_SKEW_SECONDS, SignedRequest, sign
from clarion.config import settings
from clarion.store import environments, items, keys
from clarion_cli.seed import DEFAULT_API_KEY, DEVELOPMENT, seed

from tests.integration.conftest import Cloud

PROBE = "probe"
CONTENT_TYPE = "application/json; charset=utf-8"
_counter = iter(range(1_000_000))


def signed(
    cloud: Cloud,
    path: str,
    body: Any,
    secret: str,
    environment_id: str = PROBE,
    date: str | None = None,
) -> tuple[int, dict[str, str], Any]:
    """A request signed the way suprsend-py-sdk signs it."""
    raw = json.dumps(body).encode()
    request = SignedRequest("POST", (path,), "", raw, CONTENT_TYPE, date or formatdate(usegmt=True))
    return cloud.api(
        "POST",
        path,
        raw_body=raw.decode(),
        key=None,
        headers={
            "Authorization": f"{environment_id}:{sign(secret, request, path)}",
            "Date": request.date or "",
            "Content-Type": CONTENT_TYPE,
        },
    )


def new_workflow() -> dict[str, Any]:
    """A distinct body each time: a distinct signature, so no request here is a replay."""
    return {
        "workflowId": f"wf-{next(_counter)}",
        "steps": [{"stepId": "a", "type": "in_app", "content": {"body": "x"}}],
    }


def sign_workflow(cloud: Cloud, secret: str) -> int:
    return signed(cloud, "/v1/workflows", new_workflow(), secret)[0]


def bearer(cloud: Cloud, key: str) -> int:
    return cloud.api("GET", "/v1/workflows", key=None, headers={"Authorization": f"Bearer {key}"})[0]


def key_hash(key: str) -> str:
    return environments.hash_api_key(key)


@pytest.fixture
def probe(cloud: Cloud) -> str:
    key = environments.new_api_key()
    with cloud.configured_as("ApiFunction"):
        environments.create_environment(PROBE, key)
    return key


# --- 1. revoking or rotating stops HMAC ----------------------------------------------------------


def test_revoking_the_only_key_stops_its_hmac_signatures(cloud: Cloud, probe: str) -> None:
    assert sign_workflow(cloud, probe) == 201
    assert bearer(cloud, probe) == 200

    with cloud.configured_as("ApiFunction"):
        assert environments.revoke_key(PROBE, key_hash(probe)[:12]) == [key_hash(probe)]

    status, _, body = signed(cloud, "/v1/workflows", new_workflow(), probe)
    assert (status, body["message"]) == (401, "signature does not match")
    assert bearer(cloud, probe) == 401


def test_a_container_that_cached_a_key_refuses_its_signatures_when_it_refuses_the_key(
    cloud: Cloud, probe: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process (`clarion keys revoke`) deletes the key item; this container cached both
    the key and the environment's signing keys, and lets go of both within auth_cache_seconds."""
    monkeypatch.setenv("CLARION_AUTH_CACHE_SECONDS", "1")
    assert (sign_workflow(cloud, probe), bearer(cloud, probe)) == (201, 200)  # both cached now

    with cloud.configured_as("ApiFunction"):
        cloud.dynamodb.delete_item(
            TableName=settings().table_name, Key=items.key(keys.api_key(key_hash(probe)))
        )
    assert (sign_workflow(cloud, probe), bearer(cloud, probe)) == (201, 200)  # inside the same bound
    time.sleep(1.1)
    assert (sign_workflow(cloud, probe), bearer(cloud, probe)) == (401, 401)


def test_rotating_with_revoke_old_refuses_the_old_keys_signature_and_accepts_the_new(
    cloud: Cloud, probe: str
) -> None:
    assert sign_workflow(cloud, probe) == 201
    new = environments.new_api_key()
    with cloud.configured_as("ApiFunction"):  # what `clarion keys rotate --revoke-old` does
        old = [k["keyHash"] for k in environments.list_keys(PROBE)]
        environments.add_key(PROBE, new)
        for hashed in old:
            environments.revoke_key(PROBE, hashed)

    assert sign_workflow(cloud, probe) == 401
    assert sign_workflow(cloud, new) == 201
    assert (bearer(cloud, probe), bearer(cloud, new)) == (401, 200)


def test_rotating_without_revoking_keeps_both_keys_signing_until_the_old_one_is_revoked(
    cloud: Cloud, probe: str
) -> None:
    new = environments.new_api_key()
    with cloud.configured_as("ApiFunction"):
        environments.add_key(PROBE, new)
    assert (sign_workflow(cloud, probe), sign_workflow(cloud, new)) == (201, 201)
    with cloud.configured_as("ApiFunction"):
        environments.revoke_key(PROBE, key_hash(probe))
    assert (sign_workflow(cloud, probe), sign_workflow(cloud, new)) == (401, 201)


def test_a_secret_stored_the_old_way_signs_only_while_its_key_lives(cloud: Cloud) -> None:
    """Environments keyed before secrets moved onto key items hold the newest key's ciphertext on
    the environment item; it is trusted only while a live key hashes to it."""
    key = "legacy-key"
    with cloud.configured_as("ApiFunction"):
        table = settings().table_name
        cloud.dynamodb.put_item(TableName=table, Item=items.item(keys.environment(PROBE), name=PROBE))
        hashed = key_hash(key)
        key_item = items.item(keys.api_key(hashed), keyHash=hashed, environmentId=PROBE, createdAt="2025")
        key_item |= {"gsi1pk": items.s(keys.api_key_list(PROBE)), "gsi1sk": items.s(hashed)}
        cloud.dynamodb.put_item(TableName=table, Item=key_item)
        ciphertext = aws.kms().encrypt(
            KeyId=settings().secrets_key_id, Plaintext=key.encode(), EncryptionContext={"environment": PROBE}
        )["CiphertextBlob"]
        cloud.dynamodb.update_item(
            TableName=table,
            Key=items.key(keys.environment(PROBE)),
            UpdateExpression="SET secretCiphertext = :secret",
            ExpressionAttributeValues={":secret": {"B": ciphertext}},
        )
    assert sign_workflow(cloud, key) == 201
    with cloud.configured_as("ApiFunction"):
        environments.revoke_key(PROBE, hashed)
    assert sign_workflow(cloud, key) == 401


# --- 2. a signature is accepted once ------------------------------------------------------------


def test_the_same_signed_trigger_sent_three_times_runs_once(cloud: Cloud) -> None:
    trigger = {"workflow": "welcome", "recipients": ["replayed-ada"], "data": {"message": "once"}}
    date = formatdate(usegmt=True)

    answers = [signed(cloud, "/trigger/", trigger, DEFAULT_API_KEY, DEVELOPMENT, date) for _ in range(3)]

    assert [status for status, _, _ in answers] == [202, 401, 401]
    for _, _, body in answers[1:]:
        assert body["status"] == "fail"
        assert body["error"]["type"] == "unauthorized"
        assert "signature already used" in body["message"]
    cloud.drain()
    feed = cloud.api("GET", "/v1/subscribers/replayed-ada/notifications/feed")[2]["data"]
    assert len(feed) == 1


def test_a_replay_is_answered_in_the_shape_of_a_bad_signature(cloud: Cloud) -> None:
    trigger = {"workflow": "welcome", "recipients": ["ada"]}
    date = formatdate(usegmt=True)
    signed(cloud, "/trigger/", trigger, DEFAULT_API_KEY, DEVELOPMENT, date)
    replay = signed(cloud, "/trigger/", trigger, DEFAULT_API_KEY, DEVELOPMENT, date)
    wrong = signed(cloud, "/trigger/", trigger, "not-the-secret", DEVELOPMENT, date)
    assert replay[0] == wrong[0] == 401
    assert set(replay[2]) == set(wrong[2]) == {"status", "message", "error"}
    assert replay[2]["error"]["type"] == wrong[2]["error"]["type"]


def test_a_claimed_signature_expires_when_its_date_leaves_the_window(cloud: Cloud) -> None:
    trigger = {"workflow": "welcome", "recipients": ["ada"]}
    date = formatdate(usegmt=True)
    raw = json.dumps(trigger).encode()
    signature = sign(
        DEFAULT_API_KEY, SignedRequest("POST", ("/trigger/",), "", raw, CONTENT_TYPE, date), "/trigger/"
    )
    assert signed(cloud, "/trigger/", trigger, DEFAULT_API_KEY, DEVELOPMENT, date)[0] == 202
    with cloud.configured_as("ApiFunction"):
        claim = cloud.dynamodb.get_item(
            TableName=settings().table_name, Key=items.key(keys.signature(DEVELOPMENT, signature))
        )["Item"]
    expected = int(parsedate_to_datetime(date).timestamp()) + MAX_CLOCK_SKEW_SECONDS
    assert items.number(claim, "expiresAt") == expected


def test_api_key_requests_with_the_same_body_are_not_replays(cloud: Cloud) -> None:
    trigger = {"workflow": "welcome", "recipients": ["ada"]}
    statuses = [cloud.api("POST", "/trigger/", raw_body=json.dumps(trigger))[0] for _ in range(3)]
    assert statuses == [202, 202, 202]


def test_the_same_signature_in_another_environment_is_its_own(cloud: Cloud, probe: str) -> None:
    """Claims are per environment: a signature is only ever valid for one environment's key anyway."""
    body = new_workflow()
    date = formatdate(usegmt=True)
    assert signed(cloud, "/v1/workflows", body, probe, PROBE, date)[0] == 201
    assert signed(cloud, "/v1/workflows", body, DEFAULT_API_KEY, DEVELOPMENT, date)[0] == 201


# --- 4. env create on an existing environment ---------------------------------------------------


def _environment_item(cloud: Cloud, environment_id: str) -> dict[str, Any]:
    with cloud.configured_as("ApiFunction"):
        return cloud.dynamodb.get_item(
            TableName=settings().table_name, Key=items.key(keys.environment(environment_id))
        )["Item"]


def test_creating_an_existing_environment_is_refused_and_changes_nothing(cloud: Cloud, probe: str) -> None:
    with cloud.configured_as("ApiFunction"):
        environments.set_rate_limit(PROBE, environments.RateLimit(per_second=5, burst=7))
    before = _environment_item(cloud, PROBE)
    other = environments.new_api_key()

    with cloud.configured_as("ApiFunction"), pytest.raises(environments.EnvironmentExistsError):
        environments.create_environment(PROBE, other)

    assert _environment_item(cloud, PROBE) == before
    assert (bearer(cloud, probe), bearer(cloud, other)) == (200, 401)
    assert sign_workflow(cloud, probe) == 201


def test_forced_create_adds_a_key_and_keeps_limits_keys_and_settings(cloud: Cloud, probe: str) -> None:
    with cloud.configured_as("ApiFunction"):
        environments.set_rate_limit(PROBE, environments.RateLimit(per_second=5, burst=7))
        cloud.dynamodb.update_item(
            TableName=settings().table_name,
            Key=items.key(keys.environment(PROBE)),
            UpdateExpression="SET allowLoopbackUrls = :yes",
            ExpressionAttributeValues={":yes": {"BOOL": True}},
        )
    forced = environments.new_api_key()

    with cloud.configured_as("ApiFunction"):
        environments.create_environment(PROBE, forced, force=True)

    stored = _environment_item(cloud, PROBE)
    assert (items.number(stored, "ratePerSecond"), items.number(stored, "rateBurst")) == (5, 7)
    assert stored["allowLoopbackUrls"] == {"BOOL": True}
    assert (bearer(cloud, probe), bearer(cloud, forced)) == (200, 200)
    assert (sign_workflow(cloud, probe), sign_workflow(cloud, forced)) == (201, 201)


def test_seeding_again_keeps_the_development_environments_limits(cloud: Cloud) -> None:
    with cloud.configured_as("ApiFunction"):
        environments.set_rate_limit(DEVELOPMENT, environments.RateLimit(per_second=3, burst=4))
        seed(DEFAULT_API_KEY)  # what every `clarion dev` start does
        seed(DEFAULT_API_KEY)
    stored = _environment_item(cloud, DEVELOPMENT)
    assert (items.number(stored, "ratePerSecond"), items.number(stored, "rateBurst")) == (3, 4)
    assert stored["allowLoopbackUrls"] == {"BOOL": True}
    with cloud.configured_as("ApiFunction"):
        assert len(environments.list_keys(DEVELOPMENT)) == 1
    assert bearer(cloud, DEFAULT_API_KEY) == 200


def test_a_key_of_another_environment_is_not_moved(cloud: Cloud, probe: str) -> None:
    with cloud.configured_as("ApiFunction"), pytest.raises(environments.KeyInUseError):
        environments.add_key(DEVELOPMENT, probe)
    assert cloud.api("GET", "/v1/workflows/welcome", key=probe)[0] == 404  # still probe's key


def test_limits_of_an_environment_that_does_not_exist_are_refused(cloud: Cloud) -> None:
    with cloud.configured_as("ApiFunction"), pytest.raises(environments.EnvironmentNotFoundError):
        environments.set_rate_limit("nowhere", environments.RateLimit(per_second=1, burst=1))

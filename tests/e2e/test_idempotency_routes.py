"""Over real HTTP on the local stack: an Idempotency-Key belongs to its route (issue 11, point 10).
Key K on /v1/events/trigger, then K with the same body on /broadcast is a 422 and broadcasts
nothing; the broadcast with a fresh key runs."""

from __future__ import annotations

import json
import uuid

from tests.e2e.conftest import RunningStack
from tests.e2e.test_local_stack import wait_for


def test_key_reused_on_broadcast_is_422_and_a_fresh_key_broadcasts(stack: RunningStack) -> None:
    run = uuid.uuid4().hex[:8]
    people = [f"idem-{run}-{n}" for n in range(3)]
    answer = stack.call(
        "POST", "/v1/subscribers/bulk", json={"subscribers": [{"subscriberId": p} for p in people]}
    )
    assert answer.status_code == 201
    body = json.dumps({"name": "welcome", "to": people[0], "payload": {"run": run}})
    headers = {"Content-Type": "application/json", "Idempotency-Key": f"K-{run}"}

    first = stack.call("POST", "/v1/events/trigger", data=body, headers=headers)
    assert first.status_code == 201, first.text
    reused = stack.call("POST", "/v1/events/trigger/broadcast", data=body, headers=headers)
    assert reused.status_code == 422, reused.text
    assert "Retry-After" not in reused.headers and "Idempotency-Replay" not in reused.headers
    assert "already used on POST /v1/events/trigger;" in reused.json()["message"]
    replay = stack.call("POST", "/v1/events/trigger", data=body, headers=headers)
    assert (replay.status_code, replay.headers.get("Idempotency-Replay")) == (201, "true")
    assert replay.json() == first.json()

    def feeds() -> list[int]:
        return [
            len(stack.call("GET", f"/v1/subscribers/{p}/notifications/feed").json()["data"]) for p in people
        ]

    wait_for(lambda: feeds()[0] == 1, timeout=60)
    transaction = first.json()["data"]["transactionId"]
    wait_for(
        lambda: stack.call("GET", f"/v1/events/trigger/{transaction}").json()["data"]["status"] == "completed"
    )
    assert feeds() == [1, 0, 0]  # the refused broadcast reached no one

    fresh = stack.call(
        "POST", "/v1/events/trigger/broadcast", data=body, headers=headers | {"Idempotency-Key": f"B-{run}"}
    )
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["data"]["transactionId"] != transaction
    wait_for(lambda: feeds() == [2, 1, 1], timeout=60)

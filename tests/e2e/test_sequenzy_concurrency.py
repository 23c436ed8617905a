"""Identical Sequenzy requests sent at the same time, over HTTP on the local stack (a client that
retries before its first call answered): each eventId is recorded once and starts its workflow
once, whichever request wins it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.e2e.conftest import SequenzyClient
from tests.e2e.test_sequenzy import PATH, eventually, feed, send, settled, workflow


def test_concurrent_identical_requests_record_and_trigger_each_event_id_once(
    sequenzy: SequenzyClient,
) -> None:
    workflow(sequenzy, "race_won")
    known = {"externalId": "racer-1", "email": "racer@example.com", "firstName": "Rae"}
    send(sequenzy, known | {"events": [{"name": "warmed_up"}]})
    event_ids = [f"race-{i}" for i in range(5)]
    body = known | {
        "events": [{"name": "race_won", "eventId": i, "properties": {"plan": i}} for i in event_ids]
    }

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: sequenzy.call("POST", PATH, json=body), range(6)))

    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    events = [e for a in answers for e in a.json()["events"]]
    for event_id in event_ids:
        mine = [e for e in events if e["id"] == event_id]
        assert sum(1 for e in mine if not e.get("duplicate")) == 1, mine
    assert sum(1 for e in events if e["definitionCreated"]) == 1, events  # race_won: new, defined once
    queued = [w for e in events for w in e.get("workflows", []) if w["status"] == "queued"]
    assert len(queued) == len(event_ids), events
    activity = sequenzy.call("GET", "/v1/subscribers/racer-1/events", params={"limit": 50}).json()["data"]
    assert sorted(e["id"] for e in activity if e["name"] == "race_won") == event_ids
    assert all(eventually(lambda t=w["transactionId"]: settled(sequenzy, t)) for w in queued)
    assert sorted(feed(sequenzy, "racer-1")) == sorted(f"{i} for Rae" for i in event_ids)

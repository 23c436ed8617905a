"""Bulk status over real HTTP on the local stack: exact counts, paging, transactionId races."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.e2e.conftest import RunningStack
from tests.e2e.test_local_stack import wait_for


def test_three_bulks_of_fifty_with_one_bad_record_each_end_partially_failed(stack: RunningStack) -> None:
    locations = []
    for b in range(3):
        events = [{"name": "welcome", "to": f"s{b}-{i}", "payload": {"i": i}} for i in range(49)]
        events.insert(17, {"to": "nobody"})  # the bad one, refused at the API
        answer = stack.call("POST", "/v1/events/trigger/bulk", json={"events": events})
        assert answer.status_code == 201
        statuses = [item["status"] for item in answer.json()["data"]]
        assert statuses.count("error") == 1 and statuses[17] == "error"
        locations.append(answer.headers["Location"])

    for location in locations:
        view = wait_for(
            lambda loc=location: (
                (v := stack.call("GET", loc).json()["data"])["status"] != "processing"
                and v["status"] != "queued"
                and v
            ),
            timeout=60,
        )
        assert view["status"] == "partially_failed"
        assert view["total"] == 50
        assert view["counts"] == {"completed": 49, "error": 1}
        indexes, cursor = [], None
        while True:
            page = stack.call(
                "GET", f"{location}/records", params={"limit": 20, **({"cursor": cursor} if cursor else {})}
            )
            assert page.status_code == 200
            assert len(page.json()["data"]) <= 20
            indexes += [row["index"] for row in page.json()["data"]]
            cursor = page.json()["next"]
            if not cursor:
                break
        assert indexes == list(range(50))


def test_concurrent_triggers_with_one_transaction_id_run_once(stack: RunningStack) -> None:
    body = {"events": [{"name": "welcome", "to": "racer", "transactionId": "race-1"}]}
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: stack.call("POST", "/v1/events/trigger/bulk", json=body), range(6)))
    statuses = sorted(a.json()["data"][0]["status"] for a in answers)
    assert statuses == ["error"] * 5 + ["processed"]
    wait_for(lambda: stack.call("GET", "/v1/events/trigger/race-1").json()["data"]["status"] == "completed")
    assert len(stack.call("GET", "/v1/subscribers/racer/notifications/feed").json()["data"]) == 1

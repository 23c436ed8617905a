"""Sequenzy's activity as it is stored, per request (store.subscriber_events): one part item per
request (a few for a large one), read back newest first across requests and paged; an eventId
recorded once whether it repeats in a later request or in the same one."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.conftest import Cloud

PATH = "/api/v1/subscribers/events/bulk"


def send(cloud: Cloud, body: dict[str, Any]) -> dict[str, Any]:
    status, _, answer = cloud.api("POST", PATH, body)
    assert status == 200, answer
    return dict(answer)


def activity(cloud: Cloud, subscriber_id: str, limit: int) -> list[list[str]]:
    """Every page of the subscriber's events (their ids), following `next` to the end."""
    pages: list[list[str]] = []
    query: dict[str, Any] = {"limit": str(limit)}
    while True:
        status, _, page = cloud.api("GET", f"/v1/subscribers/{subscriber_id}/events", query=query)
        assert status == 200, page
        pages.append([e["id"] for e in page["data"]])
        assert page["hasMore"] is (page["next"] is not None)
        if not page["next"]:
            return pages
        query = {"limit": str(limit), "cursor": page["next"]}


def stored_parts(cloud: Cloud, subscriber_id: str) -> list[dict[str, Any]]:
    """The subscriber's activity items, as DynamoDB holds them (in the table with gsi1)."""
    table = next(
        name
        for name in cloud.dynamodb.list_tables()["TableNames"]
        if any(
            index["IndexName"] == "gsi1"
            for index in cloud.dynamodb.describe_table(TableName=name)["Table"].get(
                "GlobalSecondaryIndexes", []
            )
        )
    )
    answer = cloud.dynamodb.query(
        TableName=table,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ENV#development#ACTIVITY#{subscriber_id}"}},
    )
    return list(answer["Items"])


def at(minute: int) -> str:
    return f"2026-03-01T10:{minute:02d}:00.000Z"


def test_events_of_several_requests_are_paged_newest_first_across_them(cloud: Cloud) -> None:
    # Given three requests whose events interleave in time (a client back-filling old events)
    requests = [[1, 5, 9], [2, 6], [3, 4, 7, 8]]
    for minutes in requests:
        events = [{"name": "seen", "eventId": f"m{m}", "occurredAt": at(m)} for m in minutes]
        send(cloud, {"externalId": "pager", "email": "pager@example.com", "events": events})

    # Then each request is one stored item, and its events come back newest first, whatever the page size
    assert len(stored_parts(cloud, "pager")) == 3
    newest_first = [f"m{m}" for m in range(9, 0, -1)]
    for limit in (1, 2, 4, 9, 50):
        pages = activity(cloud, "pager", limit)
        assert [i for page in pages for i in page] == newest_first, (limit, pages)
        assert all(len(page) == limit for page in pages[:-1])
    _, _, page = cloud.api("GET", "/v1/subscribers/pager/events", query={"limit": "3"})
    assert [(e["name"], e["occurredAt"]) for e in page["data"]] == [
        ("seen", at(9)),
        ("seen", at(8)),
        ("seen", at(7)),
    ]


def test_an_event_id_repeated_in_a_later_request_or_the_same_one_is_recorded_and_started_once(
    cloud: Cloud,
) -> None:
    assert (
        cloud.api(
            "POST",
            "/v1/workflows",
            {
                "workflowId": "ping",
                "steps": [{"stepId": "s", "type": "in_app", "content": {"body": "{{ payload.n }}"}}],
            },
        )[0]
        == 201
    )
    body = {"externalId": "rep", "email": "rep@example.com"}
    first = send(
        cloud,
        body | {"events": [{"name": "ping", "eventId": i, "properties": {"n": i}} for i in ("a", "b", "a")]},
    )
    again = send(
        cloud,
        body | {"events": [{"name": "ping", "eventId": i, "properties": {"n": i}} for i in ("b", "c", "c")]},
    )

    assert [e.get("duplicate", False) for e in first["events"]] == [False, False, True]
    assert [e.get("duplicate", False) for e in again["events"]] == [True, False, True]
    started = [
        w["status"] for answer in (first, again) for e in answer["events"] for w in e.get("workflows", [])
    ]
    assert started == ["queued", "queued", "queued"]
    assert sorted(i for page in activity(cloud, "rep", 50) for i in page) == ["a", "b", "c"]
    cloud.drain()
    _, _, inbox = cloud.api("GET", "/v1/subscribers/rep/notifications/feed")
    assert sorted(m["content"]["body"] for m in inbox["data"]) == ["a", "b", "c"]


def test_a_request_too_large_for_one_item_is_stored_in_a_few_and_read_back_whole(cloud: Cloud) -> None:
    # Given 15 events of 60 KB each: 900 KB, more than a DynamoDB item (400 KB) holds
    events = [
        {"name": "big", "eventId": f"big-{i:02d}", "occurredAt": at(i), "properties": {"blob": "x" * 60_000}}
        for i in range(15)
    ]
    send(cloud, {"externalId": "large", "email": "large@example.com", "events": events})

    parts = stored_parts(cloud, "large")
    assert 3 <= len(parts) <= 4
    assert all(len(json.dumps(p)) < 400 * 1024 for p in parts)
    pages = activity(cloud, "large", 100)
    assert [i for page in pages for i in page] == [f"big-{i:02d}" for i in range(14, -1, -1)]
    again = send(cloud, {"externalId": "large", "events": events[:2]})
    assert [e.get("duplicate") for e in again["events"]] == [True, True]

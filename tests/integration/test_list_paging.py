"""Every list route pages until its limit or the end and always answers a cursor while more exist
(issue 11, point 9), and the feed holds only delivered in-app messages (point 12)."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Cloud

BIG = "x" * (90 * 1024)  # a 90 KB payload: about eleven of them fill one DynamoDB query page

INBOX = {
    "workflowId": "big-inbox",
    "name": "Big inbox",
    "steps": [{"stepId": "inbox", "type": "in_app", "content": {"body": "#{{ payload.n }}"}}],
}


def walk(cloud: Cloud, path: str, query: dict[str, str]) -> list[list[dict[str, Any]]]:
    """Every page of a listing, following `next` until there is none."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        status, _, body = cloud.api("GET", path, query=query | ({"cursor": cursor} if cursor else {}))
        assert status == 200, body
        pages.append(body["data"])
        cursor = body["next"]
        assert body.get("hasMore", cursor is not None) is (cursor is not None)
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor never ends"


def test_feed_of_100_messages_with_90_kb_payloads_pages_to_the_end_with_a_cursor(cloud: Cloud) -> None:
    assert cloud.api("POST", "/v1/workflows", INBOX)[0] == 201
    for start in range(0, 100, 10):
        events = [
            {"name": "big-inbox", "to": "ada", "payload": {"n": n, "blob": BIG}}
            for n in range(start, start + 10)
        ]
        status, _, body = cloud.api("POST", "/v1/events/trigger/bulk", {"events": events})
        assert status == 201 and {i["status"] for i in body["data"]} == {"processed"}, body
    cloud.drain()

    status, _, first = cloud.api("GET", "/v1/subscribers/ada/notifications/feed", query={"limit": "100"})
    assert status == 200
    assert len(first["data"]) > 11  # read past DynamoDB's 1 MB query page
    if len(first["data"]) < 100:  # a page is cut before the Lambda response limit, never silently
        assert first["hasMore"] is True and first["next"]

    pages = walk(cloud, "/v1/subscribers/ada/notifications/feed", {"limit": "100"})
    bodies = [m["content"]["body"] for page in pages for m in page]
    assert bodies == [f"#{n}" for n in reversed(range(100))]  # all of them, newest first, once each
    assert all(m["payload"]["blob"] == BIG for page in pages for m in page)

    by_subscriber = walk(cloud, "/v1/messages", {"subscriberId": "ada", "limit": "100"})
    assert sum(len(page) for page in by_subscriber) == 100


def test_messages_and_execution_details_of_a_transaction_page_with_a_cursor(cloud: Cloud) -> None:
    assert cloud.api("POST", "/v1/workflows", INBOX)[0] == 201
    recipients = [f"r{n:02}" for n in range(30)]
    body = cloud.api(
        "POST", "/v1/events/trigger", {"name": "big-inbox", "to": recipients, "payload": {"n": 1}}
    )[2]
    transaction_id = body["data"]["transactionId"]
    cloud.drain()

    pages = walk(cloud, "/v1/messages", {"transactionId": transaction_id, "limit": "7"})
    assert [len(page) for page in pages] == [7, 7, 7, 7, 2]
    assert sorted(m["subscriberId"] for page in pages for m in page) == recipients
    one = walk(cloud, "/v1/messages", {"transactionId": transaction_id, "subscriberId": "r07", "limit": "7"})
    assert [[m["subscriberId"] for m in page] for page in one] == [["r07"]]
    everyone = cloud.api("GET", "/v1/messages", query={"transactionId": transaction_id, "limit": "7"})[2]
    status, _, refused = cloud.api(  # a cursor of another listing is refused, not a 5xx
        "GET",
        "/v1/messages",
        query={"transactionId": transaction_id, "subscriberId": "r20", "cursor": everyone["next"]},
    )
    assert status == 400 and refused["errors"][0]["field"] == "cursor"

    details = walk(cloud, "/v1/execution-details", {"transactionId": transaction_id, "limit": "8"})
    assert [len(page) for page in details] == [8, 8, 8, 6]
    assert sorted(d["subscriberId"] for page in details for d in page) == recipients
    assert (
        cloud.api("GET", "/v1/execution-details", query={"transactionId": transaction_id, "cursor": "nope"})[
            0
        ]
        == 400
    )


def test_bulk_records_filtered_by_status_fill_each_page(cloud: Cloud) -> None:
    events = [{"name": "welcome" if n % 3 else "no-such-workflow", "to": f"u{n}"} for n in range(60)]
    status, headers, _ = cloud.api("POST", "/v1/events/trigger/bulk", {"events": events})
    assert status == 201
    cloud.drain()  # the accepted records' rows now sit between the refused ones
    assert len(walk(cloud, headers["Location"] + "/records", {"limit": "100"})[0]) == 60
    pages = walk(cloud, headers["Location"] + "/records", {"status": "error", "limit": "5"})
    assert [len(page) for page in pages] == [5, 5, 5, 5]  # 20 refused records, no short pages
    assert [r["index"] for page in pages for r in page] == list(range(0, 60, 3))


def test_subscribers_with_large_data_are_paged_not_cut_off(cloud: Cloud) -> None:
    for n in range(60):
        subscriber = {"subscriberId": f"big-{n:02}", "data": {"notes": BIG}}
        assert cloud.api("POST", "/v1/subscribers", subscriber)[0] == 201
    pages = walk(cloud, "/v1/subscribers", {"limit": "100"})
    assert len(pages) > 1  # 5.4 MB of subscribers do not fit one answer
    assert [s["subscriberId"] for page in pages for s in page] == [f"big-{n:02}" for n in range(60)]


# --- point 12: skipped and failed in-app steps are not feed items --------------------------------

GUARDED = {
    "workflowId": "guarded",
    "name": "Guarded",
    "steps": [
        {
            "stepId": "vip-inbox",
            "type": "in_app",
            "content": {"body": "For VIPs"},
            "conditions": [{"field": "subscriber.data.vip", "operator": "eq", "value": True}],
        }
    ],
}
BROKEN = {
    "workflowId": "broken",
    "name": "Broken",
    "steps": [
        {"stepId": "ratio", "type": "in_app", "content": {"body": "{{ 10 | divided_by: payload.zero }}"}}
    ],
}
FINE = {
    "workflowId": "fine",
    "name": "Fine",
    "steps": [{"stepId": "hello", "type": "in_app", "content": {"body": "Hello"}}],
}


def test_feed_shows_only_delivered_messages_and_the_others_stay_in_messages_and_details(cloud: Cloud) -> None:
    for workflow in (GUARDED, BROKEN, FINE):
        assert cloud.api("POST", "/v1/workflows", workflow)[0] == 201
    triggered = {
        name: cloud.api("POST", "/v1/events/trigger", {"name": name, "to": "eve", "payload": {"zero": 0}})[2][
            "data"
        ]["transactionId"]
        for name in ("guarded", "broken", "fine")
    }
    cloud.drain()

    feed = cloud.api("GET", "/v1/subscribers/eve/notifications/feed")[2]
    assert [m["content"]["body"] for m in feed["data"]] == ["Hello"]
    assert feed["next"] is None

    for name, status in (("guarded", "skipped"), ("broken", "failed"), ("fine", "sent")):
        transaction_id = triggered[name]
        (message,) = cloud.api("GET", "/v1/messages", query={"transactionId": transaction_id})[2]["data"]
        assert message["status"] == status
        (detail,) = cloud.api("GET", "/v1/execution-details", query={"transactionId": transaction_id})[2][
            "data"
        ]
        assert detail["status"] == status
        if status != "sent":
            assert detail["detail"]
    skipped_id = cloud.api("GET", "/v1/messages", query={"transactionId": triggered["guarded"]})[2]["data"][0]
    from clarion.store.messages import message_id

    hidden = message_id(skipped_id["transactionId"], skipped_id["stepId"])
    marked = cloud.api(
        "POST", "/v1/subscribers/eve/messages/mark-as", {"messageId": hidden, "mark": {"read": True}}
    )
    assert marked[0] == 404  # not a feed item, so it cannot be marked as one


def test_cursor_after_the_longest_non_ascii_ids_is_accepted_by_its_own_route(cloud: Cloud) -> None:
    names = [f"{n}" + "😀" * 255 for n in range(3)]  # 256 characters, the longest a subscriberId can be
    for name in names:
        assert cloud.api("POST", "/v1/subscribers", {"subscriberId": name})[0] == 201
    pages = walk(cloud, "/v1/subscribers", {"limit": "1"})
    assert [s["subscriberId"] for page in pages for s in page] == sorted(names)

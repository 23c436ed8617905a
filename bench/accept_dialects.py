"""AWS calls to accept a 100-record request in the dialects beyond Novu's (moto in-process); the
`dialects` section of `make bench` (Novu's own figure is the `accept` section's).

`accept_aws_calls_per_100_suprsend`: SuprSend's `POST /trigger/` with an array of 100 records,
second request (warm caches): the same intake as Novu's bulk.

`accept_aws_calls_per_100_altcraft`: Altcraft's `start_batch` of 100 `data` items matched by
email, second request (warm caches). Besides intake's calls (SendMessageBatch per 10, the bulk
header) it counts the matching reads: the triggerId pointer (GetItem) and two BatchGetItems per
100 values (the index entries, then the subscribers they name)."""

from __future__ import annotations

from typing import Any

from bench.accept_sequenzy import accept_aws_calls_per_100_sequenzy
from bench.aws_calls import _breakdown
from bench.cloud import API_KEY, mock_cloud
from bench.counting import Recorder
from bench.figures import Figure, Section

START_BATCH = "/api/v1.1/campaigns/triggers/start_batch"


def _start_batch(trigger_id: int, tag: str) -> dict[str, Any]:
    return {
        "token": API_KEY,
        "trigger_id": trigger_id,
        "content": {"message": f"bench {tag}"},
        "data": [{"email": f"bench-{i}@example.com"} for i in range(100)],
    }


def accept_aws_calls_per_100_altcraft() -> Figure:
    recorder = Recorder()
    with mock_cloud(recorder) as cloud:
        subscribers = [{"subscriberId": f"bench-{i}", "email": f"bench-{i}@example.com"} for i in range(100)]
        status, _, _ = cloud.api("POST", "/v1/subscribers/bulk", {"subscribers": subscribers})
        assert status in (200, 201), status
        trigger_id = cloud.api("GET", "/v1/workflows/welcome")[2]["data"]["triggerId"]
        cloud.api("POST", START_BATCH, _start_batch(trigger_id, "cold"), key=None)
        mark = recorder.mark()
        status, _, body = cloud.api("POST", START_BATCH, _start_batch(trigger_id, "warm"), key=None)
        warm = recorder.since(mark).of("ApiFunction")
    matched = sum(1 for item in (body or {}).get("result", []) if "profile_id" in item)
    breakdown: dict[str, float] = {}
    for call in warm:
        breakdown[call.name] = breakdown.get(call.name, 0) + 1
    return Figure(
        "accept_aws_calls_per_100_altcraft",
        len(warm),
        "calls",
        "<= 14",
        f"AWS calls of the ApiFunction for one 100-item Altcraft start_batch matched by email "
        f"(warm caches; {matched} of 100 matched, HTTP {status}): intake's goal of 12 plus the "
        "two BatchGetItems of the matching (index entries, then the subscribers they name)",
        breakdown=breakdown,
    )


def accept_aws_calls_per_100_suprsend() -> Figure:
    recorder = Recorder()
    with mock_cloud(recorder) as cloud:
        for tag in ("cold", "warm"):
            records = [
                {"workflow": "welcome", "recipients": [f"bench-{tag}-{i}"], "data": {"n": i}}
                for i in range(100)
            ]
            mark = recorder.mark()
            status, _, body = cloud.api("POST", "/trigger/", records)
            calls = recorder.since(mark).of("ApiFunction")
    accepted = sum(1 for r in (body or {}).get("records", []) if r.get("status") == "success")
    return Figure(
        "accept_aws_calls_per_100_suprsend",
        len(calls),
        "calls",
        "<= 12",
        f"AWS calls of the ApiFunction for one 100-record SuprSend bulk (POST /trigger/, HTTP {status}, "
        f"{accepted} of 100 accepted), second request (warm caches)",
        breakdown=_breakdown(calls),
    )


def dialects_section() -> Section:
    section = Section("dialects", "ApiFunction: AWS calls to accept 100 records in each other dialect")
    section.figures += [
        accept_aws_calls_per_100_suprsend(),
        accept_aws_calls_per_100_altcraft(),
        accept_aws_calls_per_100_sequenzy(),
    ]
    section.notes.append(
        "Sequenzy's request also finds or creates its subscriber, defines new event names and "
        "records its events once per eventId, which the other dialects do not: one BatchGetItem "
        "(subscriber, email entry, definitions) and one TransactWriteItems per 100 events (the "
        "request's activity item, the eventId claims, new definitions); and its eventIds give "
        "transactionIds derived from them, which intake claims in one TransactWriteItems (so a "
        "request that died before sending is started by its retry, once)."
    )
    return section


if __name__ == "__main__":
    for figure in dialects_section().figures:
        print(figure.name, figure.value, figure.breakdown, figure.what)

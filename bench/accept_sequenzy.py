"""`accept_aws_calls_per_100_sequenzy`: the ApiFunction's AWS calls for one Sequenzy request of
100 events (`POST /api/v1/subscribers/events/bulk`), counted on moto in-process like
`accept_aws_calls_per_100` (bench.aws_calls).

The request is what a client tracking one known subscriber sends: its email, 100 events with
their own eventIds, each naming the seeded workflow `welcome` (so each starts it), with warm
caches (a first request of the same shape ran before; its subscriber and definition exist).
Run alone: `python -m bench.accept_sequenzy`."""

from __future__ import annotations

import json
from typing import Any

from bench.aws_calls import _breakdown
from bench.cloud import mock_cloud
from bench.counting import Recorder
from bench.figures import Figure

PATH = "/api/v1/subscribers/events/bulk"


def sequenzy_request(tag: str, size: int = 100) -> dict[str, Any]:
    return {
        "email": "bench-reader@example.com",
        "firstName": "Bench",
        "events": [
            {"name": "welcome", "eventId": f"{tag}-{i:03d}", "properties": {"message": f"event {i}"}}
            for i in range(size)
        ],
    }


def accept_aws_calls_per_100_sequenzy() -> Figure:
    recorder = Recorder()
    notes: list[str] = []
    with mock_cloud(recorder) as cloud:
        for tag in ("cold", "warm"):
            mark = recorder.mark()
            status, _, body = cloud.api("POST", PATH, raw_body=json.dumps(sequenzy_request(tag)))
            calls = recorder.since(mark).of("ApiFunction")
            queued = sum(
                1
                for e in (body or {}).get("events", [])
                for w in e.get("workflows", [])
                if w["status"] == "queued"
            )
            if status != 200 or queued != 100:
                notes.append(f"{tag}: answered {status}, {queued} of 100 workflows queued: {str(body)[:200]}")
    figure = Figure(
        "accept_aws_calls_per_100_sequenzy",
        len(calls),
        "calls",
        "<= 12",
        "AWS calls of the ApiFunction for one 100-event Sequenzy request (POST "
        "/api/v1/subscribers/events/bulk, one known subscriber by email, 100 eventIds each starting "
        "`welcome`), second request (warm caches)" + (f"; NOTE: {'; '.join(notes)}" if notes else ""),
        breakdown=_breakdown(calls),
    )
    return figure


if __name__ == "__main__":
    result = accept_aws_calls_per_100_sequenzy()
    print(f"{result.name}: {result.value} {result.unit} (goal {result.goal})")
    for name, count in result.breakdown.items():
        print(f"  {name}: {count:g}")

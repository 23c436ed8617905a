"""`make load`: sustained bulk traffic against the local stack over loopback, from this process
(the stack runs in its own processes), for a bounded time at a bounded rate.

Reports accepted records per second, p50/p99 accept latency, the queues' depth over time, and
whether every accepted record reached a final state afterwards.

    python -m bench.load [--seconds 60] [--bulks-per-second 4] [--senders 2]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.cloud import novu_bulk
from bench.local_stack import DONE, Stack


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)] if ordered else float("nan")


def queue_depths(stack: Stack) -> dict[str, int]:
    import boto3

    sqs = boto3.client(
        "sqs",
        endpoint_url=f"http://127.0.0.1:{stack.emulator_port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    depths = {}
    for name in ("TriggerQueue", "ResultsQueue", "TriggerDLQ"):
        url = sqs.get_queue_url(QueueName=f"clarion-{name}")["QueueUrl"]
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depths[name] = int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )
    return depths


def run(seconds: float, bulks_per_second: float, senders: int, size: int = 100) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="clarion-load-") as directory:
        stack = Stack(Path(directory))
        try:
            return _load(stack, seconds, bulks_per_second, senders, size)
        finally:
            stack.stop()


def _load(stack: Stack, seconds: float, bulks_per_second: float, senders: int, size: int) -> dict[str, Any]:
    latencies: list[float] = []
    locations: list[str] = []
    refused: dict[int, int] = {}
    lock = threading.Lock()
    started = time.monotonic()
    interval = senders / bulks_per_second  # each sender's pace; together: bulks_per_second

    def sender(number: int) -> None:
        sent = 0
        while (now := time.monotonic()) - started < seconds:
            before = time.perf_counter()
            answer = stack.call(
                "POST",
                "/v1/events/trigger/bulk",
                json=novu_bulk("welcome", size, f"load{number}-{sent}", f"load{number % 4}"),
            )
            elapsed = time.perf_counter() - before
            with lock:
                if answer.status_code == 201:
                    latencies.append(elapsed)
                    locations.append(answer.headers["Location"])
                else:
                    refused[answer.status_code] = refused.get(answer.status_code, 0) + 1
            sent += 1
            time.sleep(max(0.0, now + interval - time.monotonic()))

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    depths: list[tuple[float, dict[str, int]]] = []
    while any(thread.is_alive() for thread in threads):
        depths.append((time.monotonic() - started, queue_depths(stack)))
        time.sleep(2)
    for thread in threads:
        thread.join()
    load_seconds = time.monotonic() - started

    final: dict[str, str] = {}
    deadline = time.monotonic() + max(120.0, seconds * 2)
    while len(final) < len(locations) and time.monotonic() < deadline:
        for location in locations:
            if location not in final:
                status = stack.call("GET", location).json()["data"]["status"]
                if status in DONE:
                    final[location] = status
        depths.append((time.monotonic() - started, queue_depths(stack)))
        time.sleep(1)
    drained_seconds = time.monotonic() - started
    accepted = len(locations) * size
    return {
        "load_seconds": round(load_seconds, 1),
        "load_accepted_records_per_s": round(accepted / load_seconds, 1),
        "load_accept_p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "load_accept_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "load_bulks_accepted": len(locations),
        "load_bulks_refused": sum(refused.values()),
        "load_records_final": sum(size for _ in final),
        "load_records_not_final": accepted - size * len(final),
        "load_all_final": int(len(final) == len(locations)),
        "load_drained_after_s": round(drained_seconds, 1),
        "load_dlq_depth": depths[-1][1]["TriggerDLQ"] if depths else 0,
        "_depths": depths,
        "_refused": refused,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--bulks-per-second", type=float, default=2)
    parser.add_argument("--senders", type=int, default=2)
    options = parser.parse_args()
    figures = run(options.seconds, options.bulks_per_second, options.senders)
    for name, value in figures.items():
        if not name.startswith("_"):
            print(f"{name} {value}")
    if figures["_refused"]:
        print(f"# refused answers by status: {figures['_refused']}")
    print("# queue depth over time (s: TriggerQueue / ResultsQueue / TriggerDLQ)")
    for at, depth in figures["_depths"]:
        print(
            f"#  {at:6.1f}s  {depth['TriggerQueue']:6d} {depth['ResultsQueue']:6d} {depth['TriggerDLQ']:4d}"
        )


if __name__ == "__main__":
    main()

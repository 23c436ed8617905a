"""How cost grows with the work: bulks of 1, 10 and 100 events, a topic of 100, 1,000 and 10,000
members, a broadcast to 10,000 subscribers and a digest of 1,000 events, each in its own fresh
account on moto in-process (bench/cloud.py), recipients seeded directly with BatchWriteItem.

Per case: AWS calls and write units of the three functions per notification sent, the worker's
peak memory (tracemalloc, traced only inside WorkerFunction invocations and measured from the
invocation's start) and wall time per 1,000 notifications. Every case starts with a warm-up event
(caches warm, as in a busy container) that is not counted."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.aws_calls import E2E_WORKFLOW, FUNCTIONS, _set_up_email
from bench.cloud import BULK_PATH, MockCloud, mock_cloud, novu_bulk
from bench.cost import aws_seconds
from bench.counting import Recorder, Window
from bench.figures import Figure, Section, fmt

ENVIRONMENT = "development"
DIGEST_WINDOW = 5  # seconds; the engine's clock is held still while the events arrive
TRACE_EVERY = 3  # tracemalloc roughly doubles an invocation's time: trace one invocation in three
# Topics and broadcasts run a one-step in-app workflow (on moto a notification costs ~20 ms of
# emulator time; 20,000 of them would take this bench past its budget); bulks run the e2e one.
IN_APP_WORKFLOW: dict[str, Any] = {
    "workflowId": "bench-in-app",
    "name": "Bench: in-app",
    "steps": [{"stepId": "inbox", "type": "in_app", "content": E2E_WORKFLOW["steps"][0]["content"]}],
}


@dataclass
class Measured:
    """One case's counted window and what it delivered."""

    case: str
    events: int
    window: Window
    notifications: int
    wall_seconds: float
    worker_peak_bytes: int
    worker_invocations: int
    traced_invocations: int
    workflow: str
    earlier: list[Any] = field(default_factory=list)  # calls before the measured window (set-up, warm-up)
    notes: list[str] = field(default_factory=list)

    @property
    def calls(self) -> list[Any]:
        return self.window.of(*FUNCTIONS)

    def per_notification(self, value: float) -> float:
        return value / max(self.notifications, 1)


class TracedCloud(MockCloud):
    """MockCloud whose WorkerFunction invocations are traced by tracemalloc (peak per invocation)."""

    def __init__(self, recorder: Recorder, parameters: dict[str, str] | None = None) -> None:
        super().__init__(recorder, parameters)
        self.worker_peak = 0
        self.worker_invocations = 0
        self.traced_invocations = 0
        self.trace = False

    @contextmanager
    def _traced(self, function: str) -> Iterator[None]:
        with self.recorder.invocation(function):
            if function == "WorkerFunction" and self.trace:
                self.worker_invocations += 1
            if not self.trace or function != "WorkerFunction" or self.worker_invocations % TRACE_EVERY != 1:
                yield
                return
            tracemalloc.start()
            try:
                start = tracemalloc.get_traced_memory()[0]
                yield
            finally:
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                self.worker_peak = max(self.worker_peak, peak - start)
                self.traced_invocations += 1

    def invocation(self, function: str) -> Any:
        return self._traced(function)


@contextmanager
def traced_cloud(recorder: Recorder, parameters: dict[str, str] | None = None) -> Iterator[TracedCloud]:
    import bench.cloud as cloud_module

    original = cloud_module.MockCloud
    cloud_module.MockCloud = TracedCloud  # type: ignore[misc]
    try:
        with mock_cloud(recorder, parameters=parameters) as cloud:
            assert isinstance(cloud, TracedCloud)
            yield cloud
    finally:
        cloud_module.MockCloud = original  # type: ignore[misc]


# --- seeding ------------------------------------------------------------------------------------


def profile(prefix: str, i: int) -> dict[str, Any]:
    """A subscriber as novu_bulk's inline profile gives it (so a bulk changes nothing stored)."""
    return {
        "subscriberId": f"{prefix}-{i:03d}",
        "firstName": f"First{i}",
        "lastName": "Bench",
        "email": f"{prefix}-{i:03d}@example.com",
    }


def seed_subscribers(cloud: MockCloud, prefix: str, count: int) -> list[str]:
    from clarion import aws
    from clarion.clock import now_iso
    from clarion.config import settings
    from clarion.store import batches, items, keys

    now = now_iso()
    with cloud.configured_as("ApiFunction"):
        docs = [profile(prefix, i) | {"createdAt": now, "updatedAt": now} for i in range(count)]
        batches.write(
            aws.dynamodb(),
            settings().table_name,
            [
                {
                    "PutRequest": {
                        "Item": items.item(
                            keys.subscriber(ENVIRONMENT, d["subscriberId"]),
                            d,
                            gsi1pk=keys.subscriber_list(ENVIRONMENT),
                            gsi1sk=d["subscriberId"],
                        )
                    }
                }
                for d in docs
            ],
        )
    return [d["subscriberId"] for d in docs]


def seed_topic(cloud: MockCloud, topic_key: str, members: list[str]) -> None:
    from clarion.clock import now_iso
    from clarion.store import topics

    with cloud.configured_as("ApiFunction"):
        topics.create(ENVIRONMENT, topic_key, topic_key, now_iso())
        topics.add_members(ENVIRONMENT, topic_key, members)


# --- cases --------------------------------------------------------------------------------------


def _answered(answer: tuple[int, dict[str, str], Any], notes: list[str], what: str) -> None:
    if answer[0] not in (200, 201):
        notes.append(f"{what}: answered {answer[0]}: {str(answer[2])[:200]}")


def _measure(
    case: str,
    events: int,
    expected: int,
    prepare: Callable[[TracedCloud], None],
    run: Callable[[TracedCloud], None],
    workflow: dict[str, Any] = E2E_WORKFLOW,
    label: str | None = None,
    worker_batch: int | None = None,
) -> Measured:
    recorder = Recorder()
    notes: list[str] = []
    with traced_cloud(recorder, worker_batch_parameters(worker_batch)) as cloud:
        _answered(cloud.api("POST", "/v1/workflows", workflow), notes, f"{case}: workflow")
        _set_up_email(cloud, notes)
        prepare(cloud)
        # Warm-up: one event to a seeded subscriber, so caches are warm and modules loaded.
        _answered(
            cloud.api("POST", BULK_PATH, {"events": [{"name": workflow["workflowId"], "to": "warm-000"}]}),
            notes,
            f"{case}: warm-up",
        )
        cloud.drain()
        before = _delivered(cloud)
        cloud.trace = True
        mark = recorder.mark()
        started = time.perf_counter()
        run(cloud)
        cloud.drain()
        wall = time.perf_counter() - started
        window = recorder.since(mark)
        cloud.trace = False
        sent = _delivered(cloud) - before
    if sent != expected:
        notes.append(f"{case}: {sent} notifications sent, {expected} expected")
    return Measured(
        case,
        events,
        window,
        sent,
        wall,
        cloud.worker_peak,
        cloud.worker_invocations,
        cloud.traced_invocations,
        label or str(workflow["workflowId"]),
        recorder.calls[: mark[0]],
        notes,
    )


def _delivered(cloud: MockCloud) -> int:
    """Step items in status `sent` (in-app messages and emails SES accepted), read with a Scan the
    bench makes outside any function (not counted). Parts of a topic or a broadcast report no
    outcome to the ResultsFunction, so notifications are counted from what was stored."""
    import boto3
    from boto3.dynamodb.conditions import Attr

    with cloud.configured_as("WorkerFunction"):
        from clarion.config import settings

        table = boto3.resource("dynamodb", region_name="us-east-1").Table(settings().table_name)
    condition = Attr("sk").begins_with("MSG#") & Attr("status").eq("sent")
    count, start = 0, None
    while True:
        page = table.scan(
            FilterExpression=condition, Select="COUNT", **({"ExclusiveStartKey": start} if start else {})
        )
        count += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return count


def worker_batch_parameters(worker_batch: int | None) -> dict[str, str] | None:
    """The template parameters that give the WorkerFunction batches of `worker_batch` records
    (SQS takes more than 10 only with a batching window); None: the template's defaults."""
    if worker_batch is None:
        return None
    return {"WorkerBatchSize": str(worker_batch), "WorkerBatchingWindow": "1" if worker_batch > 10 else "0"}


def bulk_case(size: int, known: bool = True, worker_batch: int | None = None) -> Measured:
    """A bulk of `size` events to known subscribers (or, `known=False`, first contact: every
    subscriber created from its inline profile); the worker's batches as the template's
    defaults make them, or of `worker_batch` records."""

    def prepare(cloud: TracedCloud) -> None:
        if known:
            seed_subscribers(cloud, "sub", size)
        seed_subscribers(cloud, "warm", 1)

    def run(cloud: TracedCloud) -> None:
        answer = cloud.api("POST", BULK_PATH, novu_bulk(str(E2E_WORKFLOW["workflowId"]), size=size, tag="g"))
        _answered(answer, [], "bulk")

    name = f"bulk_{size}" + ("" if known else "_first_contact")
    if worker_batch is not None:
        name += f"_worker_batch_{worker_batch}"
    return _measure(name, size, 2 * size, prepare, run, worker_batch=worker_batch)


def single_triggers_case(requests: int, worker_batch: int | None = None) -> Measured:
    """`requests` single triggers (bulks of 1) to known subscribers, all accepted before the
    worker runs, so its batches fill as they do under a steady load."""

    def prepare(cloud: TracedCloud) -> None:
        seed_subscribers(cloud, "sub", requests)
        seed_subscribers(cloud, "warm", 1)

    def run(cloud: TracedCloud) -> None:
        for event in novu_bulk(str(E2E_WORKFLOW["workflowId"]), size=requests, tag="s")["events"]:
            _answered(cloud.api("POST", BULK_PATH, {"events": [event]}), [], "single trigger")

    name = f"single_{requests}" + (f"_worker_batch_{worker_batch}" if worker_batch else "")
    return _measure(name, requests, 2 * requests, prepare, run, worker_batch=worker_batch)


def topic_case(members: int) -> Measured:
    def prepare(cloud: TracedCloud) -> None:
        seed_topic(cloud, "growth", seed_subscribers(cloud, "member", members))
        seed_subscribers(cloud, "warm", 1)

    def run(cloud: TracedCloud) -> None:
        event = {"name": IN_APP_WORKFLOW["workflowId"], "to": [{"type": "Topic", "topicKey": "growth"}]}
        _answered(cloud.api("POST", "/v1/events/trigger", event), [], "topic")

    return _measure(f"topic_{members}", 1, members, prepare, run, IN_APP_WORKFLOW)


def broadcast_case(subscribers: int) -> Measured:
    def prepare(cloud: TracedCloud) -> None:
        seed_subscribers(cloud, "everyone", subscribers - 1)
        seed_subscribers(cloud, "warm", 1)  # one of the environment's subscribers too

    def run(cloud: TracedCloud) -> None:
        body = {"name": IN_APP_WORKFLOW["workflowId"], "payload": {"message": "to all", "order": {"id": "b"}}}
        _answered(cloud.api("POST", "/v1/events/trigger/broadcast", body), [], "broadcast")

    return _measure(f"broadcast_{subscribers}", 1, subscribers, prepare, run, IN_APP_WORKFLOW)


def digest_case(events: int) -> Measured:
    """`events` events to one subscriber inside one window, then the window's single digest.
    Clarion's and moto SQS's clocks are held still while the events arrive (tests.controlled_clock),
    then moved past the window's end, which makes its continuation due; nothing sleeps."""
    from tests.controlled_clock import controlled_clock

    workflow = {
        "workflowId": "bench-digest",
        "name": "Bench: digest",
        "steps": [
            {"stepId": "collect", "type": "digest", "content": {"amount": DIGEST_WINDOW, "unit": "seconds"}},
            {
                "stepId": "inbox",
                "type": "in_app",
                "content": {"body": "{{ step.digest.count }} new, last: {{ payload.message }}"},
            },
        ],
    }

    def prepare(cloud: TracedCloud) -> None:
        seed_subscribers(cloud, "reader", 1)
        seed_subscribers(cloud, "warm", 1)
        cloud.api("POST", "/v1/workflows", workflow)

    def run(cloud: TracedCloud) -> None:
        window_start = (int(time.time()) // DIGEST_WINDOW + 1) * DIGEST_WINDOW
        with controlled_clock(window_start + 0.05) as clock:
            for start in range(0, events, 100):
                bulk = {
                    "events": [
                        {"name": "bench-digest", "to": "reader-000", "payload": {"message": f"event {i}"}}
                        for i in range(start, min(start + 100, events))
                    ]
                }
                _answered(cloud.api("POST", BULK_PATH, bulk), [], "digest bulk")
                cloud.drain()
            clock.advance(DIGEST_WINDOW + 1)  # the window has ended; its continuation is due
            cloud.drain()

    return _measure(f"digest_{events}", events, 1, prepare, run, label="bench-digest")


CASES: tuple[tuple[str, Callable[[], Measured]], ...] = (
    ("bulk_1", lambda: bulk_case(1)),
    ("bulk_10", lambda: bulk_case(10)),
    ("bulk_100", lambda: bulk_case(100)),
    ("topic_100", lambda: topic_case(100)),
    ("topic_1000", lambda: topic_case(1000)),
    ("topic_10000", lambda: topic_case(10_000)),
    ("broadcast_10000", lambda: broadcast_case(10_000)),
    ("digest_1000", lambda: digest_case(1000)),
)

MEASURED: dict[str, Measured] = {}  # for the scaling model, which runs after this section


def growth_section() -> Section:
    section = Section("growth", "Cost growth: calls, write units, worker memory and time as the work grows")
    rows = [
        "| case | workflow | events | notifications | calls / notification | WRU / notification "
        "| RRU / notification | worker peak MB | worker invocations (traced) | wall s / 1,000 notifications "
        "| Lambda s / 1,000 (modelled) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, run in CASES:
        try:
            measured = run()
        except Exception as error:  # one case failing leaves the others' figures
            section.notes.append(f"growth: {name} failed: {type(error).__name__}: {error}")
            continue
        MEASURED[name] = measured
        section.notes += measured.notes
        calls = measured.calls
        per = measured.per_notification
        wru, rru = Window.wru(measured.window.calls), Window.rru(measured.window.calls)
        peak_mb = measured.worker_peak_bytes / 2**20
        lambda_ms = sum(aws_seconds(i) for i in measured.window.invocations) * 1000
        thousand = 1000 / max(measured.notifications, 1)
        section.figures += [
            Figure(
                f"calls_per_notification_{name}",
                per(len(calls)),
                "calls",
                None,
                f"{name}: AWS calls per notification",
            ),
            Figure(
                f"wru_per_notification_{name}", per(wru), "WRU", None, f"{name}: write units per notification"
            ),
            Figure(f"worker_peak_mb_{name}", peak_mb, "MB", None, f"{name}: worker peak traced memory"),
            Figure(
                f"wall_s_per_1000_notifications_{name}",
                measured.wall_seconds * thousand,
                "s",
                None,
                f"{name}: wall time on moto in-process per 1,000 notifications",
            ),
        ]
        rows.append(
            f"| {name} | `{measured.workflow}` | {measured.events} | {measured.notifications} "
            f"| {fmt(per(len(calls)))} | {fmt(per(wru))} | {fmt(per(rru))} | {fmt(peak_mb)} "
            f"| {measured.worker_invocations} ({measured.traced_invocations}) "
            f"| {fmt(measured.wall_seconds * thousand)} | {fmt(lambda_ms * thousand / 1000)} |"
        )
        print(f"#   growth {rows[-1]}", flush=True, file=__import__("sys").stderr)
    section.details += [
        "Bulks run the end-to-end two-step workflow (in_app + email, `bench-two-steps`); topics and the "
        "broadcast a one-step in-app workflow (`bench-in-app`: on moto each notification costs about 20 ms "
        "of emulator time, and 20,000 would take the bench past its budget); the digest a digest + in_app "
        f"workflow with a {DIGEST_WINDOW} s window, every event to one subscriber (one notification). Calls "
        "and units are the three functions' (the event source mappings' receives and deletes are not "
        "counted), after a warm-up event; worker peak memory is tracemalloc's peak inside one "
        f"WorkerFunction invocation, over one in {TRACE_EVERY} of the case's invocations (tracemalloc "
        "doubles an invocation's time; moto's own allocations during the invocation are included); wall "
        "time is in-process on moto, from the trigger until both queues are empty; Lambda seconds are the "
        "invocations' durations modelled for AWS as in the cost figures.",
        "",
        *rows,
    ]
    return section

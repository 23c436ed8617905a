"""AWS calls, DynamoDB units and cost, counted on moto in-process (mock_aws)."""

from __future__ import annotations

from typing import Any

from bench.cloud import BULK_PATH, MockCloud, mock_cloud, novu_bulk
from bench.cost import DELIVERY_COMPONENTS, aws_seconds, usd_per_million
from bench.counting import DYNAMODB_WRITES, Call, Recorder, Window
from bench.figures import Figure, Section, fmt

FUNCTIONS = ("ApiFunction", "WorkerFunction", "ResultsFunction")

# The workflow the per-notification figures are measured with: their goals are stated for one
# in_app step and one email step (SES, through an active `ses` integration whose sender domain is
# verified in moto). To measure another shape, change E2E_STEPS (in_app and email are set up);
# the output says so whenever it differs from E2E_TARGET_STEPS.
E2E_TARGET_STEPS = ("in_app", "email")
E2E_STEPS: tuple[str, ...] = E2E_TARGET_STEPS
SES_INTEGRATION = {
    "providerId": "ses",
    "channel": "email",
    "active": True,
    "credentials": {"from": "notifications@example.com", "senderName": "Clarion bench"},
}

_CONTENT = {
    "in_app": {
        "subject": "Hi {{ subscriber.firstName | default: 'friend' }}",
        "body": "{{ payload.message }} (order {{ payload.order.id }})",
    },
    "email": {
        "subject": "Your order {{ payload.order.id }}",
        "body": "<p>Hello {{ subscriber.firstName }},</p><p>{{ payload.message }}</p>",
    },
}
E2E_WORKFLOW: dict[str, Any] = {
    "workflowId": "bench-two-steps",
    "name": "Bench: two steps",
    "steps": [
        {"stepId": f"step{i}-{kind}", "type": kind, "content": _CONTENT[kind]}
        for i, kind in enumerate(E2E_STEPS, start=1)
    ],
}


def _check_bulk(answer: tuple[int, dict[str, str], Any], expected: int, notes: list[str], what: str) -> None:
    status, _, body = answer
    if status != 201:
        notes.append(f"{what}: the bulk answered {status}: {str(body)[:200]}")
        return
    processed = sum(1 for item in body.get("data", []) if item.get("status") == "processed")
    if processed != expected:
        notes.append(f"{what}: {processed} of {expected} events were processed")


def _breakdown(calls: list[Call], per: float = 1.0, prefix: bool = False) -> dict[str, float]:
    counts: dict[str, float] = {}
    for call in calls:
        name = f"{call.scope}.{call.name}" if prefix else call.name
        if call.error:  # a failed call (a conditional write that lost) is shown apart
            name += f"[{call.error}]"
        counts[name] = counts.get(name, 0) + 1 / per
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def _wru_breakdown(calls: list[Call], per: float) -> dict[str, float]:
    units: dict[str, float] = {}
    for call in calls:
        if call.wru:
            name = f"{call.scope}.{call.name}"
            units[name] = units.get(name, 0) + call.wru / per
    return dict(sorted(units.items(), key=lambda item: -item[1]))


def _table(rows: dict[str, float], header: tuple[str, str]) -> list[str]:
    lines = [f"| {header[0]} | {header[1]} |", "|---|---:|"]
    lines += [f"| `{name}` | {fmt(value)} |" for name, value in rows.items()]
    return lines


# --- accept ---------------------------------------------------------------------------------


def accept_section() -> Section:
    section = Section("accept", "ApiFunction: AWS calls to accept a 100-event bulk")
    recorder = Recorder()
    with mock_cloud(recorder) as cloud:
        mark = recorder.mark()
        _check_bulk(cloud.api("POST", BULK_PATH, novu_bulk("welcome", tag="a")), 100, section.notes, "accept")
        cold = recorder.since(mark).of("ApiFunction")
        mark = recorder.mark()
        _check_bulk(cloud.api("POST", BULK_PATH, novu_bulk("welcome", tag="b")), 100, section.notes, "accept")
        warm = recorder.since(mark).of("ApiFunction")
    section.figures += [
        Figure(
            "accept_aws_calls_per_100",
            len(warm),
            "calls",
            "<= 12",
            "AWS calls of the ApiFunction for one 100-event Novu bulk (POST /v1/events/trigger/bulk, "
            "workflow `welcome`), second bulk (warm caches)",
            breakdown=_breakdown(warm),
        ),
        Figure(
            "accept_aws_calls_per_100_cold",
            len(cold),
            "calls",
            None,
            "the same for the first bulk of a fresh container (API key and workflow not cached yet)",
            breakdown=_breakdown(cold),
        ),
        Figure(
            "accept_wru_per_100",
            Window.wru(warm),
            "WRU",
            None,
            "DynamoDB write units of the ApiFunction for that warm bulk",
            breakdown=_wru_breakdown(warm, 1),
        ),
    ]
    section.details += [
        "Calls of the warm 100-event bulk, by operation:",
        "",
        *_table(_breakdown(warm), ("operation", "calls")),
        "",
        "Calls of the first (cold) bulk:",
        "",
        *_table(_breakdown(cold), ("operation", "calls")),
    ]
    return section


# --- results ----------------------------------------------------------------------------------


def _results_batch(cloud: MockCloud, recorder: Recorder, bulks: int, notes: list[str]) -> list[Call]:
    """`bulks` bulks adding up to 100 records run through the worker; their 100 outcomes, one batch."""
    for b in range(bulks):
        answer = cloud.api("POST", BULK_PATH, novu_bulk("welcome", size=100 // bulks, tag=f"r{bulks}-{b}"))
        _check_bulk(answer, 100 // bulks, notes, f"results ({bulks} bulks)")
    while cloud.deliver("WorkerFunction"):
        pass
    messages = cloud.receive("ResultsQueue", 100)
    if len(messages) != 100:
        notes.append(f"results ({bulks} bulks): {len(messages)} outcomes on the ResultsQueue, not 100")
    mark = recorder.mark()
    cloud.deliver_batch("ResultsFunction", messages)
    calls = recorder.since(mark).of("ResultsFunction")
    cloud.drain()
    return calls


def results_section() -> Section:
    section = Section("results", "ResultsFunction: DynamoDB writes for a batch of 100 outcomes")
    recorder = Recorder()
    with mock_cloud(recorder) as cloud:
        one = _results_batch(cloud, recorder, 1, section.notes)
        five = _results_batch(cloud, recorder, 5, section.notes)
    for suffix, calls, what in (
        ("", one, "all for one bulk"),
        ("_5_bulks", five, "spread over 5 bulks of 20"),
    ):
        writes = [c for c in calls if c.service == "dynamodb" and c.operation in DYNAMODB_WRITES]
        section.figures += [
            Figure(
                f"results_writes_per_100_outcomes{suffix}",
                len(writes),
                "calls",
                None,
                f"DynamoDB write calls of one ResultsFunction batch of 100 outcomes, {what}",
                breakdown=_breakdown(writes),
            ),
            Figure(
                f"results_wru_per_100_outcomes{suffix}",
                Window.wru(writes),
                "WRU",
                None,
                f"their write units, {what}",
            ),
        ]
        others = [c for c in calls if c not in writes]
        if others:
            section.notes.append(
                f"results{suffix}: also made {len(others)} other calls: {_breakdown(others)}"
            )
        section.details += [
            f"One batch of 100 outcomes, {what}:",
            "",
            *_table(
                {c: n for c, n in _breakdown(calls).items()} | {"write units (WRU)": Window.wru(writes)},
                ("operation", "calls"),
            ),
            "",
        ]
    return section


# --- end to end -----------------------------------------------------------------------------


def _set_up_email(cloud: MockCloud, notes: list[str]) -> None:
    """An active SES integration, and its sender's domain verified (moto refuses others)."""
    import boto3

    sender = str(SES_INTEGRATION["credentials"]["from"])  # type: ignore[index]
    boto3.client("sesv2", region_name="us-east-1").create_email_identity(
        EmailIdentity=sender.split("@", 1)[1]
    )
    status, _, body = cloud.api("POST", "/v1/integrations", SES_INTEGRATION)
    if status not in (200, 201):
        notes.append(f"e2e: creating the SES integration answered {status}: {str(body)[:200]}")


def _sent(outcomes: list[dict[str, Any]]) -> int:
    return sum(1 for o in outcomes for step in o.get("steps", []) if step.get("status") == "sent")


def _run_bulk(cloud: MockCloud, recorder: Recorder, tag: str, notes: list[str]) -> tuple[Window, int, str]:
    mark, seen = recorder.mark(), len(cloud.outcomes)
    answer = cloud.api("POST", BULK_PATH, novu_bulk(str(E2E_WORKFLOW["workflowId"]), tag=tag))
    _check_bulk(answer, 100, notes, f"e2e bulk {tag}")
    cloud.drain()
    window = recorder.since(mark)
    return window, _sent(cloud.outcomes[seen:]), answer[1].get("Location", "")


def e2e_section(memory_mb: dict[str, int] | None = None) -> Section:
    section = Section("e2e", "End to end: API + worker + results, per notification")
    if E2E_STEPS != E2E_TARGET_STEPS:
        section.notes.append(
            f"e2e figures use a workflow of steps {'+'.join(E2E_STEPS)}, not the goal's "
            f"{'+'.join(E2E_TARGET_STEPS)} (E2E_STEPS in bench/aws_calls.py)"
        )
    recorder = Recorder()
    with mock_cloud(recorder) as cloud:
        memory_mb = memory_mb or {name: f.memory for name, f in cloud.functions.items()}
        status, _, body = cloud.api("POST", "/v1/workflows", E2E_WORKFLOW)
        if status not in (200, 201):
            section.notes.append(f"e2e: creating the workflow answered {status}: {str(body)[:200]}")
        if "email" in E2E_STEPS:
            _set_up_email(cloud, section.notes)
        first, first_sent, _ = _run_bulk(cloud, recorder, "first", section.notes)
        steady, sent, location = _run_bulk(cloud, recorder, "steady", section.notes)
        view = (cloud.api("GET", location)[2] or {}).get("data", {}) if location else {}
        if view.get("status") != "completed":
            section.notes.append(f"e2e: the measured bulk ended {view.get('status')!r}: {view.get('counts')}")
    expected = 100 * len(E2E_STEPS)
    if sent != expected:
        section.notes.append(f"e2e: {sent} notifications sent, {expected} expected")
    per = max(sent, 1)
    calls = steady.of(*FUNCTIONS)
    esm = [c for c in steady.calls if c.scope.startswith("esm:")]
    first_calls = first.of(*FUNCTIONS)
    section.figures += [
        Figure(
            "e2e_aws_calls_per_notification",
            len(calls) / per,
            "calls",
            "<= 3",
            f"AWS calls of the API, worker and results functions for a 100-event bulk of the "
            f"{'+'.join(E2E_STEPS)} workflow (known subscribers, warm caches), per notification sent",
            breakdown=_breakdown(calls, per, prefix=True),
        ),
        Figure(
            "wcu_per_notification",
            Window.wru(steady.calls) / per,
            "WRU",
            "<= 3",
            "DynamoDB write units (computed from item sizes) for the same bulk, per notification",
            breakdown=_wru_breakdown(steady.calls, per),
        ),
        Figure(
            "e2e_rru_per_notification",
            Window.rru(steady.calls) / per,
            "RRU",
            None,
            "DynamoDB read units for the same bulk, per notification",
        ),
        Figure(
            "e2e_esm_sqs_calls_per_notification",
            len(esm) / per,
            "calls",
            None,
            "SQS calls the event source mappings make (receive, delete) for the same bulk, per notification",
        ),
        Figure(
            "e2e_aws_calls_per_notification_first_contact",
            len(first_calls) / max(first_sent, 1),
            "calls",
            None,
            "the first bulk: subscribers unknown yet (created from the inline profiles), caches cold",
        ),
        Figure(
            "wcu_per_notification_first_contact",
            Window.wru(first.calls) / max(first_sent, 1),
            "WRU",
            None,
            "write units of that first bulk, per notification",
        ),
    ]
    usd = usd_per_million(steady, memory_mb, sent)
    delivery = {k: usd.pop(k) for k in DELIVERY_COMPONENTS if k in usd}
    section.figures += [
        Figure(
            "usd_per_million_notifications",
            sum(usd.values()) if usd else None,
            "USD",
            None,
            "list price of Lambda (requests, GB-s), API Gateway, SQS and DynamoDB for the same bulk, "
            "per million notifications",
            breakdown=dict(usd),
        ),
        Figure(
            "usd_per_million_notifications_with_providers",
            sum(usd.values()) + sum(delivery.values()) if usd else None,
            "USD",
            None,
            "the same plus what the providers charge for delivering (SES: per email sent)",
            breakdown=delivery,
        ),
    ]
    usd |= delivery
    mine = {f: [i for i in steady.invocations if i.function == f] for f in FUNCTIONS}
    section.details += [
        f"Workflow `{E2E_WORKFLOW['workflowId']}`: steps {', '.join(E2E_STEPS)}; "
        f"{sent} notifications from 100 events.",
        "",
        "Calls per notification, by function and operation (steady state):",
        "",
        *_table(_breakdown(calls, per, prefix=True), ("function.operation", "calls / notification")),
        "",
        "Write units per notification, by function and operation:",
        "",
        *_table(_wru_breakdown(steady.calls, per), ("function.operation", "WRU / notification")),
        "",
        "Invocations behind the cost figure: in-process time on moto, of which inside moto, and the "
        "duration modelled for AWS (without moto's time, plus `AWS_LATENCY_MS` per call):",
        "",
        "| function | invocations | ms on moto | of which moto | ms modelled for AWS | memory MB |",
        "|---|---:|---:|---:|---:|---:|",
        *[
            f"| {f} | {len(mine[f])} | {sum(i.seconds for i in mine[f]) * 1000:.0f} "
            f"| {sum(i.emulator_seconds for i in mine[f]) * 1000:.0f} "
            f"| {sum(aws_seconds(i) for i in mine[f]) * 1000:.0f} | {memory_mb.get(f, 0)} |"
            for f in FUNCTIONS
        ],
        "",
        "Cost per million notifications, by component (USD):",
        "",
        *_table(usd, ("component", "USD / million")),
    ]
    return section

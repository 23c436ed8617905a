"""Scale on paper, from measured figures: docs/SCALING.md.

The model takes what the growth cases measured on moto (write and read units per event and per
notification, the units written on every single key, the functions' durations modelled for AWS
as in the cost figures) and the AWS default quotas below, and computes for one environment and
for one account the sustained events/s each limit allows, which binds first, and what 10x (60,000
events/s) needs. Every key written on the hot path is listed with its writes per second at the
target, so a hot key shows. Nothing here is measured against AWS: it is arithmetic on measured
counts, and its assumptions are written next to it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bench.cloud import ROOT
from bench.cost import aws_seconds
from bench.figures import Figure, Section, fmt
from bench.growth import MEASURED, Measured, bulk_case, single_triggers_case, topic_case

DOC = ROOT / "docs" / "SCALING.md"
TARGET = 6_000  # events/s per environment (Novu's Enterprise ceiling)
TARGET_10X = 60_000
PARTITION_WCU = 1_000  # per partition key, per second
PARTITION_RCU = 3_000

# AWS defaults (us-east-1; Service Quotas), and the template's own settings.
QUOTAS = {
    "lambda_concurrency": 1_000,  # per account and region
    "sqs_esm_max_concurrency": 1_250,  # most concurrent invocations one SQS event source scales to
    "api_gateway_account_rps": 10_000,  # per account and region, REST APIs
    "dynamodb_table_wcu": 40_000,  # on-demand: per-table maximum write throughput (default)
    "dynamodb_table_rcu": 40_000,
}
TEMPLATE = {
    "api_stage_rps": 1_000,  # template.yaml MethodSettings ThrottlingRateLimit
    "api_reserved_concurrency": 100,  # ApiReservedConcurrency
    "worker_max_concurrency": 50,  # WorkerMaxConcurrency (at most 1,000)
    "results_max_concurrency": 5,  # ResultsMaxConcurrency
    "worker_batch": 10,
    "results_batch": 100,
    "trigger_queues": 1,  # TriggerQueues: each queue has its own worker event source
}


@dataclass
class Shape:
    """One way the load arrives, from one measured case."""

    name: str
    what: str
    measured: Measured
    events_per_request: int
    # the same load measured with the worker's batch at RAISED["worker_batch"] (for the 10x line)
    at_most: Measured | None = None

    @property
    def events(self) -> int:
        return self.measured.events

    @property
    def notifications_per_event(self) -> float:
        return self.measured.notifications / max(self.events, 1)

    def seconds_per_event(self, function: str, at_most: bool = False) -> float:
        """Modelled Lambda seconds of `function` per event (concurrency = rate x this); with
        `at_most`, as measured with the worker's batch at its most (if that was measured)."""
        measured = (self.at_most if at_most else None) or self.measured
        spent = sum(aws_seconds(i) for i in measured.window.invocations if i.function == function)
        return spent / max(measured.events, 1)

    def units_per_event(self, kind: str) -> float:
        calls = self.measured.window.calls
        return sum(getattr(c, kind) for c in calls) / max(self.events, 1)


# The part of a key naming a shard follows one of these: the rate bucket's (RATE#<n>), the
# subscriber listing's (gsi1: SUBS#<n>), a transaction's claims' (TX#<id>#M#<n>).
_SHARDED_BY = ("RATE", "SUBS", "M")


def _by_subscriber_shard(per_key: dict[str, float]) -> dict[str, float]:
    """Keys sharded by a hash of the subscriber id (store.keys.shard) as their shards' mean: the
    shards take equal shares of what is written to all of them (a measured case writes too few
    subscribers for its busiest shard to show the share), so one takes total / SHARDS."""
    from clarion.store import keys

    merged: dict[str, float] = {}
    for pk, units in per_key.items():
        head, _, tail = pk.rpartition("#")
        if tail.isdigit() and head.rpartition("#")[2] in ("SUBS", "M"):
            pk, units = f"{head}#0", units / keys.SHARDS  # every shard's share: shard 0 stands for all
        merged[pk] = merged.get(pk, 0.0) + units
    return merged


def _shape_of(key: str) -> str:
    """A key with its ids taken out: ENV#<env>#TX#<id>; a GSI's as `gsi1: ENV#<env>#FEED#<id>`."""
    prefix = ""
    if key.startswith("index:"):
        name, _, key = key[len("index:") :].partition("#")
        prefix = f"{name}: "
    parts = key.split("#")
    shaped = []
    for i, part in enumerate(parts):
        if i > 0 and parts[i - 1] == "ENV":
            shaped.append("<env>")
        elif part.isalpha() and part.isupper():
            shaped.append(part)
        elif part.isdigit() and i > 0 and parts[i - 1] in _SHARDED_BY:
            shaped.append("<shard>")
        else:
            shaped.append("<id>")
    return prefix + "#".join(shaped)


@dataclass
class HotKey:
    shape: str  # partition key shape
    case: str
    wru_on_one_key: float  # in the measured window, on the most written key of this shape
    shared: bool  # the same key was written by other triggers too (it scales with the rate)
    per: str  # "event" or "notification": what its rate follows
    rate_at_target: float = 0.0
    rate_at_10x: float = 0.0
    rate_at_target_unsharded: float | None = None
    per_event: float = 0.0  # units on this key per event, when its rate follows the events'
    follows_rate: bool = True  # False: a bulk's own key, bounded by the bulk, not by the rate


def hot_keys(shapes: list[Shape], seconds_per_unit: dict[str, float]) -> list[HotKey]:
    """Per shape of partition key, the most written single key of each case, and its WCU/s at the
    target. A key other triggers write too (the rate-limit bucket) follows the environment's rate;
    a key of one trigger's own (its transaction's partition, its bulk) follows the rate only as far
    as that one trigger can carry it: a fan-out is the whole load (notifications/s), a bulk's keys
    are written within the time one worker invocation takes."""
    from clarion.store import rate_buckets

    found: dict[str, HotKey] = {}
    for shape in shapes:
        measured = shape.measured
        earlier = set(_by_subscriber_shard({pk: 0.0 for c in measured.earlier for pk, _, _ in c.keyed_units}))
        per_key: dict[str, float] = {}
        buckets: set[str] = set()
        for call in measured.window.calls:
            for pk, sk, units in call.keyed_units:
                per_key[pk] = per_key.get(pk, 0.0) + units
                if sk == "RATE":
                    buckets.add(pk)
        per_key = _by_subscriber_shard(per_key)
        fan_out = shape.events_per_request == 1 and measured.notifications > 10 * max(measured.events, 1)
        for pk, units in per_key.items():
            key_shape = _shape_of(pk)
            # written by other triggers too, or environment-wide by its shape (no id of a trigger or
            # recipient in it: the subscriber listing's gsi1 partition, the rate bucket)
            shared = pk in earlier or "<id>" not in key_shape
            if shared and not fan_out:
                per_event = units / max(measured.events, 1)
                rate, rate_10x, per = per_event * TARGET, per_event * TARGET_10X, "event"
            elif fan_out:  # a recipient's own keys too: one write per notification to them
                per_notification = units / max(measured.notifications, 1)
                npe = 1.0  # a fan-out's notifications are the environment's whole notification rate
                rate, rate_10x = per_notification * TARGET * npe, per_notification * TARGET_10X * npe
                per = "notification"
            else:
                per_event = units / max(measured.events, 1)
                cap = units / max(seconds_per_unit.get(shape.name, 0.0), 1e-3)
                rate, rate_10x = min(per_event * TARGET, cap), min(per_event * TARGET_10X, cap)
                per = "event (one bulk's keys: capped by one invocation's time)"
            unsharded = None
            per_event = units / max(measured.events, 1)
            if pk in buckets:
                # the environment's bucket: S shards at the rate it is configured for
                key_shape += " (rate bucket)"
                unsharded = rate
                rate /= rate_buckets.shards_for(TARGET, 2 * TARGET)
                rate_10x /= rate_buckets.shards_for(TARGET_10X, 2 * TARGET_10X)
                per_event /= rate_buckets.shards_for(TARGET_10X, 2 * TARGET_10X)
            follows = shared or fan_out
            hot = HotKey(
                key_shape, shape.name, units, shared, per, rate, rate_10x, unsharded, per_event, follows
            )
            current = found.get(f"{key_shape}|{shape.name}")
            if current is None or current.rate_at_target < hot.rate_at_target:
                found[f"{key_shape}|{shape.name}"] = hot
    return sorted(found.values(), key=lambda h: -h.rate_at_10x)


@dataclass
class Limit:
    name: str
    scope: str  # environment | account
    events_per_s: float
    raise_to: str  # what 10x needs


RAISED = {  # 10x the account quotas (a Service Quotas request each); template parameters at their max
    "lambda_concurrency": 10_000,
    "api_gateway_account_rps": 100_000,
    "dynamodb_table_wcu": 400_000,
    "dynamodb_table_rcu": 400_000,
    "worker_max_concurrency": 1_000,  # the template parameter's MaxValue (and the event source's)
    "results_max_concurrency": 1_000,  # ResultsMaxConcurrency's MaxValue
    "worker_batch": 100,  # WorkerBatchSize (with WorkerBatchingWindow 1 s): measured at this size
    "trigger_queues": 4,  # TriggerQueues' most: four worker event sources of 1,000 each
}


def raised_limits(shape: Shape, worst_key_per_event: float) -> list[Limit]:
    """The same limits with the quotas raised 10x and the template's parameters at their max."""
    epr = shape.events_per_request
    worker_s = shape.seconds_per_event("WorkerFunction", at_most=True)
    results_s = shape.seconds_per_event("ResultsFunction", at_most=True)
    per_event = sum(
        shape.seconds_per_event(f, at_most=True) for f in ("ApiFunction", "WorkerFunction", "ResultsFunction")
    )
    return [
        Limit(
            "API Gateway account throttle (raised to 100,000 requests/s)",
            "account",
            RAISED["api_gateway_account_rps"] * epr,
            "",
        ),
        Limit(
            f"Worker event sources at their most ({RAISED['trigger_queues']} trigger queues x 1,000 concurrent)",
            "environment",
            RAISED["trigger_queues"] * RAISED["worker_max_concurrency"] / max(worker_s, 1e-9),
            "",
        ),
        Limit(
            "Results event source at its most (1,000 concurrent)",
            "environment",
            RAISED["results_max_concurrency"] / max(results_s, 1e-9),
            "",
        ),
        Limit(
            "Lambda concurrency (raised to 10,000)",
            "account",
            RAISED["lambda_concurrency"] / max(per_event, 1e-9),
            "",
        ),
        Limit(
            "DynamoDB table writes (raised to 400,000 WRU/s)",
            "account",
            RAISED["dynamodb_table_wcu"] / max(shape.units_per_event("wru"), 1e-9),
            "",
        ),
        Limit(
            "DynamoDB table reads (raised to 400,000 RRU/s)",
            "account",
            RAISED["dynamodb_table_rcu"] / max(shape.units_per_event("rru"), 1e-9),
            "",
        ),
        Limit(
            "hottest key (1,000 WCU/s a partition)",
            "environment",
            PARTITION_WCU / max(worst_key_per_event, 1e-9),
            "",
        ),
    ]


def limits(shape: Shape, worst_key_per_event: float) -> list[Limit]:
    epr = shape.events_per_request
    api_s = shape.seconds_per_event("ApiFunction")  # per event
    worker_s = shape.seconds_per_event("WorkerFunction")
    results_s = shape.seconds_per_event("ResultsFunction")
    wcu = shape.units_per_event("wru")
    rcu = shape.units_per_event("rru")
    lambda_per_event = api_s + worker_s + results_s
    need = {
        "lambda": TARGET_10X * lambda_per_event,
        "api": TARGET_10X / epr,
        "wcu": TARGET_10X * wcu,
        "rcu": TARGET_10X * rcu,
    }
    out = [
        Limit(
            "API Gateway account throttle (10,000 requests/s)",
            "account",
            QUOTAS["api_gateway_account_rps"] * epr,
            f"{fmt(need['api'])} requests/s",
        ),
        Limit(
            "API stage throttle (template: 1,000 requests/s)",
            "environment",
            TEMPLATE["api_stage_rps"] * epr,
            f"ThrottlingRateLimit {fmt(need['api'])}",
        ),
        Limit(
            "ApiFunction reserved concurrency (template: 100)",
            "environment",
            TEMPLATE["api_reserved_concurrency"] / max(api_s, 1e-9),
            f"ApiReservedConcurrency {math.ceil(TARGET_10X * api_s)}",
        ),
        Limit(
            "Worker event source MaximumConcurrency (template: 50)",
            "environment",
            TEMPLATE["worker_max_concurrency"] / max(worker_s, 1e-9),
            f"WorkerMaxConcurrency x TriggerQueues {math.ceil(TARGET_10X * worker_s)} (template parameters: "
            f"1,000 at most a queue, TriggerQueues {math.ceil(TARGET_10X * worker_s / 1000)})",
        ),
        Limit(
            "SQS event source scaling (1,250 concurrent at most)",
            "environment",
            QUOTAS["sqs_esm_max_concurrency"] / max(worker_s, 1e-9),
            f"{math.ceil(TARGET_10X * worker_s)} concurrent workers (TriggerQueues: one event source each)",
        ),
        Limit(
            "Results event source MaximumConcurrency (template: 5)",
            "environment",
            TEMPLATE["results_max_concurrency"] / max(results_s, 1e-9),
            f"ResultsMaxConcurrency {math.ceil(TARGET_10X * results_s)}",
        ),
        Limit(
            "Lambda concurrency (account: 1,000)",
            "account",
            QUOTAS["lambda_concurrency"] / max(lambda_per_event, 1e-9),
            f"{math.ceil(need['lambda'])} concurrent executions (quota raise)",
        ),
        Limit(
            "DynamoDB on-demand table writes (40,000 WRU/s)",
            "account",
            QUOTAS["dynamodb_table_wcu"] / max(wcu, 1e-9),
            f"{fmt(need['wcu'])} WRU/s (quota raise)",
        ),
        Limit(
            "DynamoDB on-demand table reads (40,000 RRU/s)",
            "account",
            QUOTAS["dynamodb_table_rcu"] / max(rcu, 1e-9),
            f"{fmt(need['rcu'])} RRU/s",
        ),
        Limit(
            "hottest key (1,000 WCU/s a partition)",
            "environment",
            PARTITION_WCU / max(worst_key_per_event, 1e-9),
            "no key over 1,000 WCU/s: a code change, not a quota",
        ),
    ]
    return out


def _shapes() -> list[Shape]:
    def case(name: str, run: Any) -> Measured:
        if name not in MEASURED:
            MEASURED[name] = run()
        return MEASURED[name]

    most = RAISED["worker_batch"]
    shapes = [
        Shape(
            "bulks of 100",
            "bulks of 100 events (two-step workflow, known subscribers)",
            case("bulk_100", lambda: bulk_case(100)),
            100,
            case(f"bulk_100_worker_batch_{most}", lambda: bulk_case(100, worker_batch=most)),
        ),
        Shape(
            "single triggers",
            "one event a request (bulks of 1, two-step workflow)",
            case("bulk_1", lambda: bulk_case(1)),
            1,
            case(f"single_100_worker_batch_{most}", lambda: single_triggers_case(100, worker_batch=most)),
        ),
        Shape(
            "first contact",
            "bulks of 100 to subscribers not seen before (created from inline profiles)",
            case("bulk_100_first_contact", lambda: bulk_case(100, known=False)),
            100,
        ),
    ]
    fan_out = (
        MEASURED.get("broadcast_10000")
        or MEASURED.get("topic_10000")
        or case("topic_1000", lambda: topic_case(1000))
    )
    shapes.append(Shape("fan-out", f"one trigger to many ({fan_out.case}, in-app workflow)", fan_out, 1))
    return shapes


def scaling_section() -> Section:
    section = Section("scaling", "Scale on paper: limits per environment and account (docs/SCALING.md)")
    shapes = _shapes()
    seconds_per_unit = {
        s.name: max(
            (aws_seconds(i) for i in s.measured.window.invocations if i.function == "WorkerFunction"),
            default=0.0,
        )
        for s in shapes
    }
    keys = hot_keys(shapes, seconds_per_unit)
    lines = [
        "# Scaling",
        "",
        "Generated by `make bench` (`bench/scaling.py`) from the figures measured in the same run; do not",
        "edit by hand. It is arithmetic on measured counts (calls, write and read units per event and per key,",
        "Lambda durations modelled as in PERFORMANCE.md's cost figures) and AWS's default quotas; nothing in",
        "it was measured on AWS.",
        "",
        f"Target: {TARGET:,} events/s sustained per environment; {TARGET_10X:,}/s with quota raises and no code change.",
        "",
        "## Quotas and settings the model uses",
        "",
        "| quota or setting | value |",
        "|---|---:|",
        *[f"| `{k}` | {v:,} |" for k, v in (QUOTAS | TEMPLATE).items()],
        f"| per partition key | {PARTITION_WCU:,} WCU/s, {PARTITION_RCU:,} RCU/s |",
        "",
    ]
    figures: list[Figure] = []
    for shape in shapes:
        mine = [k for k in keys if k.case == shape.name]
        worst = max((k.per_event for k in mine if k.follows_rate), default=0.0)
        if any(not k.follows_rate and k.rate_at_target > PARTITION_WCU for k in mine):
            worst = math.inf  # a bulk's own key over the limit, whatever the rate
        table = limits(shape, worst)
        env = min(table, key=lambda x: x.events_per_s)
        aws_only = [x for x in table if "template" not in x.name]
        at_quotas = min(aws_only, key=lambda x: x.events_per_s)
        npe = shape.notifications_per_event
        lines += [
            f"## {shape.name}: {shape.what}",
            "",
            f"Measured per event: {fmt(shape.units_per_event('wru'))} WRU, {fmt(shape.units_per_event('rru'))} RRU, "
            f"{fmt(npe)} notifications; modelled Lambda seconds per event: ApiFunction "
            f"{fmt(shape.seconds_per_event('ApiFunction'))}, WorkerFunction {fmt(shape.seconds_per_event('WorkerFunction'))}, "
            f"ResultsFunction {fmt(shape.seconds_per_event('ResultsFunction'))}.",
            "",
            "| limit | scope | events/s it allows | notifications/s | for 60,000 events/s |",
            "|---|---|---:|---:|---|",
            *[
                f"| {lim.name} | {lim.scope} | {fmt(lim.events_per_s)} | {fmt(lim.events_per_s * npe)} | {lim.raise_to} |"
                for lim in sorted(table, key=lambda x: x.events_per_s)
            ],
            "",
            f"Binds first with the template's defaults: **{env.name}** ({fmt(env.events_per_s)} events/s); "
            f"with the template's parameters raised (no code change) at AWS default quotas: "
            f"**{at_quotas.name}** ({fmt(at_quotas.events_per_s)} events/s, "
            f"{fmt(at_quotas.events_per_s * npe)} notifications/s).",
            "",
        ]
        raised = min(raised_limits(shape, worst), key=lambda x: x.events_per_s)
        batch_note = ""
        if shape.at_most is not None:
            batch_note = (
                f" (TriggerQueues {RAISED['trigger_queues']}, WorkerBatchSize {RAISED['worker_batch']}, "
                f"measured: {shape.at_most.case}, WorkerFunction "
                f"{fmt(shape.seconds_per_event('WorkerFunction', at_most=True))} s an event, ResultsFunction "
                f"{fmt(shape.seconds_per_event('ResultsFunction', at_most=True))})"
            )
        lines += [
            f"At 10x, with the account quotas raised 10x and the template's parameters at their most"
            f"{batch_note}: **{raised.name}** binds at {fmt(raised.events_per_s)} events/s "
            f"({fmt(raised.events_per_s * npe)} notifications/s)"
            + (
                f"; {TARGET_10X:,} events/s is reached."
                if raised.events_per_s >= TARGET_10X
                else f"; {TARGET_10X:,} events/s is not reached without a code change."
            ),
            "",
        ]
        slug = shape.name.replace(" ", "_").replace("-", "_")
        figures += [
            Figure(
                f"sustained_events_per_s_10x_{slug}",
                raised.events_per_s,
                "/s",
                None,
                f"{shape.what}: events/s with the account quotas raised 10x and the template's parameters at "
                f"their most (binds: {raised.name})",
            ),
            Figure(
                f"sustained_events_per_s_{slug}",
                at_quotas.events_per_s,
                "/s",
                None,
                f"{shape.what}: sustained events/s per environment at AWS default quotas (binds: {at_quotas.name})",
            ),
        ]
        if shape.name == "bulks of 100":
            figures.insert(
                0,
                Figure(
                    "sustained_events_per_s_per_environment",
                    at_quotas.events_per_s,
                    "/s",
                    f">= {TARGET}",
                    f"bulks of 100, two-step workflow: the sustained events/s of one environment at AWS default "
                    f"quotas, template parameters sized for it (docs/SCALING.md; binds: {at_quotas.name})",
                ),
            )
            figures.append(
                Figure(
                    "sustained_notifications_per_s_per_environment",
                    at_quotas.events_per_s * npe,
                    "/s",
                    None,
                    "the same in notifications/s",
                )
            )
            figures.append(
                Figure(
                    "sustained_events_per_s_10x_quotas",
                    raised.events_per_s,
                    "/s",
                    f">= {TARGET_10X}",
                    f"bulks of 100 with the account quotas raised 10x and the template's parameters at "
                    f"their most, the worker's seconds an event measured at WorkerBatchSize "
                    f"{RAISED['worker_batch']} (binds: {raised.name})",
                )
            )
    worst_10x = max((k.rate_at_10x for k in keys), default=0.0)
    lines += [
        "## Every key written on the hot path",
        "",
        "Per partition key shape and case: write units on the most written key of that shape in the measured "
        "window, whether other triggers write the same key (then it follows the environment's rate), and its "
        f"WCU/s at {TARGET:,} and at {TARGET_10X:,} events/s. A trigger's own keys follow the rate only as far "
        "as that trigger carries it: a fan-out's transaction partition takes the whole notification rate; a "
        "bulk's keys are written within the time one worker invocation takes. The rate-limit bucket is sharded "
        "(store/rate_buckets.py) at the rate the environment is configured for; its unsharded rate is shown too. "
        "The subscriber listing (gsi1 SUBS#<shard>) and a transaction's claims (TX#<id>#M#<shard>) are sharded by a "
        "hash of the subscriber id (store/keys.py, SHARDS partitions): a shard takes an equal share of what is "
        "written to them all, so its row is their total / SHARDS.",
        "",
        "| partition key | case | WRU on one key | shared | follows | WCU/s at 6,000 | at 60,000 | unsharded at 6,000 |",
        "|---|---|---:|---|---|---:|---:|---:|",
        *[
            f"| `{k.shape}` | {k.case} | {fmt(k.wru_on_one_key)} | {'yes' if k.shared else 'no'} | {k.per} "
            f"| {fmt(k.rate_at_target)}{' **hot**' if k.rate_at_target > PARTITION_WCU else ''} "
            f"| {fmt(k.rate_at_10x)}{' **hot**' if k.rate_at_10x > PARTITION_WCU else ''} "
            f"| {fmt(k.rate_at_target_unsharded) if k.rate_at_target_unsharded is not None else ''} |"
            for k in keys
        ],
        "",
    ]
    figures.append(
        Figure(
            "hot_key_wcu_at_60000_events_per_s",
            worst_10x,
            "WCU/s",
            f"<= {PARTITION_WCU}",
            "the most written single partition key at 60,000 events/s, over every case",
        )
    )
    section.figures += figures
    DOC.write_text("\n".join(lines))
    section.details += [f"Written to docs/SCALING.md ({len(keys)} keys, {len(shapes)} load shapes)."]
    return section

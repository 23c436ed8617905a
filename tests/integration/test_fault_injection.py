"""N notifications through API -> worker -> results while AWS throttles and fails, the worker is
killed between a provider's answer and its record, and SQS duplicates and reorders messages.

At the end: every record is in a terminal state (an outcome row, or in a DLQ), no message was
sent twice (SES sends and in-app items, per subscriber), none was lost (every notification the
client sent is delivered, or reported failed or refused with a reason, or in a DLQ), the status
endpoint's counts are exact, and the DLQ holds only records that exhausted their retries, for
their own sake (hot keys), not a neighbour's. See tests/faults.py for where each fault is
injected. An API answer of 5xx after records were enqueued is reported, not failed on: the
client retries it with the same Idempotency-Key, and the outcome checks say whether that
converged (each record once, reported as what happened to it).

Knobs (environment): CLARION_FAULT_NOTIFICATIONS (1000), CLARION_FAULT_RATE (0.1, per attempt
of every AWS call), CLARION_FAULT_MAX_ATTEMPTS (2, botocore's attempts), CLARION_FAULT_KILL_RATE
(0.02 of provider answers), CLARION_FAULT_DUPLICATE_RATE (0.05 of processed SQS messages),
CLARION_FAULT_HOT_KEYS (notifications whose subscriber's partition is always throttled; N/400),
CLARION_FAULT_SEED (7), CLARION_FAULT_OWN_IDS (1: the client names its transactionIds),
CLARION_FAULT_FUNCTIONS (the functions that see AWS faults; all three), CLARION_FAULT_REPORT
(a path: the figures as JSON, and a traceback per error type). The large size:

    CLARION_FAULT_NOTIFICATIONS=10000 pytest -s tests/integration/test_fault_injection.py -k end_terminal
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from clarion import aws
from clarion.api import idempotency
from clarion.engine import delivery as engine_delivery
from clarion.model.packed import records_of
from clarion.observability import metrics
from clarion.store import batches, environments, items
from clarion_cli import moto_patches
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.faults import AwsFaults, EventSourceMapping, Scripted, WorkerKill
from tests.integration import conftest
from tests.integration.conftest import Cloud
from tests.workflows import email, in_app, workflow

N = int(os.environ.get("CLARION_FAULT_NOTIFICATIONS", "1000"))
RATE = float(os.environ.get("CLARION_FAULT_RATE", "0.1"))
MAX_ATTEMPTS = int(os.environ.get("CLARION_FAULT_MAX_ATTEMPTS", "2"))
KILL_RATE = float(os.environ.get("CLARION_FAULT_KILL_RATE", "0.02"))
DUPLICATE_RATE = float(os.environ.get("CLARION_FAULT_DUPLICATE_RATE", "0.05"))
HOT_KEYS = int(os.environ.get("CLARION_FAULT_HOT_KEYS", str(max(1, N // 400))))
SEED = int(os.environ.get("CLARION_FAULT_SEED", "7"))
OWN_IDS = os.environ.get("CLARION_FAULT_OWN_IDS", "1") == "1"
FUNCTIONS = frozenset(
    os.environ.get("CLARION_FAULT_FUNCTIONS", "ApiFunction,WorkerFunction,ResultsFunction").split(",")
)

BULK = 100
MAX_RECEIVES = 5  # template.yaml: maxReceiveCount of both queues
CLIENT_ATTEMPTS = 30
ENV = "development"

WORKFLOW = workflow(
    "receipt",
    in_app("inbox", "Paid {{ payload.amount }}"),
    email("mail", "Receipt", "Paid {{ payload.amount }}"),
)


def subscriber_id(n: int, hot: set[int]) -> str:
    return f"hot{n:06d}" if n in hot else f"s{n:06d}"


def email_of(subscriber: str) -> str:
    return f"{subscriber}@example.com"


@dataclass
class Client:
    """What a careful Novu client does. Every bulk carries an Idempotency-Key and every event the
    client's own transactionId (one per notification; CLARION_FAULT_OWN_IDS=0 leaves them to
    Clarion). A 5xx, 409 or 429 answer (or a function error, which API Gateway answers with 502)
    is retried with the same body and the same key until a 201. A notification is counted once,
    from the 201's answer item at its position.
    """

    cloud: Cloud
    faults: AwsFaults
    verdicts: dict[int, dict[str, Any]] = field(default_factory=dict)  # notification -> answer item
    bulk_of: dict[int, str] = field(default_factory=dict)  # notification -> bulkId of the 201
    answers: Counter[int] = field(default_factory=Counter)  # status codes seen, retries included
    retries: int = 0
    in_progress_waits: int = 0
    failed_after_enqueuing: list[str] = field(default_factory=list)  # a refusal that was not one

    def submit(self, key: str, numbers: list[int], events: list[dict[str, Any]]) -> str:
        body = json.dumps({"events": events})
        for attempt in range(CLIENT_ATTEMPTS):
            before = self.queued()
            surfaced = dict(self.faults.surfaced_at)
            try:
                with self.faults.inside("ApiFunction"):
                    status, headers, answer = self.cloud.api(
                        "POST", "/v1/events/trigger/bulk", raw_body=body, headers={"Idempotency-Key": key}
                    )
            except Exception:  # the function failed: API Gateway answers 502
                status, headers, answer = 502, {}, None
            self.answers[status] += 1
            if status == 201:
                bulk_id = headers["Location"].rsplit("/", 1)[1]
                assert len(answer["data"]) == len(events)
                for n, event, item in zip(numbers, events, answer["data"], strict=True):
                    assert item["transactionId"] == event.get("transactionId", item["transactionId"])
                    self.verdicts[n] = item
                    self.bulk_of[n] = bulk_id
                return bulk_id
            assert status in (409, 429) or status >= 500, (status, answer)
            if status >= 500 and (enqueued := self.queued() - before):
                at = [op for op, count in self.faults.surfaced_at.items() if count > surfaced.get(op, 0)]
                self.failed_after_enqueuing.append(
                    f"{key} attempt {attempt + 1}: {status} after enqueuing {enqueued} records "
                    f"(surfaced fault at {', '.join(at) or 'unknown'})"
                )
            self.retries += 1
            if status == 409:  # a retry overtook a request still in progress (Retry-After)
                self.in_progress_waits += 1
                time.sleep(float(headers.get("Retry-After", "1")))
        raise AssertionError(f"bulk {key} was never accepted after {CLIENT_ATTEMPTS} attempts")

    def queued(self) -> int:
        """Messages on the TriggerQueue (nothing else runs while the API does)."""
        attributes = self.cloud.sqs.get_queue_attributes(
            QueueUrl=self.cloud.queue_url("TriggerQueue"),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())


@contextmanager
def timed(phases: dict[str, float], name: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    phases[name] = round(time.monotonic() - started, 1)


def scan(cloud: Cloud) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in cloud.dynamodb.get_paginator("scan").paginate(
        TableName=cloud.template.physical_name("ClarionTable")
    ):
        found += page["Items"]
    return found


def drain_queue(cloud: Cloud, logical_id: str) -> list[dict[str, Any]]:
    """Every message of a (dead-letter) queue, removed."""
    url = cloud.queue_url(logical_id)
    found: list[dict[str, Any]] = []
    while got := cloud.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
        "Messages", []
    ):
        found += got
        cloud.sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)],
        )
    return found


@pytest.fixture(autouse=True)
def _forget_faulty_clients() -> Iterator[None]:
    """Clients created behind the faults (Powertools' idempotency store's too) die with the test."""
    yield
    aws.reset_clients()
    idempotency._runner.cache_clear()


def prepare(cloud: Cloud) -> None:
    """The receipt workflow, SES as the email provider, and a rate limit the run cannot hit."""
    with cloud.configured_as("WorkerFunction"):
        aws.sesv2().create_email_identity(EmailIdentity="clarion.example")
    integration = {"providerId": "ses", "channel": "email", "credentials": {"from": "hi@clarion.example"}}
    assert cloud.api("POST", "/v1/integrations", integration)[0] == 201
    assert cloud.api("POST", "/v1/workflows", WORKFLOW)[0] == 201
    with cloud.configured_as("ApiFunction"):
        environments.set_rate_limit(ENV, environments.RateLimit(per_second=1_000_000, burst=1_000_000))


def install(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, faults: AwsFaults, kill: WorkerKill | None = None
) -> Callable[[str, dict[str, Any]], Any]:
    """Faults in place, clients recreated behind them; returns how the harness invokes a function."""
    # moto's costs that grow with the table, made linear
    moto_patches.install(moto_patches.LARGE_TABLES, monkeypatch.setattr)
    faults.install(monkeypatch)
    if kill:
        kill.install(monkeypatch)
    monkeypatch.setattr(engine_delivery, "BACKOFF_SECONDS", 0.0)  # Clarion's own provider retries: not slept
    monkeypatch.setattr(batches, "_BACKOFF_SECONDS", 0.0)  # nor its resending of unprocessed entries
    # An in-progress idempotency record whose cleanup failed expires in 2 s, not 30.
    monkeypatch.setattr(conftest.Context, "get_remaining_time_in_millis", lambda self: 2_000)
    aws.reset_clients()
    idempotency._runner.cache_clear()

    def invoke(function: str, event: dict[str, Any]) -> Any:
        try:
            with faults.inside(function):
                return cloud.invoke(function, event)
        finally:
            # With POWERTOOLS_METRICS_DISABLED, log_metrics never clears what handlers added; at
            # 100 values Powertools serialises them and fails ("Must contain a metric namespace").
            metrics.clear_metrics()

    return invoke


def event_source_mapping(
    cloud: Cloud,
    invoke: Callable[[str, dict[str, Any]], Any],
    function: str,
    queue: str,
    batch_size: int,
    window: int,
    rng: random.Random,
    duplicate_rate: float,
) -> EventSourceMapping:
    return EventSourceMapping(
        invoke,
        cloud.sqs,
        function,
        cloud.queue_url(queue),
        cloud.template.get_att(queue, "Arn"),
        batch_size,
        rng,
        duplicate_rate,
        window,
    )


def run_until_idle(*mappings: EventSourceMapping, limit: int) -> None:
    """Poll every mapping until all their queues stay empty for two rounds."""
    idle = rounds = 0
    while idle < 2:
        rounds += 1
        assert rounds < limit, "the queues never drained"
        idle = idle + 1 if sum(m.poll() for m in mappings) == 0 else 0


@pytest.mark.timeout(300 + N // 10)
def test_notifications_under_faults_end_terminal_with_no_duplicate_and_none_lost(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    phases: dict[str, float] = {}
    rng = random.Random(SEED)
    # Given: a two-step workflow (in-app, email through SES) and room for the whole run
    prepare(cloud)

    # ... and faults everywhere
    hot = set(rng.sample(range(N), min(HOT_KEYS, N)))
    faults = AwsFaults(
        RATE,
        random.Random(SEED + 1),
        MAX_ATTEMPTS,
        functions=FUNCTIONS,
        hot_keys=frozenset(subscriber_id(n, hot) for n in hot),
    )
    kill = WorkerKill(KILL_RATE, random.Random(SEED + 2))
    invoke = install(cloud, monkeypatch, faults, kill)

    def mapping(function: str, queue: str, batch_size: int, window: int) -> EventSourceMapping:
        return event_source_mapping(
            cloud, invoke, function, queue, batch_size, window, random.Random(rng.random()), DUPLICATE_RATE
        )

    worker = mapping("WorkerFunction", "TriggerQueue", 10, 30)
    results = mapping("ResultsFunction", "ResultsQueue", 100, 100)
    client = Client(cloud, faults)

    # When: the client sends N notifications in bulks of 100 while the functions run
    with timed(phases, "run"):
        for start in range(0, N, BULK):
            numbers = list(range(start, min(start + BULK, N)))
            events = [
                {
                    "name": "receipt",
                    "to": {"subscriberId": (s := subscriber_id(n, hot)), "email": email_of(s)},
                    "payload": {"amount": n},
                    **({"transactionId": f"tx{n:06d}"} if OWN_IDS else {}),
                }
                for n in numbers
            ]
            client.submit(f"bulk-{start // BULK}", numbers, events)
            # The functions work off each bulk before the next arrives: moto's SQS scans a
            # queue's every message on each call, so a backlog would make the run quadratic.
            run_until_idle(worker, results, limit=10 * N)

    # Then: what happened, from the ground truth (table, SES, DLQs) and from the status API
    with timed(phases, "verify"):
        subscriber_of = {n: subscriber_id(n, hot) for n in range(N)}
        number_of = {s: n for n, s in subscriber_of.items()}
        told = {n: v["transactionId"] for n, v in client.verdicts.items()}  # what the client knows
        steps: dict[tuple[str, str], dict[str, Any]] = {}  # (transactionId, stepId) -> step item
        in_app: Counter[str] = Counter()  # by subscriber
        ran_under: dict[int, set[str]] = {}  # notification -> transactionIds it ran under
        for raw in scan(cloud):
            pk, sk = raw["pk"]["S"], raw["sk"]["S"]
            if sk.startswith("MSG#") and "#TX#" in pk:
                doc = items.doc(raw)
                steps[(doc["transactionId"], doc["stepId"])] = doc
                ran_under.setdefault(number_of[doc["subscriberId"]], set()).add(doc["transactionId"])
                if doc["stepId"] == "inbox" and doc["status"] == "sent":
                    in_app[doc["subscriberId"]] += 1
        emails = Counter(
            address
            for message in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
            for address in message.destinations["ToAddresses"]
        )
        trigger_dlq = drain_queue(cloud, "TriggerDLQ")
        results_dlq = drain_queue(cloud, "ResultsDLQ")
        dead_records = {  # a message in the TriggerDLQ may hold several records (model.packed)
            number_of[record["recipients"][0]["subscriber_id"]]: (m, record)
            for m in trigger_dlq
            for record in (r.model_dump(mode="json") for r in records_of(m["Body"]))
        }
        in_trigger_dlq = {n: m for n, (m, _) in dead_records.items()}
        by_transaction = {tx: n for n, tx in told.items()}
        in_results_dlq: dict[int, dict[str, Any]] = {}
        for message in results_dlq:
            outcome = json.loads(message["Body"])
            in_results_dlq[by_transaction.get(outcome["transaction_id"], -1)] = message
        rows: dict[str, dict[str, Any]] = {}  # transactionId -> record row
        for bulk_id in sorted(set(client.bulk_of.values())):
            cursor = None
            while True:
                query = {"limit": "100", **({"cursor": cursor} if cursor else {})}
                status, _, page = cloud.api("GET", f"/v1/events/trigger/bulk/{bulk_id}/records", query=query)
                assert status == 200
                rows |= {row["transactionId"]: row for row in page["data"]}
                if not (cursor := page["next"]):
                    break

        duplicates: list[str] = []
        lost: list[str] = []
        wrong: list[str] = []
        fates: Counter[str] = Counter()
        finished_copies_in_dlq: list[str] = []
        for n in range(N):
            subscriber = subscriber_of[n]
            sent_emails, sent_in_app = emails[email_of(subscriber)], in_app[subscriber]
            if sent_emails > 1 or sent_in_app > 1:
                duplicates.append(f"#{n}: {sent_emails} emails, {sent_in_app} in-app")
            verdict = client.verdicts.get(n)
            if verdict is None:
                lost.append(f"#{n}: never answered")
                continue
            tx = verdict["transactionId"]
            row = rows.get(tx)
            if ran_under.get(n, {tx}) != {tx}:
                wrong.append(f"#{n} ({tx}): ran under transactionIds {sorted(ran_under[n])}")
            if n in dead_records and dead_records[n][1]["transaction_id"] != tx:
                wrong.append(f"#{n} ({tx}): a record of another attempt is in the TriggerDLQ")
            if verdict["status"] != "processed":
                reason = (verdict.get("error") or [""])[0]
                ran = bool(sent_emails or sent_in_app or n in ran_under or n in in_trigger_dlq)
                if ran:
                    wrong.append(f"#{n} ({tx}): refused ({reason}) but it ran")
                elif "already used" in reason:  # only ever by an earlier attempt of the same request
                    lost.append(f"#{n} ({tx}): refused as already used, yet it never ran")
                elif not reason:
                    wrong.append(f"#{n} ({tx}): refused without a reason")
                kind = "transactionId already used" if "already used" in reason else reason.split(":")[0]
                fates[f"refused at the API ({kind}){': yet it ran' if ran else ''}"] += 1
            elif row and row["status"] in ("completed", "failed"):
                if n in in_trigger_dlq:  # SQS delivered it twice; the second copy exhausted its retries
                    finished_copies_in_dlq.append(subscriber)
                if row["status"] == "completed":
                    fates["completed"] += 1
                    if (sent_emails, sent_in_app) != (1, 1):
                        wrong.append(f"#{n} ({tx}): completed but {sent_emails} emails, {sent_in_app} in-app")
                else:
                    mail = steps.get((tx, "mail"), {})
                    unknown = "outcome unknown" in (mail.get("detail") or "")
                    fates[
                        "failed: provider outcome unknown (worker stopped between send and record)"
                        if unknown
                        else "failed"
                    ] += 1
                    if not row.get("error"):
                        wrong.append(f"#{n} ({tx}): failed without a reason")
            elif n in in_trigger_dlq:
                fates["in the TriggerDLQ"] += 1
            elif row is None or row["status"] == "queued":
                if n in in_results_dlq:
                    fates["outcome in the ResultsDLQ"] += 1
                else:
                    lost.append(f"#{n} ({tx}): accepted, no outcome, in no DLQ")
            else:
                wrong.append(f"#{n} ({tx}): unexpected status {row['status']}")

        # Every bulk's counts in the status endpoint are exactly its rows' statuses
        counts_match = True
        for bulk_id in sorted(set(client.bulk_of.values())):
            view = cloud.api("GET", f"/v1/events/trigger/bulk/{bulk_id}")[2]["data"]
            mine = [told[n] for n, b in client.bulk_of.items() if b == bulk_id]
            expected = Counter(rows[tx]["status"] if tx in rows else "queued" for tx in mine)
            if view["total"] != len(mine) or view["counts"] != dict(expected):
                counts_match = False
                wrong.append(
                    f"bulk {bulk_id}: counts {view['counts']}, total {view['total']}; rows say {dict(expected)}"
                )

        # The DLQs hold only records that exhausted their retries
        for dlq, mapping_of in ((in_trigger_dlq, worker), (in_results_dlq, results)):
            for n, message in dlq.items():
                if (failures := mapping_of.failures[message["MessageId"]]) < MAX_RECEIVES:
                    wrong.append(f"#{n}: in the {mapping_of.function}'s DLQ after {failures} failures")

    figures = {
        "notifications": N,
        "seed": SEED,
        "fault_rate_per_attempt": RATE,
        "botocore_max_attempts": MAX_ATTEMPTS,
        "seconds": phases,
        "aws_faults": faults.figures(),
        "worker_kills_after_provider_answer": kill.kills,
        "api_client": {
            "own_transaction_ids": OWN_IDS,
            "answers": dict(client.answers),
            "retries": client.retries,
            "in_progress_waits": client.in_progress_waits,
            "5xx_after_enqueuing": client.failed_after_enqueuing,
        },
        "worker_mapping": {k: v for k, v in vars(worker.stats).items() if k != "first_error"},
        "results_mapping": {k: v for k, v in vars(results.stats).items() if k != "first_error"},
        "fates": dict(fates),
        "emails_sent": sum(emails.values()),
        "in_app_sent": sum(in_app.values()),
        "trigger_dlq": {subscriber_of[n]: worker.history(m) for n, m in sorted(in_trigger_dlq.items())},
        "results_dlq": {told.get(n, "?"): results.history(m) for n, m in sorted(in_results_dlq.items())},
        "finished_but_a_duplicate_copy_in_trigger_dlq": finished_copies_in_dlq,
        "hot_keys": sorted(subscriber_id(n, hot) for n in hot),
        "duplicates": len(duplicates),
        "lost": len(lost),
        "status_counts_exact": counts_match,
    }
    with capsys.disabled():
        print("\nfault injection:", json.dumps(figures, indent=1, default=str))
    if report := os.environ.get("CLARION_FAULT_REPORT"):  # the figures, and a traceback per error type
        errors = {"worker": worker.stats.first_error, "results": results.stats.first_error}
        Path(report).write_text(json.dumps(figures | {"first_errors": errors}, indent=1, default=str))
    assert not duplicates, duplicates[:20]
    assert not lost, lost[:20]
    assert not wrong, wrong[:20]
    assert sum(fates.values()) == N
    processed = {n for n, v in client.verdicts.items() if v["status"] == "processed"}
    neighbours = sorted(subscriber_of[n] for n in set(in_trigger_dlq) - hot)  # copies of finished ones too
    assert not neighbours, f"in the DLQ only for sharing batches with a hot key: {neighbours}"
    assert set(in_trigger_dlq) == hot & processed  # every hot key exhausts its retries


# A failure of the trigger request after some of its work is done: the client retries the same
# body with the same Idempotency-Key, and each record must still run exactly once and be
# reported as the run it is. (operation, body substring, matching attempts let through first)
RETRIED_AFTER = {
    "claims": ("dynamodb.TransactWriteItems", "", 0),
    "first enqueue batch": ("sqs.SendMessageBatch", "", 0),
    "second enqueue batch": ("sqs.SendMessageBatch", "", 1),
    "bulk header": ("dynamodb.UpdateItem", "#BULK#", 0),
    "idempotency record saved": ("dynamodb.UpdateItem", "COMPLETED", 0),
}


@pytest.mark.parametrize(
    ("where", "own_ids"),
    [
        pytest.param(
            where,
            own_ids,
            id=f"{where.replace(' ', '-')}-{'own' if own_ids else 'generated'}-ids",
        )
        for where in RETRIED_AFTER
        for own_ids in (True, False)
        if own_ids or where != "claims"  # generated ids are never claimed
    ],
)
def test_bulk_retried_with_its_idempotency_key_after_a_failure_runs_each_record_once(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, where: str, own_ids: bool
) -> None:
    prepare(cloud)
    operation, contains, skip = RETRIED_AFTER[where]
    faults = AwsFaults(0.0, random.Random(0), script=[Scripted("ApiFunction", operation, contains, skip)])
    invoke = install(cloud, monkeypatch, faults)
    rng = random.Random(0)
    worker = event_source_mapping(cloud, invoke, "WorkerFunction", "TriggerQueue", 10, 30, rng, 0.0)
    results = event_source_mapping(cloud, invoke, "ResultsFunction", "ResultsQueue", 100, 100, rng, 0.0)
    client = Client(cloud, faults)
    numbers = list(range(20))
    # Twenty small records are two packed messages (model.packed), one SendMessageBatch; with
    # 14 KB of payload each, ten of them pass the 256 KiB a call: the enqueue takes two calls.
    padding = {"payload": {"pad": "x" * 14_000}} if where == "second enqueue batch" else {}
    events = [
        {
            "name": "receipt",
            "to": {"subscriberId": f"r{n}", "email": f"r{n}@example.com"},
            **({"transactionId": f"retry-{n}"} if own_ids else {}),
            **padding,
        }
        for n in numbers
    ]

    bulk_id = client.submit("bulk-retried", numbers, events)
    run_until_idle(worker, results, limit=100)

    assert client.answers[201] == 1
    assert sum(client.answers.values()) >= 2, "the scripted fault did not fail the first request"
    assert [v["status"] for v in client.verdicts.values()] == ["processed"] * 20
    told = {v["transactionId"] for v in client.verdicts.values()}
    ran: Counter[str] = Counter()
    for raw in scan(cloud):
        if raw["sk"]["S"].startswith("MSG#") and (doc := items.doc(raw))["stepId"] == "inbox":
            assert doc["transactionId"] in told, f"ran under {doc['transactionId']}, never told to the client"
            ran[doc["subscriberId"]] += 1
    assert ran == {f"r{n}": 1 for n in numbers}
    sent = Counter(
        address
        for message in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        for address in message.destinations["ToAddresses"]
    )
    assert sent == {f"r{n}@example.com": 1 for n in numbers}
    assert cloud.api("GET", f"/v1/events/trigger/bulk/{bulk_id}")[2]["data"]["counts"] == {"completed": 20}


def test_a_record_whose_partition_is_always_throttled_fails_alone_not_its_batch(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare(cloud)
    faults = AwsFaults(0.0, random.Random(0), hot_keys=frozenset({"hot-subscriber"}))
    invoke = install(cloud, monkeypatch, faults)
    names = ["hot-subscriber", *(f"calm-{n}" for n in range(9))]
    events = [{"name": "receipt", "to": {"subscriberId": s, "email": f"{s}@example.com"}} for s in names]
    assert cloud.api("POST", "/v1/events/trigger/bulk", {"events": events})[0] == 201
    (packed_message,) = cloud.receive("TriggerQueue", 10)  # the ten records packed (model.packed)

    answer = invoke("WorkerFunction", cloud.sqs_event([packed_message]))

    # The hot record does not fail its packed message: it is re-enqueued alone, and alone it
    # fails as its own batch item (retried, then the DLQ), its neighbours untouched.
    assert answer["batchItemFailures"] == []
    (alone,) = cloud.receive("TriggerQueue", 10)
    (hot,) = records_of(alone["Body"])
    assert '"subscriber_id":"hot-subscriber"' in hot.model_dump_json()
    again = invoke("WorkerFunction", cloud.sqs_event([alone]))
    assert [f["itemIdentifier"] for f in again["batchItemFailures"]] == [alone["MessageId"]]

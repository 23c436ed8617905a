"""The side-by-side baseline: the e2e two-step workflow (in_app + email) built the way a Powertools
user would build it, measured in the same run, on the same moto, with the same counting.

The baseline's three parts run in-process like Clarion's functions (each call counted in its own
scope): an API part (pydantic validation with Novu's event model, a bulk item, SendMessageBatch),
a worker (Powertools BatchProcessor over batches of 10; the batch's subscribers read with one
BatchGetItem; each step's send wrapped in Powertools Idempotency's `idempotent_function` on a
DynamoDB persistence table: in-app = a PutItem of the message, email = SES SendEmail; outcomes
sent with SendMessageBatch) and a results part (a plain per-record counter update: one UpdateItem
ADD on the bulk item per outcome). Clarion runs the same bulk, to the same subscribers, in the
same account."""

from __future__ import annotations

import json
import uuid
from typing import Any

from bench.aws_calls import E2E_STEPS, E2E_WORKFLOW, FUNCTIONS, SES_INTEGRATION, _run_bulk, _set_up_email
from bench.cloud import MockCloud, mock_cloud, novu_bulk
from bench.counting import Recorder, Window
from bench.figures import Figure, Section

BASELINE_SCOPES = ("BaselineApi", "BaselineWorker", "BaselineResults")
REGION = "us-east-1"
IDEMPOTENCY_TABLE = "BaselineIdempotency"
APP_TABLE = "BaselineApp"


class PowertoolsBaseline:
    def __init__(self, cloud: MockCloud, recorder: Recorder) -> None:
        import boto3

        self.cloud, self.recorder = cloud, recorder
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.ses = boto3.client("sesv2", region_name=REGION)
        self.dynamodb.create_table(
            TableName=IDEMPOTENCY_TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.dynamodb.create_table(
            TableName=APP_TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        self.triggers = self.sqs.create_queue(QueueName="BaselineTriggers")["QueueUrl"]
        self.results = self.sqs.create_queue(QueueName="BaselineResults")["QueueUrl"]
        self._build_steps()

    def _build_steps(self) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        persistence = DynamoDBPersistenceLayer(table_name=IDEMPOTENCY_TABLE)
        config = IdempotencyConfig(expires_after_seconds=24 * 3600)

        @idempotent_function(data_keyword_argument="job", persistence_store=persistence, config=config)
        def send_in_app(job: dict[str, Any]) -> dict[str, Any]:
            item = {
                "pk": {"S": f"FEED#{job['subscriberId']}"},
                "sk": {"S": f"{job['createdAt']}#{job['transactionId']}#{job['stepId']}"},
                "content": {"S": json.dumps(job["content"])},
                "payload": {"S": json.dumps(job["payload"])},
                "read": {"BOOL": False},
                "seen": {"BOOL": False},
            }
            self.dynamodb.put_item(TableName=APP_TABLE, Item=item)
            return {"status": "sent"}

        @idempotent_function(data_keyword_argument="job", persistence_store=persistence, config=config)
        def send_email(job: dict[str, Any]) -> dict[str, Any]:
            answer = self.ses.send_email(
                FromEmailAddress=str(SES_INTEGRATION["credentials"]["from"]),  # type: ignore[index]
                Destination={"ToAddresses": [job["email"]]},
                Content={
                    "Simple": {
                        "Subject": {"Data": job["content"].get("subject", "")},
                        "Body": {"Html": {"Data": job["content"].get("body", "")}},
                    }
                },
            )
            return {"status": "sent", "messageId": answer.get("MessageId")}

        self.senders = {"in_app": send_in_app, "email": send_email}

    # --- the three parts ------------------------------------------------------------------------
    def accept(self, body: dict[str, Any]) -> str:
        from bench.latency import _Body

        with self.recorder.invocation("BaselineApi"):
            events = _Body.model_validate_json(json.dumps(body)).events
            bulk_id = uuid.uuid4().hex
            self.dynamodb.put_item(
                TableName=APP_TABLE,
                Item={"pk": {"S": f"BULK#{bulk_id}"}, "sk": {"S": "BULK"}, "total": {"N": str(len(events))}},
            )
            messages = [
                json.dumps({"bulkId": bulk_id, "index": i, "event": e.model_dump(mode="json")})
                for i, e in enumerate(events)
            ]
            for start in range(0, len(messages), 10):
                self.sqs.send_message_batch(
                    QueueUrl=self.triggers,
                    Entries=[
                        {"Id": str(i), "MessageBody": m} for i, m in enumerate(messages[start : start + 10])
                    ],
                )
        return bulk_id

    def work(self, messages: list[dict[str, Any]]) -> None:
        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
        from clarion.clock import now_iso
        from clarion.engine.render import render_content
        from clarion.store import items, keys

        with self.recorder.invocation("BaselineWorker"):
            records = [json.loads(m["Body"]) for m in messages]
            wanted = {self._subscriber_id(r) for r in records}
            table = self._clarion_table()
            found = self.dynamodb.batch_get_item(
                RequestItems={
                    table: {"Keys": [items.key(keys.subscriber("development", s)) for s in sorted(wanted)]}
                }
            )["Responses"].get(table, [])
            stored = {items.doc(raw)["subscriberId"]: items.doc(raw) for raw in found}
            outcomes: list[str] = []

            def handle(record: Any) -> None:
                trigger = json.loads(record.body)
                subscriber = stored.get(self._subscriber_id(trigger), {})
                transaction_id = f"{trigger['bulkId']}:{trigger['index']}"
                scope = {"payload": trigger["event"].get("payload") or {}, "subscriber": subscriber}
                for step in E2E_WORKFLOW["steps"]:
                    job = {
                        "transactionId": transaction_id,
                        "subscriberId": subscriber.get("subscriberId"),
                        "stepId": step["stepId"],
                        "email": subscriber.get("email"),
                        "createdAt": now_iso(),
                        "content": render_content(step["content"], scope),
                        "payload": scope["payload"],
                    }
                    self.senders[step["type"]](job=job)
                outcomes.append(json.dumps({"bulkId": trigger["bulkId"], "status": "completed"}))

            processor = BatchProcessor(event_type=EventType.SQS)
            event = [
                {"messageId": m["MessageId"], "body": m["Body"], "receiptHandle": m["ReceiptHandle"]}
                for m in messages
            ]
            with processor(records=event, handler=handle):
                processor.process()
            self.sqs.send_message_batch(
                QueueUrl=self.results,
                Entries=[{"Id": str(i), "MessageBody": o} for i, o in enumerate(outcomes)],
            )

    def count(self, messages: list[dict[str, Any]]) -> None:
        with self.recorder.invocation("BaselineResults"):
            for message in messages:
                outcome = json.loads(message["Body"])
                self.dynamodb.update_item(
                    TableName=APP_TABLE,
                    Key={"pk": {"S": f"BULK#{outcome['bulkId']}"}, "sk": {"S": "BULK"}},
                    UpdateExpression="ADD #status :one",
                    ExpressionAttributeNames={"#status": f"count_{outcome['status']}"},
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )

    def run(self, body: dict[str, Any]) -> None:
        self.accept(body)
        for queue, part, size in ((self.triggers, self.work, 10), (self.results, self.count, 10)):
            while True:
                with self.recorder.scope("esm:baseline"):
                    messages = self.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=size).get(
                        "Messages", []
                    )
                if not messages:
                    break
                part(messages)
                with self.recorder.scope("esm:baseline"):
                    self.sqs.delete_message_batch(
                        QueueUrl=queue,
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                            for i, m in enumerate(messages)
                        ],
                    )

    # --- helpers ----------------------------------------------------------------------------------
    @staticmethod
    def _subscriber_id(record: dict[str, Any]) -> str:
        to = record["event"]["to"]
        return str(to["subscriberId"] if isinstance(to, dict) else to)

    def _clarion_table(self) -> str:
        with self.cloud.configured_as("WorkerFunction"):
            from clarion.config import settings

            return settings().table_name


def baseline_section() -> Section:
    section = Section("baseline", "Side by side: Clarion and the Powertools way, same workflow, same moto")
    recorder = Recorder()
    with mock_cloud(recorder) as cloud:
        cloud.api("POST", "/v1/workflows", E2E_WORKFLOW)
        _set_up_email(cloud, section.notes)
        _run_bulk(cloud, recorder, "first", section.notes)  # subscribers created, caches warm
        clarion, sent, _ = _run_bulk(cloud, recorder, "steady", section.notes)
        baseline = PowertoolsBaseline(cloud, recorder)
        baseline.run(novu_bulk(str(E2E_WORKFLOW["workflowId"]), tag="first"))  # warm, as Clarion's
        mark = recorder.mark()
        baseline.run(novu_bulk(str(E2E_WORKFLOW["workflowId"]), tag="steady"))
        theirs = recorder.since(mark)
    mine_calls = clarion.of(*FUNCTIONS)
    their_calls = theirs.of(*BASELINE_SCOPES)
    notifications = 100 * len(E2E_STEPS)
    if sent != notifications:
        section.notes.append(f"baseline: Clarion sent {sent} notifications, {notifications} expected")
    per_mine, per_theirs = max(sent, 1), notifications
    mine_wru, their_wru = Window.wru(clarion.calls) / per_mine, Window.wru(their_calls) / per_theirs
    mine_n, their_n = len(mine_calls) / per_mine, len(their_calls) / per_theirs
    section.figures += [
        Figure(
            "powertools_calls_per_notification",
            their_n,
            "calls",
            None,
            "the Powertools-built baseline's AWS calls per notification (API, worker, results)",
            breakdown={k: v / per_theirs for k, v in Window.by_operation(their_calls).items()},
        ),
        Figure(
            "powertools_wru_per_notification",
            their_wru,
            "WRU",
            None,
            "its DynamoDB write units per notification",
        ),
        Figure(
            "clarion_calls_per_notification_same_run",
            mine_n,
            "calls",
            None,
            "Clarion's, measured in the same run",
        ),
        Figure(
            "clarion_wru_per_notification_same_run", mine_wru, "WRU", None, "Clarion's write units, same run"
        ),
        Figure(
            "calls_ratio_vs_powertools",
            mine_n / their_n,
            "x",
            "<= 1",
            "Clarion's AWS calls per notification over the Powertools baseline's",
        ),
        Figure(
            "wcu_ratio_vs_powertools",
            mine_wru / their_wru,
            "x",
            "<= 1",
            "Clarion's write units per notification over the Powertools baseline's",
        ),
    ]
    section.details += [
        f"Both run a bulk of 100 events of the `{E2E_WORKFLOW['workflowId']}` workflow (in_app + email) to "
        "100 known subscribers after a warm-up bulk, in the same moto account. Baseline calls per "
        "notification, by part and operation:",
        "",
        "| part.operation | calls / notification | WRU / notification |",
        "|---|---:|---:|",
        *[
            f"| `{name}` | {n / per_theirs:.3g} | {sum(c.wru for c in their_calls if f'{c.scope}.{c.name}' == name) / per_theirs:.3g} |"
            for name, n in sorted(
                {
                    f"{c.scope}.{c.name}": sum(
                        1 for d in their_calls if f"{d.scope}.{d.name}" == f"{c.scope}.{c.name}"
                    )
                    for c in their_calls
                }.items(),
                key=lambda item: -item[1],
            )
        ],
    ]
    return section

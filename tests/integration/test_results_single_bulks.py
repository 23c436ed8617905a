"""A ResultsFunction batch of single triggers is a hundred bulks of one: their record rows are
written together (BatchWriteItem across bulks), each bulk counted once, with the same answers as
bulk by bulk, duplicates included."""

from __future__ import annotations

from clarion.clock import expires_in_days, now_iso
from clarion.model import RecordOutcome, RecordStatus
from clarion.store import bulks
from clarion_cli.seed import DEVELOPMENT

from tests.integration.conftest import Cloud
from tests.integration.test_results_aggregation import sqs_batch


def test_a_batch_of_single_trigger_outcomes_counts_every_bulk_once(cloud: Cloud) -> None:
    outcomes = []
    with cloud.configured_as("ResultsFunction"):
        for b in range(60):
            bulks.create(
                DEVELOPMENT,
                f"one-{b}",
                total=1,
                created_at=now_iso(),
                expires_at=expires_in_days(1),
                refused=[],
            )
            status = RecordStatus.FAILED if b % 7 == 0 else RecordStatus.COMPLETED
            outcomes.append(
                RecordOutcome(
                    environment_id=DEVELOPMENT,
                    bulk_id=f"one-{b}",
                    index=0,
                    transaction_id=f"tx-{b}",
                    status=status,
                )
            )
    delivered = outcomes + outcomes[:20]  # some delivered twice in the same batch
    assert cloud.invoke("ResultsFunction", sqs_batch(delivered)) == {"batchItemFailures": []}
    assert cloud.invoke("ResultsFunction", sqs_batch(outcomes[10:40])) == {"batchItemFailures": []}  # again

    for b, outcome in enumerate(outcomes):
        view = cloud.api("GET", f"/v1/events/trigger/bulk/one-{b}")[2]["data"]
        assert view["counts"] == {outcome.status.value: 1}, b
        assert view["status"] == (
            "partially_failed" if outcome.status == RecordStatus.FAILED else "completed"
        )
        (row,) = cloud.api("GET", f"/v1/events/trigger/bulk/one-{b}/records")[2]["data"]
        assert (row["index"], row["transactionId"], row["status"]) == (0, f"tx-{b}", outcome.status.value)

"""Which records of a redelivered batch the worker skips, runs, and runs last, from the attempt
markers of the last attempts (engine.batch.isolation_order)."""

from __future__ import annotations

from clarion.engine.batch import IsolationOrder, isolation_order
from clarion.store.attempts import Attempt

BATCH = ["m0", "m1", "m2", "m3", "m4"]


def test_a_batch_without_markers_runs_every_record_in_its_order() -> None:
    assert isolation_order(BATCH, {}) == IsolationOrder(skip=[], run=BATCH, last=[])


def test_done_records_are_skipped_and_started_ones_run_after_the_others() -> None:
    markers = {"m1": Attempt.DONE, "m2": Attempt.STARTED, "m4": Attempt.DONE}
    assert isolation_order(BATCH, markers) == IsolationOrder(skip=["m1", "m4"], run=["m0", "m3"], last=["m2"])


def test_several_suspects_keep_the_batch_order_among_themselves() -> None:
    markers = {"m3": Attempt.STARTED, "m0": Attempt.STARTED}
    assert isolation_order(BATCH, markers) == IsolationOrder(
        skip=[], run=["m1", "m2", "m4"], last=["m0", "m3"]
    )


def test_a_batch_all_done_runs_nothing() -> None:
    markers = dict.fromkeys(BATCH, Attempt.DONE)
    assert isolation_order(BATCH, markers) == IsolationOrder(skip=BATCH, run=[], last=[])


def test_markers_of_messages_outside_the_batch_change_nothing() -> None:
    order = isolation_order(["m0", "m1"], {"other": Attempt.STARTED, "m1": Attempt.STARTED})
    assert order == IsolationOrder(skip=[], run=["m0"], last=["m1"])
    assert sorted(order.skip + order.run + order.last) == ["m0", "m1"]

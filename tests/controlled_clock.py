"""One controlled clock for Clarion and the moto SQS it talks to: Clarion reads time through
clarion.clock, moto's SQS (message delays, visibility timeouts) the same reading. A test moves
it with `advance`; nothing sleeps.

moto's SQS reads `unix_time` / `unix_time_millis`, imported into moto.sqs.models; they are
pointed at the controlled clock for the block (moto itself supports frozen time the same way,
through freezegun, which would also stop the clock botocore signs requests with)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import moto.sqs.models
import pytest
from clarion import clock

_unix_time = moto.sqs.models.unix_time
_unix_time_millis = moto.sqs.models.unix_time_millis


@contextmanager
def controlled_clock(at: float | None = None) -> Iterator[clock.ControlledClock]:
    """Hold Clarion's and moto SQS's clock at `at` (now by default) for the block."""
    with clock.controlled(at) as controlled, pytest.MonkeyPatch.context() as patch:

        def unix_time(dt: datetime | None = None) -> float:
            return controlled.at if dt is None else _unix_time(dt)

        def unix_time_millis(dt: datetime | None = None) -> float:
            return controlled.at * 1000.0 if dt is None else _unix_time_millis(dt)

        patch.setattr(moto.sqs.models, "unix_time", unix_time)
        patch.setattr(moto.sqs.models, "unix_time_millis", unix_time_millis)
        yield controlled

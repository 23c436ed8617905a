"""The worker's batch is set by template parameters (WorkerBatchSize, WorkerBatchingWindow); the
local stack reads them as CloudFormation would, defaults unchanged and overrides honoured."""

from __future__ import annotations

import pytest
from clarion_cli.template import Template

from tests.conftest import TEMPLATE


def _worker_source(template: Template):  # type: ignore[no-untyped-def]
    (source,) = template.functions()["WorkerFunction"].sqs_sources
    return source


def test_worker_batch_defaults_are_ten_records_without_a_window(template: Template) -> None:
    source = _worker_source(template)
    assert (source.batch_size, source.batching_window) == (10, 0)
    assert template.parameters["WorkerBatchSize"] == "10"


def test_worker_batch_parameters_overridden_reach_the_event_source() -> None:
    template = Template(TEMPLATE, parameters={"WorkerBatchSize": "100", "WorkerBatchingWindow": "1"})
    source = _worker_source(template)
    assert (source.queue, source.batch_size, source.batching_window) == ("TriggerQueue", 100, 1)


def test_an_unknown_parameter_override_is_refused() -> None:
    with pytest.raises(KeyError, match="WorkerBatchSise"):
        Template(TEMPLATE, parameters={"WorkerBatchSise": "100"})


def test_a_batch_over_ten_without_a_window_is_refused_by_a_template_rule(template: Template) -> None:
    rule = template.doc["Rules"]["WorkerBatchOverTenNeedsAWindow"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "WorkerBatchingWindow"}, "0"]}
    (assertion,) = rule["Assertions"]
    allowed, value = assertion["Assert"]["Fn::Contains"]
    assert value == {"Ref": "WorkerBatchSize"}
    assert allowed == [str(n) for n in range(1, 11)]

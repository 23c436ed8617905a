"""Every alarm and dashboard widget of template.yaml names something that exists: AWS metrics a
resource of the template (by !Ref, !GetAtt or ${...}, never a hard-coded name), Clarion's own
metrics a namespace, name and dimension set the functions really emit (captured from their EMF
lines while handlers run on moto)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from clarion.engine import batch
from clarion.observability import metrics
from clarion_cli.template import Template

from tests.integration.conftest import Cloud

# The metrics each AWS namespace publishes (CloudWatch's documentation), to catch a misspelt name.
AWS_METRICS = {
    "AWS/SQS": {
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesVisible",
        "NumberOfEmptyReceives",
        "NumberOfMessagesDeleted",
        "NumberOfMessagesReceived",
        "NumberOfMessagesSent",
        "SentMessageSize",
    },
    "AWS/Lambda": {"Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions"},
    "AWS/ApiGateway": {"4XXError", "5XXError", "Count", "IntegrationLatency", "Latency"},
}
TOKEN = re.compile(r"\$\{([^}!]+)\}")
SEARCH = re.compile(r"""SEARCH\('\{([^}]*)\} MetricName="(\w+)"'""")

Metric = tuple[str, str, frozenset[str]]  # namespace, name, dimension names


def placeholder(value: Any) -> Any:
    """An intrinsic as the text the dashboard's ${...} form leaves: <<Logical>> / <<Logical.Attr>>."""
    if isinstance(value, dict) and "Ref" in value:
        return f"<<{value['Ref']}>>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "<<{}.{}>>".format(*value["Fn::GetAtt"])
    if isinstance(value, dict) and "Fn::Sub" in value:
        return TOKEN.sub(lambda m: f"<<{m.group(1)}>>", value["Fn::Sub"])
    return value


def check_reference(template: Template, token: str) -> None:
    pseudo = {"AWS::Region", "AWS::StackName", "AWS::AccountId", "AWS::Partition"}
    if token in pseudo or token in template.parameters:
        return
    logical_id, _, attribute = token.partition(".")
    assert logical_id in template.resources, f"${{{token}}} names no resource of the template"
    kind = template.resources[logical_id]["Type"]
    allowed = {"AWS::SQS::Queue": {"QueueName", "Arn"}, "AWS::CloudWatch::Alarm": {"Arn"}}.get(kind, set())
    assert not attribute or attribute in allowed, f"${{{token}}}: {kind} has no attribute {attribute} here"


def referenced(value: Any, pattern: str) -> str:
    """The logical id a ${...} placeholder names; a hard-coded name fails here."""
    match = re.fullmatch(pattern, str(value))
    assert match, f"{value!r} is not a reference to a template resource ({pattern})"
    return match.group(1)


def check_aws_metric(template: Template, namespace: str, name: str, dimensions: dict[str, Any]) -> str:
    """The logical id (or API) the metric is about; fails if it names nothing the template makes."""
    assert name in AWS_METRICS[namespace], f"{namespace} publishes no {name}"
    resources = template.resources
    if namespace == "AWS/SQS":
        queue = referenced(dimensions.pop("QueueName"), r"<<(\w+)\.QueueName>>")
        assert resources[queue]["Type"] == "AWS::SQS::Queue"
        found = queue
    elif namespace == "AWS/Lambda":
        function = referenced(dimensions.pop("FunctionName"), r"<<(\w+)>>")
        assert resources[function]["Type"] == "AWS::Serverless::Function"
        found = function
    else:
        api = resources["ClarionApi"]["Properties"]
        assert dimensions.pop("ApiName") == placeholder(api["Name"])
        assert dimensions.pop("Stage") == placeholder(api["StageName"])
        found = "ClarionApi"
    assert not dimensions, f"{namespace} {name}: unexpected dimensions {dimensions}"
    return found


def service_name(template: Template) -> tuple[str, str]:
    variables = template.doc["Globals"]["Function"]["Environment"]["Variables"]
    return variables["POWERTOOLS_METRICS_NAMESPACE"], variables["POWERTOOLS_SERVICE_NAME"]


def dashboard_metrics(template: Template) -> tuple[set[Metric], set[str], set[str]]:
    """(Clarion metrics it reads, resources it shows, alarms it lists), checking each reference."""
    body = template.resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    for token in TOKEN.findall(body):
        check_reference(template, token)
    widgets = json.loads(TOKEN.sub(lambda m: f"<<{m.group(1)}>>", body))["widgets"]
    namespace, service = service_name(template)
    own: set[Metric] = set()
    shown: set[str] = set()
    alarms: set[str] = set()
    for widget in widgets:
        properties = widget["properties"]
        if widget["type"] == "alarm":
            for arn in properties["alarms"]:
                alarms.add(referenced(arn, r"<<(\w+)\.Arn>>"))
            continue
        assert widget["type"] == "metric"
        ids = {
            row[-1]["id"] for row in properties["metrics"] if isinstance(row[-1], dict) and "id" in row[-1]
        }
        for row in properties["metrics"]:
            if isinstance(row[0], dict):  # an expression: a SEARCH, or math over this widget's ids
                expression = row[0]["expression"]
                if expression.startswith("SEARCH"):
                    match = SEARCH.match(expression)
                    assert match, expression
                    space, *names = match.group(1).split(",")
                    assert space == namespace, expression
                    own.add((space, match.group(2), frozenset(names)))
                else:
                    assert set(re.findall(r"[a-z]\w*", expression)) <= ids, expression
                continue
            space, name, *rest = row
            pairs = [item for item in rest if not isinstance(item, dict)]
            dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
            if space == namespace:
                assert dimensions.pop("service") == service
                own.add((space, name, frozenset({"service", *dimensions})))
            else:
                shown.add(check_aws_metric(template, space, name, dimensions))
    return own, shown, alarms


def emitted_metrics(out: str, service: str) -> set[Metric]:
    """The (namespace, name, dimensions) of every EMF line written."""
    found: set[Metric] = set()
    for text in out.splitlines():
        if not text.startswith("{"):
            continue
        line = json.loads(text)
        if "_aws" not in line:
            continue
        assert line["service"] == service
        for directive in line["_aws"]["CloudWatchMetrics"]:
            for dimensions in directive["Dimensions"]:
                for metric in directive["Metrics"]:
                    found.add((directive["Namespace"], metric["Name"], frozenset(dimensions)))
    return found


def test_alarms_watch_every_dead_letter_queue_the_trigger_queue_and_every_function(
    template: Template,
) -> None:
    alarms = template.of_type("AWS::CloudWatch::Alarm")
    watched: set[tuple[str, str]] = set()
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        dimensions = {d["Name"]: placeholder(d["Value"]) for d in props["Dimensions"]}
        watched.add(
            (
                check_aws_metric(template, props["Namespace"], props["MetricName"], dimensions),
                props["MetricName"],
            )
        )
        for actions in ("AlarmActions", "OKActions"):
            assert props[actions] == {
                "Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]
            }, name
    assert template.resources["AlarmTopic"]["Condition"] == "HasAlarmEmail"
    subscription = template.resources["AlarmSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert template.doc["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }

    queues = template.of_type("AWS::SQS::Queue")
    dead_letter_queues = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    }
    assert dead_letter_queues == {"TriggerDLQ", "ResultsDLQ"}
    for queue in dead_letter_queues:
        assert (queue, "ApproximateNumberOfMessagesVisible") in watched
    assert ("TriggerQueue", "ApproximateAgeOfOldestMessage") in watched
    for function in template.functions():
        assert {(function, "Errors"), (function, "Throttles")} <= watched


def test_dashboard_shows_every_queue_function_and_alarm(template: Template) -> None:
    own, shown, listed = dashboard_metrics(template)
    assert set(template.of_type("AWS::SQS::Queue")) | set(template.functions()) | {"ClarionApi"} <= shown
    assert listed == set(template.of_type("AWS::CloudWatch::Alarm"))
    names = {name for _, name, _ in own}
    assert {"RecordsAccepted", "RecordsRefused", "Messages", "StepLatency", "RecordsDeadLettered"} <= names


def test_dashboard_reads_only_metrics_the_functions_emit(
    template: Template, cloud: Cloud, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace, service = service_name(template)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    # The shared Metrics read its namespace and service at import, which Lambda's environment sets.
    monkeypatch.setattr(metrics, "namespace", namespace)
    monkeypatch.setattr(metrics, "service", service)
    workflow = {
        "workflowId": "hello",
        "steps": [{"stepId": "inbox", "type": "in_app", "content": {"body": "Hi"}}],
    }
    assert cloud.api("POST", "/v1/workflows", workflow)[0] == 201
    capsys.readouterr()

    # Accepted and refused records, messages and their latency, outcomes counted.
    events = [{"name": "hello", "to": "ada"}, {"name": "no-such-workflow", "to": "bob"}]
    assert cloud.api("POST", "/v1/events/trigger/bulk", {"events": events})[0] == 201
    cloud.drain()
    # A record failing its last attempt: dead-lettered.
    assert (
        cloud.api("POST", "/v1/events/trigger/bulk", {"events": [{"name": "hello", "to": "carl"}]})[0] == 201
    )
    (message,) = cloud.receive("TriggerQueue")
    message["Attributes"]["ApproximateReceiveCount"] = "5"

    def failing(record: Any, *rest: Any) -> Any:
        raise ConnectionError("down")

    monkeypatch.setattr(batch, "run", failing)
    answer = cloud.invoke("WorkerFunction", cloud.sqs_event([message]))
    assert answer["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]

    emitted = emitted_metrics(capsys.readouterr().out, service)
    own, _, _ = dashboard_metrics(template)
    assert own, "the dashboard reads no Clarion metric"
    assert own <= emitted, f"read by the dashboard but never emitted: {own - emitted}"
    assert (namespace, "RecordsRefused", frozenset({"service", "status"})) in emitted

"""Read template.yaml the way CloudFormation would, for the local stack: resources by type,
Globals merged into functions, and intrinsic functions (!Ref, !GetAtt, !Sub) resolved against
local names. The local stack is derived from this and nothing else, so it cannot drift."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class _CfnLoader(yaml.SafeLoader):
    pass


_NO_VALUE = object()  # !Ref AWS::NoValue: the list item or property is left out


def _tag(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return construct


for _short in (
    "Ref",
    "GetAtt",
    "Sub",
    "Join",
    "If",
    "Equals",
    "Not",
    "Or",
    "And",
    "Select",
    "Split",
    "FindInMap",
    "ImportValue",
):
    _CfnLoader.add_constructor(f"!{_short}", _tag(_short if _short == "Ref" else f"Fn::{_short}"))


@dataclass
class SqsSource:
    name: str
    queue: str  # logical id of the queue
    batch_size: int
    batching_window: int
    report_item_failures: bool


@dataclass
class ApiRoute:
    name: str
    path: str
    method: str

    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}/?$")


@dataclass
class Function:
    name: str
    code_dir: Path
    handler: str
    timeout: int
    memory: int
    environment: dict[str, str]
    layer_dirs: list[Path]
    sqs_sources: list[SqsSource] = field(default_factory=list)
    api_routes: list[ApiRoute] = field(default_factory=list)


class Template:
    def __init__(
        self,
        path: Path,
        stack_name: str = "clarion",
        endpoint: str = "http://127.0.0.1:4566",
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.path = path
        self.root = path.parent
        self.stack_name = stack_name
        self.endpoint = endpoint.rstrip("/")
        self.doc: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
        self.resources: dict[str, dict[str, Any]] = self.doc["Resources"]
        self.parameters = {
            name: str(spec.get("Default", "")) for name, spec in self.doc.get("Parameters", {}).items()
        }
        unknown = set(parameters or {}) - set(self.parameters)
        if unknown:
            raise KeyError(f"no such template parameter: {', '.join(sorted(unknown))}")
        self.parameters |= parameters or {}  # as `sam deploy --parameter-overrides` sets them

    # --- names -------------------------------------------------------------------------
    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """The resources of this type the stack deploys (those whose Condition holds)."""
        return {
            name: r
            for name, r in self.resources.items()
            if r["Type"] == resource_type and self.holds(r.get("Condition"))
        }

    def holds(self, condition: str | None) -> bool:
        """Whether a named condition of the template holds for its parameters (None: always)."""
        if condition is None:
            return True
        return bool(self._evaluate(self.doc.get("Conditions", {})[condition]))

    def _evaluate(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Fn::Equals":
                left, right = (str(self._evaluate(v)) for v in argument)
                return left == right
            if key == "Fn::Not":
                return not self._evaluate(argument[0])
            if key == "Fn::Or":
                return any(self._evaluate(v) for v in argument)
            if key == "Fn::And":
                return all(self._evaluate(v) for v in argument)
            if key == "Condition":
                return self.holds(argument)
        return self.resolve(value)

    def physical_name(self, logical_id: str) -> str:
        return f"{self.stack_name}-{logical_id}"

    def queue_url(self, logical_id: str) -> str:
        return f"{self.endpoint}/{ACCOUNT_ID}/{self.physical_name(logical_id)}"

    def ref(self, logical_id: str) -> Any:
        if logical_id in self.parameters:
            return self.parameters[logical_id]
        if logical_id == "AWS::NoValue":
            return _NO_VALUE
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID, "AWS::StackName": self.stack_name}
        if logical_id in pseudo:
            return pseudo[logical_id]
        resource = self.resources[logical_id]
        if resource["Type"] == "AWS::SQS::Queue":
            return self.queue_url(logical_id)
        if resource["Type"] == "AWS::KMS::Alias":
            return str(self.resolve(resource["Properties"]["AliasName"]))
        return self.physical_name(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource_type = self.resources[logical_id]["Type"]
        name = self.physical_name(logical_id)
        if resource_type == "AWS::SQS::Queue":
            return {
                "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}",
                "QueueName": name,
                "QueueUrl": self.queue_url(logical_id),
            }[attribute]
        if resource_type == "AWS::DynamoDB::Table" and attribute == "Arn":
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
        if resource_type == "AWS::KMS::Key" and attribute == "Arn":
            return f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{name}"
        raise KeyError(f"!GetAtt {logical_id}.{attribute} is not known to the local stack")

    def resolve(self, value: Any) -> Any:
        """Intrinsic functions -> plain values."""
        if isinstance(value, dict) and len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::If":
                condition, when_true, when_false = argument
                return self.resolve(when_true if self.holds(condition) else when_false)
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(str(part) for part in self.resolve(parts))
            if key == "Fn::GetAtt":
                return self.get_att(*argument)
            if key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]

                def substitute(match: re.Match[str]) -> str:
                    token = match.group(1)
                    if "." in token:
                        return self.get_att(*token.split(".", 1))
                    return self.ref(token)

                return re.sub(r"\$\{([^}!]+)\}", substitute, text)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [v for v in (self.resolve(v) for v in value) if v is not _NO_VALUE]
        return value

    # --- functions ---------------------------------------------------------------------
    def functions(self) -> dict[str, Function]:
        globals_ = self.doc.get("Globals", {}).get("Function", {})
        layers = self.of_type("AWS::Serverless::LayerVersion")
        found = {}
        for name, resource in self.of_type("AWS::Serverless::Function").items():
            props = _merge(copy.deepcopy(globals_), resource["Properties"])
            variables = props.get("Environment", {}).get("Variables", {})
            layer_dirs = [
                self.root / layers[layer["Ref"]]["Properties"]["ContentUri"]
                for layer in props.get("Layers", [])
                if isinstance(layer, dict) and layer.get("Ref") in layers
            ]
            function = Function(
                name=name,
                code_dir=self.root / props["CodeUri"],
                handler=props["Handler"],
                timeout=int(props.get("Timeout", 3)),
                memory=int(props.get("MemorySize", 128)),
                environment={k: str(self.resolve(v)) for k, v in variables.items()},
                layer_dirs=layer_dirs,
            )
            for event_name, event in props.get("Events", {}).items():
                spec = event.get("Properties", {})
                if event["Type"] == "SQS":
                    function.sqs_sources.append(
                        SqsSource(
                            name=event_name,
                            queue=spec["Queue"]["Fn::GetAtt"][0],
                            batch_size=int(self.resolve(spec.get("BatchSize", 10))),
                            batching_window=int(self.resolve(spec.get("MaximumBatchingWindowInSeconds", 0))),
                            report_item_failures="ReportBatchItemFailures"
                            in spec.get("FunctionResponseTypes", []),
                        )
                    )
                elif event["Type"] == "Api":
                    function.api_routes.append(ApiRoute(event_name, spec["Path"], spec["Method"].upper()))
            found[name] = function
        for name, mapping in self.of_type("AWS::Lambda::EventSourceMapping").items():
            spec = mapping["Properties"]
            found[spec["FunctionName"]["Ref"]].sqs_sources.append(
                SqsSource(
                    name=name,
                    queue=spec["EventSourceArn"]["Fn::GetAtt"][0],
                    batch_size=int(self.resolve(spec.get("BatchSize", 10))),
                    batching_window=int(self.resolve(spec.get("MaximumBatchingWindowInSeconds", 0))),
                    report_item_failures="ReportBatchItemFailures" in spec.get("FunctionResponseTypes", []),
                )
            )
        return found

    # --- the front door ----------------------------------------------------------------
    def viewer_request_code(self) -> str | None:
        """The code of the CloudFront function on the distribution's viewer requests, when the
        template deploys a distribution (its condition true); None when requests reach API Gateway
        directly."""
        for distribution in self.of_type("AWS::CloudFront::Distribution").values():
            behavior = distribution["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
            for association in behavior.get("FunctionAssociations", []):
                if association["EventType"] == "viewer-request":
                    function = association["FunctionARN"]["Fn::GetAtt"][0]
                    return str(self.resources[function]["Properties"]["FunctionCode"])
        return None

    def api_routes(self) -> list[tuple[ApiRoute, str]]:
        """(route, function name), static paths before greedy ones, as API Gateway matches."""
        routes = [(route, f.name) for f in self.functions().values() for route in f.api_routes]
        return sorted(
            routes, key=lambda pair: ("+}" in pair[0].path, "{" in pair[0].path, -len(pair[0].path))
        )


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """SAM's Globals rule: maps merge (override wins), lists and scalars are replaced."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _merge(base[key], value)
        else:
            base[key] = value
    return base

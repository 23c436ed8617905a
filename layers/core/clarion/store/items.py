"""Items are a few string/number attributes plus `doc`, the object itself as JSON: free-form
payloads never need DynamoDB's number conversion, and one attribute is cheap to read back."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


def s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def n(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


def key(parts: dict[str, str] | Any) -> dict[str, AttributeValueTypeDef]:
    return {name: {"S": value} for name, value in parts.items()}


def item(key_parts: Any, doc: Any = None, **attributes: str | int) -> dict[str, AttributeValueTypeDef]:
    result = key(key_parts)
    for name, value in attributes.items():
        result[name] = n(value) if isinstance(value, int) else s(value)
    if doc is not None:
        result["doc"] = json_value(doc)
    return result


def json_value(doc: Any) -> AttributeValueTypeDef:
    return s(json.dumps(doc, separators=(",", ":"), default=str))


def doc(raw: dict[str, Any]) -> Any:
    return json.loads(raw["doc"]["S"])


def number(raw: dict[str, Any], name: str, default: int = 0) -> int:
    value = raw.get(name)
    return int(value["N"]) if value else default


def string(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    return str(value["S"]) if value else None

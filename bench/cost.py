"""Dollars per million notifications from counted calls, capacity units and measured durations.

List prices, us-east-1, pay-as-you-go, first pricing tier, free tiers ignored. They were taken
from the published AWS pricing pages (aws.amazon.com/lambda/pricing, /api-gateway/pricing,
/sqs/pricing, /dynamodb/pricing/on-demand) and last checked on PRICES_CHECKED; the bench has no
internet access, so re-check them there when they matter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bench.counting import Invocation, Window

PRICES_CHECKED = "2025-06 (DynamoDB on-demand after its 2024-11-01 price cut)"


@dataclass(frozen=True)
class Price:
    key: str
    usd: float
    per: str


PRICES = (
    Price("lambda_gb_second", 0.0000133334, "Lambda arm64, per GB-second (first 7.5 billion GB-s a month)"),
    Price("lambda_request", 0.20 / 1e6, "Lambda, per request ($0.20 per million)"),
    Price(
        "api_gateway_request",
        3.50 / 1e6,
        "API Gateway REST API, per request ($3.50 per million, first 333 M)",
    ),
    Price(
        "sqs_request",
        0.40 / 1e6,
        "SQS standard, per request, each started 64 KB of payload a request ($0.40 per million)",
    ),
    Price("dynamodb_wru", 0.625 / 1e6, "DynamoDB on-demand, per write request unit ($0.625 per million)"),
    Price("dynamodb_rru", 0.125 / 1e6, "DynamoDB on-demand, per read request unit ($0.125 per million)"),
    Price("ses_email", 0.10 / 1000, "SES outbound email, per message ($0.10 per 1,000; attachments extra)"),
)
# Provider charges for delivering, kept apart from the engine's own infrastructure cost.
DELIVERY_COMPONENTS = ("ses_emails",)
PRICE = {p.key: p.usd for p in PRICES}

# Lambda durations: an invocation's time on moto minus moto's own time answering its calls (moto's
# TransactWriteItems deep-copies the whole table per item: seconds, where DynamoDB takes tens of
# milliseconds), plus a typical in-region service latency per call. Assumed, not measured.
AWS_LATENCY_MS = {
    "GetItem": 4,
    "PutItem": 6,
    "UpdateItem": 6,
    "DeleteItem": 6,
    "Query": 6,
    "BatchGetItem": 8,
    "BatchWriteItem": 12,
    "TransactWriteItems": 30,
    "SendMessage": 8,
    "SendMessageBatch": 12,
}
DEFAULT_LATENCY_MS = 8


def aws_seconds(invocation: Invocation) -> float:
    """The invocation's duration as modelled for AWS (see AWS_LATENCY_MS)."""
    latency = sum(AWS_LATENCY_MS.get(op, DEFAULT_LATENCY_MS) for op in invocation.operations) / 1000
    return max(invocation.seconds - invocation.emulator_seconds, 0.0) + latency


def usd_per_million(window: Window, memory_mb: dict[str, int], notifications: int) -> dict[str, float]:
    """Each component's cost per million notifications, for what happened in `window`.

    Lambda duration is billed per invocation rounded up to the millisecond, on the duration
    `aws_seconds` models from the in-process one (see PERFORMANCE.md). API Gateway bills one
    request per ApiFunction invocation. SQS counts the functions' own calls and the event source
    mappings' receives and deletes (billed to the account too), chunked by 64 KB.
    """
    if notifications <= 0:
        return {}
    gb_seconds = sum(
        math.ceil(aws_seconds(i) * 1000) / 1000 * memory_mb.get(i.function, 128) / 1024
        for i in window.invocations
    )
    components = {
        "lambda_compute": gb_seconds * PRICE["lambda_gb_second"],
        "lambda_requests": len(window.invocations) * PRICE["lambda_request"],
        "api_gateway": sum(1 for i in window.invocations if i.function == "ApiFunction")
        * PRICE["api_gateway_request"],
        "sqs": sum(c.sqs_requests for c in window.calls if c.service == "sqs") * PRICE["sqs_request"],
        "dynamodb_writes": Window.wru(window.calls) * PRICE["dynamodb_wru"],
        "dynamodb_reads": Window.rru(window.calls) * PRICE["dynamodb_rru"],
        "ses_emails": sum(
            len(_recipients(c.params))
            for c in window.calls
            if c.service in ("ses", "sesv2") and c.operation in ("SendEmail", "SendRawEmail") and not c.error
        )
        * PRICE["ses_email"],
    }
    return {name: usd / notifications * 1e6 for name, usd in components.items()}


def _recipients(params: dict[str, Any]) -> list[str]:
    """SES charges per recipient."""
    destination = params.get("Destination") or {}
    found = [a for part in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destination.get(part, [])]
    return found or [""]


def price_table() -> list[str]:
    lines = ["| item | USD | unit |", "|---|---:|---|"]
    for price in PRICES:
        amount = price.usd * 1e6 if price.usd < 1e-6 else price.usd
        unit = "per million" if price.usd < 1e-6 else "per unit"
        lines.append(f"| `{price.key}` | {amount:.10g} {unit} | {price.per} |")
    return lines

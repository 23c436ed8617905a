"""Lazily created boto3 clients, one per container. Tests and the local stack point them elsewhere
through the standard AWS_ENDPOINT_URL variable; no code path exists only locally."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    # boto3-stubs[sesv2,sns]: typed when installed, Any otherwise.
    from mypy_boto3_sesv2 import SESV2Client  # type: ignore[import-not-found,unused-ignore]
    from mypy_boto3_sns import SNSClient  # type: ignore[import-not-found,unused-ignore]
    from mypy_boto3_sqs import SQSClient


@cache
def _client(service: str) -> Any:
    import boto3  # imported on first use: keeps cold imports small
    from botocore.config import Config

    # Requests are built by this package from validated models, and the services validate them
    # again: botocore's client-side walk of every parameter (a third of the API's time to enqueue
    # a bulk of 100) checks nothing a user sent.
    config = Config(parameter_validation=False)
    return boto3.session.Session().client(service, config=config)  # type: ignore[call-overload]


def dynamodb() -> DynamoDBClient:
    client: DynamoDBClient = _client("dynamodb")
    return client


def sqs() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


def sesv2() -> SESV2Client:
    client: SESV2Client = _client("sesv2")
    return client


def sns() -> SNSClient:
    client: SNSClient = _client("sns")
    return client


def kms() -> Any:
    return _client("kms")


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints between cases)."""
    _client.cache_clear()

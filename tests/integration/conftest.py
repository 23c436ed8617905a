"""Real handlers, in-process, on moto's mock_aws, with tables and queues built from template.yaml
(the same provisioning the local stack uses), and each function's environment from the template."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from clarion import aws
from clarion_cli import lambda_events
from clarion_cli.in_process import (
    EMULATOR_ENDPOINTS,
    MOCK_AWS_ENVIRONMENT,
    MOCK_SQS_ENDPOINT,
    InProcessApp,
    LambdaContext,
)
from clarion_cli.seed import DEVELOPMENT
from clarion_cli.template import Template
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.conftest import ROOT, TEMPLATE


class Context(LambdaContext):
    """The Lambda context every in-process invocation gets (a test may patch its remaining time)."""


class Cloud(InProcessApp):
    """The deployed application, in-process: invoke functions, move messages between queues."""

    context_type = Context
    module_prefix = "clarion_test_"

    def __init__(self, template: Template, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(template)
        self.monkeypatch = monkeypatch
        self.dynamodb = boto3.client("dynamodb", region_name="us-east-1")

    def mail_through_ses(self, domain: str = "clarion.example") -> None:
        """The environment's email goes through SES from `hello@<domain>` (a verified identity)."""
        with self.configured_as("WorkerFunction"):
            aws.sesv2().create_email_identity(EmailIdentity=domain)
        status, _, body = self.api(
            "POST",
            "/v1/integrations",
            {"providerId": "ses", "channel": "email", "credentials": {"from": f"hello@{domain}"}},
        )
        assert status in (200, 201), body

    @staticmethod
    def emails_sent() -> int:
        """Emails SES (moto) has sent in this test."""
        return int(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_message_count)

    @staticmethod
    def sqs_event(
        messages: list[dict[str, Any]], queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:q"
    ) -> dict[str, Any]:
        return lambda_events.sqs_event(messages, queue_arn)


def use_moto_credentials(monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    """What a test on in-process moto needs in its environment (and no running emulator's
    endpoint, which a developer's shell may hold)."""
    for name, value in {**MOCK_AWS_ENVIRONMENT, **extra}.items():
        monkeypatch.setenv(name, value)
    for name in EMULATOR_ENDPOINTS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    use_moto_credentials(monkeypatch, POWERTOOLS_TRACE_DISABLED="true", POWERTOOLS_METRICS_DISABLED="true")
    with mock_aws():
        aws.reset_clients()
        app = Cloud(Template(TEMPLATE, endpoint=MOCK_SQS_ENDPOINT), monkeypatch)
        app.provision()
        yield app
    aws.reset_clients()


__all__ = ["DEVELOPMENT", "ROOT", "Cloud"]

"""Settings, validated once per container. Logic asks `settings()`; it never reads os.environ."""

from __future__ import annotations

import os
from functools import cached_property, lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=1)
    idempotency_table_name: str | None = None
    secrets_key_id: str | None = None  # KMS key (alias) encrypting environments' HMAC secrets
    trigger_queue_url: str | None = None
    trigger_queue_urls: str | None = (
        None  # every trigger queue, comma-separated (the template's TriggerQueues)
    )
    results_queue_url: str | None = None
    status_ttl_days: int = Field(default=30, ge=1)
    auth_cache_seconds: int = Field(default=60, ge=0)
    inbox_token_seconds: int = Field(default=3600, ge=60, le=86_400)  # an Inbox session's lifetime
    workflow_cache_seconds: int = Field(default=30, ge=0)
    default_rate_per_second: int = Field(default=1000, ge=1)  # records per second per environment
    default_rate_burst: int = Field(default=2000, ge=1)
    trigger_max_receives: int = Field(default=5, ge=1)  # the TriggerQueue's redrive maxReceiveCount
    local_gateway_url: str | None = None  # the local stack's own API, which steps may not call
    aws_endpoint_urls: tuple[str, ...] = ()  # botocore's AWS_ENDPOINT_URL[_<SERVICE>], if set

    def stack_endpoints(self) -> tuple[str, ...]:
        """The stack's own services: no webhook, chat, push or attachment URL may reach them."""
        return self.aws_endpoint_urls + ((self.local_gateway_url,) if self.local_gateway_url else ())

    def require_trigger_queue(self) -> str:
        if not self.trigger_queue_url:
            raise RuntimeError("CLARION_TRIGGER_QUEUE_URL is not set for this function")
        return self.trigger_queue_url

    @cached_property
    def trigger_queues(self) -> tuple[str, ...]:
        """Every trigger queue, the first being CLARION_TRIGGER_QUEUE_URL's (read once: every
        record sent asks)."""
        listed = tuple(url.strip() for url in (self.trigger_queue_urls or "").split(",") if url.strip())
        return listed or (self.require_trigger_queue(),)

    def require_results_queue(self) -> str:
        if not self.results_queue_url:
            raise RuntimeError("CLARION_RESULTS_QUEUE_URL is not set for this function")
        return self.results_queue_url


_PREFIX = "CLARION_"
_AWS_ENDPOINT = "AWS_ENDPOINT_URL"  # botocore's own: one for all services, or per service


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Read CLARION_* variables (and botocore's endpoint URLs) once; a missing table name fails
    loudly, not silently."""
    values: dict[str, object] = {
        key[len(_PREFIX) :].lower(): value for key, value in os.environ.items() if key.startswith(_PREFIX)
    }
    values["aws_endpoint_urls"] = tuple(
        value
        for key, value in sorted(os.environ.items())
        if (key == _AWS_ENDPOINT or key.startswith(f"{_AWS_ENDPOINT}_")) and value.strip()
    )
    return Settings.model_validate(values)

"""What the steps of one run share: the record, the people in its scope, the environment's
integrations and outbound policy (each read once, when a step first needs it), and the data a
template or a condition sees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clarion.channels.delivery import OutboundPolicy
from clarion.config import settings
from clarion.engine.parts import Parts
from clarion.model import TriggerRecord, Workflow
from clarion.store import environments, integrations

SCOPES = ("payload", "subscriber", "tenant", "actor", "step")
"""The named scopes of a template; a payload field of the same name is only under `payload`."""


@dataclass
class StepContext:
    record: TriggerRecord
    workflow: Workflow
    parts: Parts
    now: str
    actor: dict[str, Any]
    tenant: dict[str, Any]
    step: dict[str, Any] | None = None  # what an earlier step hands on (`step.digest`)
    _policy: OutboundPolicy | None = None

    def integration(self, channel: str) -> dict[str, Any] | None:
        return integrations.for_record(self.record.environment_id, channel, self.record.accepted_at)

    def policy(self) -> OutboundPolicy:
        if self._policy is None:
            allow = environments.allows_loopback_urls(self.record.environment_id)
            self._policy = OutboundPolicy(allow_loopback=allow, stack_endpoints=settings().stack_endpoints())
        return self._policy

    def conditions_scope(self, subscriber: dict[str, Any]) -> dict[str, Any]:
        """What conditions read: the named scopes only."""
        scope = {
            "payload": self.record.payload,
            "subscriber": subscriber,
            "tenant": self.tenant,
            "actor": self.actor,
        }
        if self.step is not None:
            scope["step"] = self.step
        return scope

    def template_scope(self, subscriber: dict[str, Any]) -> dict[str, Any]:
        """What templates see: the payload's fields at the top level too (`{{firstName}}`, as
        Novu v1 templates read them), under the named scopes, which win on a clash."""
        return template_scope(self.conditions_scope(subscriber))


def template_scope(named: dict[str, Any]) -> dict[str, Any]:
    """The named scopes with the payload's other fields beside them."""
    payload = named.get("payload") or {}
    return {k: v for k, v in payload.items() if k not in SCOPES} | named

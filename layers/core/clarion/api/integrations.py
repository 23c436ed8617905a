"""Integrations: the provider per channel and environment. Answers never carry secrets in full."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.api.errors import ConflictError
from clarion.clock import now_iso
from clarion.ids import new_id
from clarion.model.integration import IntegrationCreate, masked
from clarion.store import integrations

router = APIGatewayRouter()


@router.post("/v1/integrations")
def create_integration(integration: IntegrationCreate) -> Response[dict[str, Any]]:
    now = now_iso()
    identifier = integration.identifier or f"{integration.provider_id}-{new_id()[:8]}"
    try:
        stored = integrations.create(
            router.context["environment_id"],
            {
                "identifier": identifier,
                "providerId": integration.provider_id,
                "channel": integration.channel,
                "name": integration.name or integration.provider_id,
                "credentials": integration.credentials,
                "active": integration.active,
                "createdAt": now,
                "updatedAt": now,
            },
        )
    except integrations.IntegrationExistsError as error:
        raise ConflictError(f"identifier: integration '{identifier}' already exists") from error
    return Response(
        status_code=201, content_type=content_types.APPLICATION_JSON, body={"data": masked(stored)}
    )


@router.get("/v1/integrations")
def list_integrations() -> dict[str, Any]:
    return {"data": [masked(i) for i in integrations.list_all(router.context["environment_id"])]}


@router.get("/v1/integrations/active")
def active_integrations() -> dict[str, Any]:
    return {"data": [masked(i) for i in integrations.all_active(router.context["environment_id"]).values()]}

"""Tenants: create, list page by page, read, patch (Novu allows a new identifier), delete."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from clarion.api.errors import BadRequestError, ConflictError, NotFoundError
from clarion.api.paths import path_id
from clarion.clock import now_iso
from clarion.model.identifiers import TenantId
from clarion.model.strict import StrictModel
from clarion.store import tenants

router = APIGatewayRouter()

TenantIdentifier = Annotated[TenantId, Field(pattern=r"^[^\s/#]+$")]


class TenantCreate(StrictModel):
    identifier: TenantIdentifier
    name: str = Field(min_length=1, max_length=256)
    data: dict[str, Any] = Field(default_factory=dict)


class TenantChanges(StrictModel):
    identifier: TenantIdentifier | None = None
    name: str | None = Field(default=None, min_length=1, max_length=256)
    data: dict[str, Any] | None = None


def _not_found(identifier: str) -> NotFoundError:
    return NotFoundError(f"identifier: tenant '{identifier}' not found")


def _exists(error: tenants.TenantExistsError) -> ConflictError:
    return ConflictError(f"identifier: tenant '{error.identifier}' already exists")


@router.post("/v1/tenants")
def create_tenant(tenant: TenantCreate) -> Response[dict[str, Any]]:
    try:
        stored = tenants.create(router.context["environment_id"], tenant.identifier, tenant.name, tenant.data)
    except tenants.TenantExistsError as error:
        raise _exists(error) from error
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body={"data": stored})


@router.get("/v1/tenants")
def list_tenants(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    try:
        page, next_cursor = tenants.page(router.context["environment_id"], limit, cursor)
    except tenants.BadCursorError as error:
        raise BadRequestError(
            f"cursor: {error}", {"cursor": {"messages": [str(error)], "type": "bad_cursor"}}
        ) from error
    return {"data": page, "next": next_cursor}


@router.get("/v1/tenants/<identifier>")
def get_tenant(identifier: str) -> dict[str, Any]:
    identifier = path_id(identifier, "identifier")
    tenant = tenants.get(router.context["environment_id"], identifier)
    if tenant is None:
        raise _not_found(identifier)
    return {"data": tenant}


@router.patch("/v1/tenants/<identifier>")
def update_tenant(identifier: str, changes: TenantChanges) -> dict[str, Any]:
    identifier = path_id(identifier, "identifier")
    environment_id = router.context["environment_id"]
    now = now_iso()
    if changes.identifier is not None and changes.identifier != identifier:
        try:
            tenant = tenants.rename(
                environment_id, identifier, changes.identifier, changes.name, changes.data, now
            )
        except tenants.TenantExistsError as error:
            raise _exists(error) from error
    else:
        tenant = tenants.update(environment_id, identifier, changes.name, changes.data, now)
    if tenant is None:
        raise _not_found(identifier)
    return {"data": tenant}


@router.delete("/v1/tenants/<identifier>")
def delete_tenant(identifier: str) -> Response[None]:
    identifier = path_id(identifier, "identifier")
    if not tenants.delete(router.context["environment_id"], identifier):
        raise _not_found(identifier)
    return Response(status_code=204, body=None)

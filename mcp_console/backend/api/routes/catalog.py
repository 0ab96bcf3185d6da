"""Catalog routes: search, detail, register, versions, publish, deprecate, import, export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, status

from mcp_console.backend.api.bodies import DeprecationBody, ServerJsonBody
from mcp_console.backend.api.deps import Actor, RuntimeDep, ScopedActor, ServiceName
from mcp_console.schemas.catalog import (
    CatalogDocument,
    CategoryCount,
    ImportReport,
    SearchPage,
    ServiceCreate,
    ServiceDetail,
    ServiceUpdate,
    ServiceView,
    TagCount,
    VersionCreate,
    VersionView,
)
from mcp_console.schemas.runnability import VersionRunnability

router = APIRouter(tags=["catalog"])

# Routes with a suffix after ``{name:path}`` come before the bare ``/services/{name:path}``:
# the path converter would otherwise swallow ``/versions``, ``/export``, ... into the name.


@router.get("/services")
async def search_services(
    rt: RuntimeDep,
    actor: ScopedActor,
    q: Annotated[str, Query(description='Words and filters, e.g. "git tag:vcs sort:rating".')] = "",
    page: Annotated[int, Query(description="1-based page.")] = 1,
    page_size: Annotated[int, Query(description="Results per page, 1..500.")] = 50,
) -> SearchPage:
    """Search the catalog."""
    return await rt.catalog.search(actor, q, page=page, page_size=page_size)


@router.post("/services", status_code=status.HTTP_201_CREATED)
async def register_service(rt: RuntimeDep, actor: Actor, new: ServiceCreate) -> ServiceDetail:
    """Register a service as a draft owned by the caller."""
    return await rt.catalog.register(actor, new)


@router.get("/categories")
async def list_categories(rt: RuntimeDep, actor: ScopedActor) -> list[CategoryCount]:
    """Categories of published services with counts."""
    return await rt.catalog.categories(actor)


@router.get("/tags")
async def list_tags(
    rt: RuntimeDep, actor: ScopedActor, limit: Annotated[int, Query(ge=1, le=10_000)] = 200
) -> list[TagCount]:
    """The most used tags of published services with counts."""
    return await rt.catalog.tags(actor, limit)


@router.get("/featured")
async def featured_services(
    rt: RuntimeDep, actor: ScopedActor, limit: Annotated[int, Query(ge=1, le=500)] = 20
) -> list[ServiceView]:
    """Featured published services."""
    return await rt.catalog.featured(limit)


@router.get("/me/services")
async def my_services(rt: RuntimeDep, actor: ScopedActor) -> list[ServiceView]:
    """The caller's own services, drafts included."""
    return await rt.catalog.services_by_author(actor)


@router.post("/catalog/import")
async def import_catalog(
    rt: RuntimeDep, actor: Actor, documents: Annotated[list[CatalogDocument], Body()]
) -> ImportReport:
    """Import catalog documents (server.json, registry seed, Docker catalog)."""
    return await rt.catalog.import_documents(actor, documents)


@router.post("/catalog/publish")
async def publish_server_json(rt: RuntimeDep, actor: Actor, body: ServerJsonBody) -> ServiceDetail:
    """Register or update a service from a server.json document and publish it."""
    return await rt.catalog.publish_document(actor, body.text, body.origin)


@router.post("/services/{name:path}/versions", status_code=status.HTTP_201_CREATED)
async def add_version(
    rt: RuntimeDep, actor: Actor, name: ServiceName, new: VersionCreate
) -> VersionView:
    """Add a version to a service."""
    return await rt.catalog.add_version(actor, name, new)


@router.post("/services/{name:path}/publish")
async def publish_service(rt: RuntimeDep, actor: Actor, name: ServiceName) -> ServiceDetail:
    """Publish a draft service."""
    return await rt.catalog.publish(actor, name)


@router.post("/services/{name:path}/deprecate")
async def deprecate_service(
    rt: RuntimeDep, actor: Actor, name: ServiceName, body: DeprecationBody
) -> ServiceDetail:
    """Deprecate a service with a message for its users."""
    return await rt.catalog.deprecate(actor, name, body.message)


@router.get("/services/{name:path}/export")
async def export_server_json(
    rt: RuntimeDep,
    actor: ScopedActor,
    name: ServiceName,
    version: Annotated[str | None, Query(description="Default: the latest version.")] = None,
) -> dict[str, Any]:
    """A version as an official server.json document."""
    return await rt.catalog.export(actor, name, version)


@router.get("/services/{name:path}/runnability")
async def version_runnability(
    rt: RuntimeDep, actor: ScopedActor, name: ServiceName
) -> list[VersionRunnability]:
    """Whether each version can run on this machine, on which runtimes, and why not."""
    return await rt.runnability.of_service(actor, name)


@router.patch("/services/{name:path}")
async def update_service(
    rt: RuntimeDep, actor: Actor, name: ServiceName, changes: ServiceUpdate
) -> ServiceDetail:
    """Change a service's descriptive fields."""
    return await rt.catalog.update(actor, name, changes)


@router.get("/services/{name:path}")
async def get_service(rt: RuntimeDep, actor: ScopedActor, name: ServiceName) -> ServiceDetail:
    """A service with its versions and rating histogram."""
    return await rt.catalog.get_service(actor, name)

"""Review routes: read and write ratings and comments of a service."""

from __future__ import annotations

from fastapi import APIRouter, status

from mcp_console.backend.api.deps import Actor, RuntimeDep, ScopedActor, ServiceName
from mcp_console.schemas.catalog import ReviewCreate, ReviewView

router = APIRouter(tags=["reviews"])


@router.get("/services/{name:path}/reviews")
async def list_reviews(rt: RuntimeDep, actor: ScopedActor, name: ServiceName) -> list[ReviewView]:
    """Reviews of a service, newest first."""
    return await rt.catalog.list_reviews(actor, name)


@router.post("/services/{name:path}/reviews", status_code=status.HTTP_201_CREATED)
async def add_review(
    rt: RuntimeDep, actor: Actor, name: ServiceName, review: ReviewCreate
) -> ReviewView:
    """Add or update the caller's review of a service."""
    return await rt.catalog.add_review(actor, name, review)

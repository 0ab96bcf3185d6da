"""Quota routes: limits on billable calls of users, teams, keys and deployments, and their use."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from mcp_console.backend.api.deps import Actor, RuntimeDep
from mcp_console.schemas.quotas import QuotaSet, QuotaView

router = APIRouter(tags=["billing"])

QuotaId = Annotated[int, Path(description="The quota's id, as the list shows it.", ge=1)]


@router.get("/billing/quotas")
async def list_quotas(rt: RuntimeDep, actor: Actor) -> list[QuotaView]:
    """The quotas over the caller's calls and those the caller may set, with their use now
    (an admin's: every quota)."""
    return await rt.quotas.list_quotas(actor)


@router.post("/billing/quotas", status_code=status.HTTP_201_CREATED)
async def set_quota(rt: RuntimeDep, actor: Actor, quota: QuotaSet) -> QuotaView:
    """Set a limit, or a new figure for the one of the same subject, kind, period and tool
    (admins any; a deployment's owner its deployment's; a team's maintainer the team's;
    anyone their own keys')."""
    return await rt.quotas.set_quota(actor, quota)


@router.delete("/billing/quotas/{quota_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_quota(rt: RuntimeDep, actor: Actor, quota_id: QuotaId) -> None:
    """Remove a limit (whoever may set it)."""
    await rt.quotas.remove_quota(actor, quota_id)

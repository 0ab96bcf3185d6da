"""Alerting routes: notification targets (add, list, remove, send a test) and the delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from mcp_console.backend.api.deps import Actor, RuntimeDep
from mcp_console.schemas.alerts import DeliveryView, TargetCreate, TargetView

router = APIRouter(tags=["alerts"])

TargetName = Annotated[str, Path(description="The notification target's name.")]


@router.get("/alerts/targets")
async def list_targets(rt: RuntimeDep, actor: Actor) -> list[TargetView]:
    """Every notification target by name, URLs with credentials masked (admins)."""
    return await rt.notifications.list_targets(actor)


@router.post("/alerts/targets", status_code=status.HTTP_201_CREATED)
async def add_target(rt: RuntimeDep, actor: Actor, new: TargetCreate) -> TargetView:
    """Add a webhook (signed when a secret is given), Alertmanager or apprise target (admins)."""
    return await rt.notifications.add_target(actor, new)


@router.delete("/alerts/targets/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_target(rt: RuntimeDep, actor: Actor, name: TargetName) -> None:
    """Remove a target and its delivery log (admins)."""
    await rt.notifications.remove_target(actor, name)


@router.post("/alerts/targets/{name}/test")
async def test_target(rt: RuntimeDep, actor: Actor, name: TargetName) -> DeliveryView:
    """Send a test notification now; the delivery as it went (retried later if it failed)."""
    return await rt.notifications.test_target(actor, name)


@router.get("/alerts/deliveries")
async def deliveries(
    rt: RuntimeDep,
    actor: Actor,
    target: Annotated[str | None, Query(description="Only this target's.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[DeliveryView]:
    """The delivery log, newest first: attempts, the last error, when the next try is (admins)."""
    return await rt.notifications.deliveries(actor, target, limit)

"""Tool-definition drift routes: a deployment's findings, approving them, its policy."""

from __future__ import annotations

from fastapi import APIRouter

from mcp_console.backend.api.deps import RuntimeDep, ScopedActor
from mcp_console.backend.api.routes.deployments import DeploymentName
from mcp_console.schemas.drift import DriftApproval, DriftPolicyChange, DriftReport

# Included before the deployment routes: their ``/deployments/{name:path}`` would take
# ``/deployments/calc/drift`` for a deployment called ``calc/drift``.
router = APIRouter(tags=["drift"])


@router.get("/deployments/{name:path}/drift")
async def drift_report(rt: RuntimeDep, actor: ScopedActor, name: DeploymentName) -> DriftReport:
    """The approved tool definitions, what differs from them (with diffs), what is held
    back; for the deployment's operators and admins."""
    return await rt.drift.report(actor, name)


@router.post("/deployments/{name:path}/drift/approve")
async def approve_drift(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName, approval: DriftApproval
) -> DriftReport:
    """Approve every waiting finding (``all``) or those of the named definitions."""
    return await rt.drift.approve(actor, name, approval)


@router.put("/deployments/{name:path}/drift/policy")
async def set_drift_policy(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName, change: DriftPolicyChange
) -> DriftReport:
    """``alert``, or ``block``: hide changed and new tools from clients until approved."""
    return await rt.drift.set_policy(actor, name, change.policy)

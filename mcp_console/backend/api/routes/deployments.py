"""Deployment routes: create, list, show, scale, update, configure, roll back, stop, start,
delete, logs, share."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel, Field

from mcp_console.backend.api.deps import Actor, RuntimeDep, ScopedActor
from mcp_console.schemas.deploy import (
    MAX_REPLICAS,
    DeploymentCreate,
    DeploymentDetail,
    DeploymentReconfigure,
    DeploymentUpdate,
    DeploymentView,
    HistoryEntry,
    InstanceLogs,
    Reconfigured,
    ShareCreate,
)

router = APIRouter(tags=["deployments"])


def deployment_name(
    name: Annotated[
        str,
        Path(
            description="The deployment's address: its name if it is yours, else owner/name "
            "(send / as %2F)."
        ),
    ],
) -> str:
    """The deployment name from the path, with an encoded slash restored."""
    return unquote(name)


DeploymentName = Annotated[str, Depends(deployment_name)]


class ScaleBody(BaseModel):
    """How many instances to run."""

    replicas: int = Field(ge=0, le=MAX_REPLICAS)


class AutoscaleBody(BaseModel):
    """An autoscale policy, or ``null`` to turn autoscaling off."""

    policy: dict[str, Any] | None = Field(
        description="min_replicas, max_replicas, target_inflight or target_rps, "
        "scale_up_cooldown_s, scale_down_cooldown_s"
    )


@router.get("/deployments")
async def list_deployments(rt: RuntimeDep, actor: ScopedActor) -> list[DeploymentView]:
    """The caller's deployments (an admin sees everyone's), with live figures."""
    return rt.live_figures.live_views(await rt.deployments.list_deployments(actor))


@router.post("/deployments", status_code=status.HTTP_201_CREATED)
async def create_deployment(
    rt: RuntimeDep, actor: Actor, new: DeploymentCreate
) -> DeploymentDetail:
    """Deploy a service version; its instances start in the background."""
    return await rt.deployments.create(actor, new)


@router.post("/deployments/{name:path}/scale")
async def scale_deployment(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName, body: ScaleBody
) -> DeploymentDetail:
    """Run a number of instances."""
    return await rt.deployments.scale(actor, name, body.replicas)


@router.post("/deployments/{name:path}/update")
async def update_deployment(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName, body: DeploymentUpdate
) -> DeploymentDetail:
    """Roll out another version (rolled back by itself if it does not become healthy), and/or
    set what the audit trail keeps of its tool calls' arguments."""
    return await rt.deployments.update(
        actor, name, body.version, audit_arguments=body.audit_arguments
    )


@router.post("/deployments/{name:path}/configure")
async def configure_deployment(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName, body: DeploymentReconfigure
) -> Reconfigured:
    """Change its configuration, secrets, limits, host variables or session mode (owner and
    admins); running instances are replaced by a rolling restart. ``dry_run`` only reports
    what would change (secrets as "(set)" or "(changed)", never their values)."""
    return await rt.deployments.reconfigure(actor, name, body)


@router.post("/deployments/{name:path}/rollback")
async def rollback_deployment(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName
) -> DeploymentDetail:
    """Cancel an update in progress, or return to the previous version."""
    return await rt.deployments.rollback(actor, name)


@router.post("/deployments/{name:path}/stop")
async def stop_deployment(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName
) -> DeploymentDetail:
    """Stop every instance."""
    return await rt.deployments.stop(actor, name)


@router.post("/deployments/{name:path}/start")
async def start_deployment(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName
) -> DeploymentDetail:
    """Start a stopped deployment, or retry its failed instances."""
    return await rt.deployments.start(actor, name)


@router.put("/deployments/{name:path}/autoscale")
async def set_autoscale(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName, body: AutoscaleBody
) -> DeploymentDetail:
    """Turn autoscaling on with a policy, or off."""
    return await rt.deployments.set_autoscale(actor, name, body.policy)


@router.get("/deployments/{name:path}/history")
async def deployment_history(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName
) -> list[HistoryEntry]:
    """Every change of the deployment, newest first."""
    return await rt.deployments.history(actor, name)


@router.get("/deployments/{name:path}/logs")
async def deployment_logs(
    rt: RuntimeDep,
    actor: ScopedActor,
    name: DeploymentName,
    instance: Annotated[str | None, Query(description="Only this instance.")] = None,
    tail: Annotated[int, Query(description="Lines per instance, 1..5000.")] = 100,
) -> list[InstanceLogs]:
    """The last log lines of each instance, secret values masked."""
    return await rt.deployments.logs(actor, name, instance=instance, tail=tail)


# Sharing takes a key without a scope: a key for an agent never widens who reaches what.
@router.post("/deployments/{name:path}/shares")
async def share_deployment(
    rt: RuntimeDep, actor: Actor, name: DeploymentName, share: ShareCreate
) -> DeploymentDetail:
    """Share the deployment with a user or a team as caller or operator (owner and admins)."""
    return await rt.deployments.share(actor, name, share)


@router.delete("/deployments/{name:path}/shares")
async def unshare_deployment(
    rt: RuntimeDep,
    actor: Actor,
    name: DeploymentName,
    user: Annotated[str | None, Query(description="The user to take access from.")] = None,
    team: Annotated[str | None, Query(description="The team to take access from.")] = None,
) -> DeploymentDetail:
    """Stop sharing the deployment with a user or a team (give exactly one)."""
    return await rt.deployments.unshare(actor, name, user=user, team=team)


# After the suffixed routes: the path converter would swallow ``/scale`` into the name.
@router.get("/deployments/{name:path}")
async def get_deployment(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName
) -> DeploymentDetail:
    """A deployment with its instances, their health and live figures."""
    return rt.live_figures.live_view(await rt.deployments.get(actor, name))


@router.delete("/deployments/{name:path}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_deployment(rt: RuntimeDep, actor: ScopedActor, name: DeploymentName) -> None:
    """Remove the deployment and everything it runs."""
    await rt.deployments.delete(actor, name)

"""Finding deployments and versions for the service, and small rules it applies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.catalog.service import can_see
from mcp_console.backend.db.models import McpService, ServiceDeployment, ServiceVersion, User
from mcp_console.backend.deploy.access import grant_access, require
from mcp_console.backend.deploy.autoscaler import AutoscalePolicy
from mcp_console.backend.deploy.deployment_record import DeploymentState, load_states
from mcp_console.schemas.deploy import DesiredState
from mcp_console.schemas.errors import Conflict, NotFound
from mcp_console.schemas.users import Principal


async def find(
    session: AsyncSession,
    actor: Principal,
    name: str,
    verb: str = "see",
) -> DeploymentState:
    """The deployment the actor names ``name`` (their own) or ``owner/name`` (anyone's they
    may see), with ``access`` set.

    Raises:
        NotFound: there is none the actor may see (deleted ones included): a deployment
            nobody shared with them is not told apart from one that does not exist.
        Forbidden: the actor sees it but may not ``verb`` it (``schemas.deploy.VERBS``).
    """
    owner_id = actor.user_id
    wanted = name
    if "/" in name:
        owner, wanted = name.split("/", 1)
        owner_id = (await session.scalar(select(User.id).where(User.name == owner))) or -1
    states = await load_states(
        session,
        ServiceDeployment.user_id == owner_id,
        ServiceDeployment.deployment_name == wanted,
        ServiceDeployment.desired_state != DesiredState.DELETED.value,
    )
    visible = await grant_access(session, actor, states)
    if not visible:
        raise NotFound(f"no deployment named {name!r}", field="name")
    state = visible[0]
    require(state, verb)
    return state


async def refuse_taken(session: AsyncSession, actor: Principal, name: str) -> None:
    """Raise ``Conflict`` when the actor already has a deployment called ``name``."""
    taken = await session.scalar(
        select(ServiceDeployment.desired_state).where(
            ServiceDeployment.user_id == actor.user_id,
            ServiceDeployment.deployment_name == name,
        )
    )
    if taken == DesiredState.DELETED:
        raise Conflict(f"deployment {name!r} is still being deleted", field="name")
    if taken is not None:
        raise Conflict(f"you already have a deployment named {name!r}", field="name")


async def service_version(
    session: AsyncSession, actor: Principal, service_name: str, version: str | None
) -> tuple[McpService, ServiceVersion]:
    """A service visible to the actor and one of its versions (default: the latest).

    Raises:
        NotFound: no such service (field ``service``) or version (field ``version``).
    """
    service = await session.scalar(select(McpService).where(McpService.name == service_name))
    if service is None or not can_see(actor, service):
        raise NotFound(f"no service named {service_name!r}", field="service")
    query = select(ServiceVersion).where(ServiceVersion.service_id == service.id)
    if version is not None:
        row = await session.scalar(query.where(ServiceVersion.version == version))
    else:
        row = await session.scalar(query.where(ServiceVersion.is_latest.is_(True)))
    if row is None:
        what = f"version {version}" if version else "a version to deploy"
        raise NotFound(f"{service_name} has no {what}", field="version")
    return service, row


def version_label(state: DeploymentState, version_id: int | None) -> str | None:
    """The label of one of the deployment's versions."""
    row = state.version(version_id)
    return row.version if row is not None else None


def policy_of(data: dict[str, Any] | None) -> AutoscalePolicy | None:
    """A validated autoscale policy, or ``None`` for none."""
    return AutoscalePolicy.from_dict(data) if data else None


def clamp(replicas: int, policy: AutoscalePolicy | None) -> int:
    """``replicas`` brought within the policy's bounds."""
    if policy is None:
        return replicas
    return min(max(replicas, policy.min_replicas), policy.max_replicas)

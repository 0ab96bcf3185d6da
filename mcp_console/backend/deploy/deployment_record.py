"""A deployment as recorded: its row with everything around it, loaded in a few queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.db.models import (
    DeploymentSecret,
    McpService,
    ServiceDeployment,
    ServiceInstance,
    ServiceVersion,
    User,
)
from mcp_console.backend.deploy.plan import Recipe
from mcp_console.schemas.deploy import (
    Access,
    HealthState,
    InstanceStatus,
)
from mcp_console.schemas.users import Principal

# Instances that hold (or are about to hold) a slot of their version.
LIVE = frozenset({InstanceStatus.STARTING, InstanceStatus.RUNNING, InstanceStatus.RESTARTING})
# The name prefix of an instance started for one gateway session (bridge/session_instances.py owns
# them): they are no replicas, so the controller never counts, restarts or adopts them.
DEDICATED_PREFIX = "s-"


@dataclass
class DeploymentState:
    """One deployment row with its service, owner, versions, instances and secret names."""

    deployment: ServiceDeployment
    service: str
    owner: str
    versions: dict[int, ServiceVersion]
    instances: list[ServiceInstance] = field(default_factory=list)
    secret_names: list[str] = field(default_factory=list)
    # What the user who looked it up may do with it (``deploy.access`` sets it).
    access: Access | None = None

    @property
    def id(self) -> int:
        """The deployment's id."""
        return self.deployment.id

    @property
    def name(self) -> str:
        """The deployment's name."""
        return self.deployment.deployment_name

    def version(self, version_id: int | None) -> ServiceVersion | None:
        """A loaded version row."""
        return self.versions.get(version_id) if version_id is not None else None

    def recipe(self, version_id: int) -> Recipe:
        """What to run for one of the deployment's versions."""
        row = self.versions[version_id]
        return Recipe.of(self.service, row)

    def slots(self, version_id: int | None) -> list[ServiceInstance]:
        """Instances of ``version_id`` that count towards its replicas (FAILED ones do)."""
        return [
            row
            for row in self.instances
            if row.version_id == version_id
            and row.status not in (InstanceStatus.DRAINING, InstanceStatus.STOPPED)
        ]

    def current(self, row: ServiceInstance) -> bool:
        """Whether the instance was started with the deployment's settings as they are (after
        their last change)."""
        changed = self.deployment.settings_changed_at
        return changed is None or row.created_at >= changed

    def healthy(self, version_id: int | None) -> list[ServiceInstance]:
        """Instances of ``version_id`` that are running and healthy."""
        return [
            row
            for row in self.slots(version_id)
            if row.status == InstanceStatus.RUNNING and row.health == HealthState.HEALTHY
        ]


async def load_states(
    session: AsyncSession, *where: ColumnElement[bool], with_secrets: bool = True
) -> list[DeploymentState]:
    """Every deployment matching ``where``, with what surrounds it, in four queries."""
    rows = (
        await session.execute(
            select(ServiceDeployment, McpService.name, User.name)
            .join(McpService, McpService.id == ServiceDeployment.service_id)
            .join(User, User.id == ServiceDeployment.user_id)
            .where(*where)
            .order_by(ServiceDeployment.id)
        )
    ).all()
    if not rows:
        return []
    states = {
        deployment.id: DeploymentState(deployment, service, owner, {})
        for deployment, service, owner in rows
    }
    version_ids = {
        vid
        for state in states.values()
        for vid in (
            state.deployment.version_id,
            state.deployment.target_version_id,
            state.deployment.previous_version_id,
        )
        if vid is not None
    }
    instances = list(
        await session.scalars(
            select(ServiceInstance)
            .where(
                ServiceInstance.deployment_id.in_(states),
                ServiceInstance.name.not_like(f"{DEDICATED_PREFIX}%"),
            )
            .order_by(ServiceInstance.id)
        )
    )
    version_ids |= {row.version_id for row in instances if row.version_id is not None}
    versions = {
        row.id: row
        for row in await session.scalars(
            select(ServiceVersion).where(ServiceVersion.id.in_(version_ids))
        )
    }
    for state in states.values():
        state.versions = versions
    for row in instances:
        states[row.deployment_id].instances.append(row)
    if with_secrets:
        secrets = await session.execute(
            select(DeploymentSecret.deployment_id, DeploymentSecret.name)
            .where(DeploymentSecret.deployment_id.in_(states))
            .order_by(DeploymentSecret.name)
        )
        for deployment_id, name in secrets:
            states[deployment_id].secret_names.append(name)
    return list(states.values())


async def load_state(session: AsyncSession, deployment_id: int) -> DeploymentState | None:
    """One deployment by id, or ``None``."""
    states = await load_states(session, ServiceDeployment.id == deployment_id)
    return states[0] if states else None


def live(rows: Sequence[ServiceInstance]) -> list[ServiceInstance]:
    """The rows expected to have a running container or process (or to get one soon)."""
    return [row for row in rows if row.status in LIVE]


def address(actor: Principal, state: DeploymentState) -> str:
    """How the actor names the deployment (``owner/name`` when it is someone else's)."""
    if state.deployment.user_id == actor.user_id:
        return state.name
    return f"{state.owner}/{state.name}"

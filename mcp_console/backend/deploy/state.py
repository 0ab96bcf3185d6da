"""A deployment with everything around it, loaded in a few queries, and its DTOs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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
from mcp_console.backend.deploy.config import masked_config
from mcp_console.backend.deploy.plan import Recipe
from mcp_console.schemas.deploy import (
    DeploymentDetail,
    DeploymentStatus,
    DeploymentView,
    DesiredState,
    HealthState,
    InstanceStatus,
    InstanceView,
    RuntimeChoice,
)

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


def _version_label(state: DeploymentState, version_id: int | None) -> str | None:
    row = state.version(version_id)
    return row.version if row is not None else None


def instance_view(state: DeploymentState, row: ServiceInstance) -> InstanceView:
    """The DTO of one instance."""
    version = state.version(row.version_id)
    return InstanceView(
        id=row.id,
        name=row.name,
        version=version.version if version is not None else None,
        status=InstanceStatus(row.status),
        health=HealthState(row.health),
        driver=row.driver,
        ref=row.container_id,
        transport=version.transport if version is not None else "stdio",
        host=row.host,
        port=row.port,
        url=row.health_check_url,
        last_health_check=row.last_health_check,
        last_error=row.last_error,
        stderr_tail=(row.stderr_tail or "").splitlines(),
        restart_count=row.restart_count,
        exit_code=row.exit_code,
        created_at=row.created_at,
    )


def _view_fields(state: DeploymentState) -> dict[str, Any]:
    d = state.deployment
    current = state.version(d.version_id)
    return {
        "id": d.id,
        "name": d.deployment_name,
        "owner": state.owner,
        "service": state.service,
        "version": current.version if current is not None else "?",
        "status": DeploymentStatus(d.status),
        "status_reason": d.status_reason,
        "desired_state": DesiredState(d.desired_state),
        "runtime": RuntimeChoice(d.runtime),
        "driver": d.driver,
        "transport": current.transport if current is not None else "stdio",
        "replicas": d.replicas,
        "ready_replicas": len(state.healthy(d.version_id)),
        "endpoint_url": d.endpoint_url,
        "target_version": _version_label(state, d.target_version_id),
        "previous_version": _version_label(state, d.previous_version_id),
        "created_at": d.created_at,
        "updated_at": d.updated_at,
    }


def deployment_view(state: DeploymentState) -> DeploymentView:
    """The list-row DTO of a deployment."""
    return DeploymentView(**_view_fields(state))


def deployment_detail(state: DeploymentState) -> DeploymentDetail:
    """The detail DTO: settings (secrets masked) and every instance."""
    d = state.deployment
    return DeploymentDetail(
        **_view_fields(state),
        config=masked_config(dict(d.config), state.secret_names),
        secret_names=list(state.secret_names),
        cpu_limit=d.cpu_limit,
        memory_limit_mb=d.memory_limit_mb,
        session_mode=d.session_mode,
        autoscale=dict(d.autoscale) or None,
        rollout_deadline=d.rollout_deadline,
        instances=[instance_view(state, row) for row in state.instances],
    )


def live(rows: Sequence[ServiceInstance]) -> list[ServiceInstance]:
    """The rows expected to have a running container or process (or to get one soon)."""
    return [row for row in rows if row.status in LIVE]

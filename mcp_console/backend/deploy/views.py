"""The DTOs of a deployment and its instances, built from its record."""

from __future__ import annotations

from typing import Any

from mcp_console.backend.db.models import ServiceInstance
from mcp_console.backend.deploy.config import masked_config
from mcp_console.backend.deploy.deployment_record import DeploymentState, address
from mcp_console.backend.deploy.remote import REMOTE, STREAMABLE_HTTP
from mcp_console.schemas.audit import AuditArguments
from mcp_console.schemas.deploy import (
    Access,
    DeploymentDetail,
    DeploymentStatus,
    DeploymentView,
    DesiredState,
    HealthState,
    InstanceStatus,
    InstanceView,
    RuntimeChoice,
    ShareView,
)
from mcp_console.schemas.users import Principal


def _version_label(state: DeploymentState, version_id: int | None) -> str | None:
    row = state.version(version_id)
    return row.version if row is not None else None


def _transport(driver: str | None, declared: str | None) -> str:
    # A remote deployment is reached over Streamable HTTP whatever its packages speak.
    return STREAMABLE_HTTP if driver == REMOTE else declared or "stdio"


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
        transport=_transport(row.driver, version.transport if version is not None else None),
        host=row.host,
        port=row.port,
        url=row.health_check_url,
        last_health_check=row.last_health_check,
        last_error=row.last_error,
        stderr_tail=(row.stderr_tail or "").splitlines(),
        restart_count=row.restart_count,
        exit_code=row.exit_code,
        created_at=row.created_at,
        image=row.image_digest,
    )


def _view_fields(actor: Principal, state: DeploymentState) -> dict[str, Any]:
    d = state.deployment
    current = state.version(d.version_id)
    return {
        "id": d.id,
        "name": d.deployment_name,
        "address": address(actor, state),
        "access": state.access or Access.OWNER,
        "owner": state.owner,
        "service": state.service,
        "version": current.version if current is not None else "?",
        "status": DeploymentStatus(d.status),
        "status_reason": d.status_reason,
        "desired_state": DesiredState(d.desired_state),
        "runtime": RuntimeChoice(d.runtime),
        "driver": d.driver,
        "transport": _transport(d.driver, current.transport if current is not None else None),
        "replicas": d.replicas,
        "ready_replicas": len(state.healthy(d.version_id)),
        "endpoint_url": d.endpoint_url,
        "target_version": _version_label(state, d.target_version_id),
        "previous_version": _version_label(state, d.previous_version_id),
        "created_at": d.created_at,
        "updated_at": d.updated_at,
    }


def deployment_view(actor: Principal, state: DeploymentState) -> DeploymentView:
    """The list-row DTO of a deployment, as the actor sees it."""
    return DeploymentView(**_view_fields(actor, state))


def deployment_detail(
    actor: Principal, state: DeploymentState, shares: list[ShareView]
) -> DeploymentDetail:
    """The detail DTO: settings (secrets masked), every instance, who it is shared with."""
    d = state.deployment
    return DeploymentDetail(
        **_view_fields(actor, state),
        shares=shares,
        config=masked_config(dict(d.config), state.secret_names),
        secret_names=list(state.secret_names),
        cpu_limit=d.cpu_limit,
        memory_limit_mb=d.memory_limit_mb,
        session_mode=d.session_mode,
        pass_env=list(d.pass_env),
        audit_arguments=AuditArguments(d.audit_arguments),
        autoscale=dict(d.autoscale) or None,
        rollout_deadline=d.rollout_deadline,
        instances=[instance_view(state, row) for row in state.instances],
    )

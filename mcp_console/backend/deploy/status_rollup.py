"""A deployment's status, derived from its instances, with a reason a person can act on."""

from __future__ import annotations

import re

from mcp_console.backend.deploy.deployment_record import DeploymentState
from mcp_console.schemas.deploy import (
    DeploymentStatus,
    DesiredState,
    HealthState,
    InstanceStatus,
)

_SUMMARY = re.compile(r"^(\d+ of \d+ instances healthy|scaled to zero)")


def is_summary(reason: str | None) -> bool:
    """Whether a stored reason was derived by ``compute_status`` (rather than a note such as
    why an update was rolled back, which stays until the status changes)."""
    return reason is not None and _SUMMARY.match(reason) is not None


def compute_status(state: DeploymentState) -> tuple[DeploymentStatus, str | None]:
    """DEPLOYING until first fully healthy; then RUNNING, or DEGRADED while instances are
    failing; FAILED when it never came up and every instance crash-looped; STOPPED on request.
    """
    d = state.deployment
    if d.desired_state != DesiredState.RUNNING:
        return DeploymentStatus.STOPPED, None
    rows = state.slots(d.version_id)
    healthy = state.healthy(d.version_id)
    failed = [row for row in rows if row.status == InstanceStatus.FAILED]
    troubled = [
        row
        for row in rows
        if row.status == InstanceStatus.RESTARTING or row.health == HealthState.UNHEALTHY
    ]
    summary = f"{len(healthy)} of {d.replicas} instances healthy"
    culprit = next((row for row in failed + troubled if row.last_error), None)
    if culprit is not None:
        summary += f"; {culprit.name}: {culprit.last_error}"
    if d.target_version_id is not None:
        target = state.version(d.target_version_id)
        summary += f"; rolling out {target.version if target else '?'}"
    if d.replicas == 0:
        return DeploymentStatus.RUNNING, "scaled to zero"
    if len(healthy) >= d.replicas:
        rolling = d.target_version_id is not None
        return DeploymentStatus.RUNNING, summary if rolling else None
    if d.status in (DeploymentStatus.DEPLOYING, DeploymentStatus.FAILED):
        # It has never been fully up since it was created or started.
        if failed and len(failed) == len(rows):
            return DeploymentStatus.FAILED, summary
        if failed and healthy:
            return DeploymentStatus.DEGRADED, summary
        return DeploymentStatus.DEPLOYING, summary
    if failed or troubled:
        return DeploymentStatus.DEGRADED, summary
    return DeploymentStatus.RUNNING, summary

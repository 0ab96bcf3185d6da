"""Rollouts: new-version instances next to the old ones; commit when healthy, else roll back.

The old version keeps all its replicas until the new one has as many healthy instances; then
the deployment switches version and the old instances are drained and stopped. A new
version that is not healthy by the deadline, or whose instance crash-loops, is removed
again by itself: the deployment stays on the old version and its history says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.db.models import ServiceDeployment
from mcp_console.backend.deploy import history
from mcp_console.backend.deploy.deployment_record import DeploymentState
from mcp_console.schemas.deploy import InstanceStatus
from mcp_console.schemas.users import Principal

Action = Literal["wait", "commit", "rollback"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with a rollout now, and why."""

    action: Action
    reason: str = ""


def label(state: DeploymentState, version_id: int | None) -> str:
    """A version's label for messages."""
    row = state.version(version_id)
    return row.version if row is not None else "?"


def judge(state: DeploymentState, now: datetime) -> Verdict:
    """Commit once the target has ``replicas`` healthy instances; roll back on a crash loop
    or when the deadline has passed; otherwise wait."""
    d = state.deployment
    target = d.target_version_id
    new = label(state, target)
    healthy = state.healthy(target)
    if len(healthy) >= d.replicas:
        return Verdict("commit", f"{len(healthy)} of {d.replicas} instances of {new} healthy")
    failed = [row for row in state.slots(target) if row.status == InstanceStatus.FAILED]
    if failed:
        return Verdict("rollback", f"{new} failed: {failed[0].last_error or 'crash loop'}")
    if d.rollout_deadline is not None and now >= d.rollout_deadline:
        errors = [row.last_error for row in state.slots(target) if row.last_error]
        why = f"; last error: {errors[-1]}" if errors else ""
        return Verdict(
            "rollback",
            f"{new} was not healthy by the deadline "
            f"({len(healthy)} of {d.replicas} instances healthy){why}",
        )
    return Verdict("wait", f"rolling out {new}: {len(healthy)} of {d.replicas} instances healthy")


def deadline(now: datetime, seconds: float) -> datetime:
    """The rollout deadline ``seconds`` from ``now``."""
    return now + timedelta(seconds=seconds)


async def commit(session: AsyncSession, state: DeploymentState, reason: str) -> bool:
    """Switch the deployment to its target version; False if the rollout changed meanwhile."""
    d = state.deployment
    old, new = d.version_id, d.target_version_id
    result = await session.execute(
        update(ServiceDeployment)
        .where(ServiceDeployment.id == d.id, ServiceDeployment.target_version_id == new)
        .values(
            previous_version_id=old,
            version_id=new,
            target_version_id=None,
            rollout_deadline=None,
            status_reason=f"updated to {label(state, new)}",
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    history.record(
        session,
        d,
        "rollout-complete",
        changes={"version": history.change(label(state, old), label(state, new))},
        reason=reason,
    )
    assert new is not None
    d.previous_version_id, d.version_id, d.target_version_id = old, new, None
    d.rollout_deadline = None
    return True


async def abandon(
    session: AsyncSession,
    state: DeploymentState,
    reason: str,
    *,
    actor: Principal | None = None,
) -> bool:
    """Drop the target version and stay on the current one; False if it changed meanwhile.

    Without an actor this is the automatic rollback; with one, a user cancelled the update.
    """
    d = state.deployment
    target = d.target_version_id
    result = await session.execute(
        update(ServiceDeployment)
        .where(ServiceDeployment.id == d.id, ServiceDeployment.target_version_id == target)
        .values(
            target_version_id=None,
            rollout_deadline=None,
            status_reason=f"update to {label(state, target)} rolled back: {reason}",
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    history.record(
        session,
        d,
        "rollback" if actor is not None else "auto-rollback",
        actor=actor,
        changes={"version": history.change(label(state, target), label(state, d.version_id))},
        reason=reason,
    )
    d.target_version_id, d.rollout_deadline = None, None
    return True

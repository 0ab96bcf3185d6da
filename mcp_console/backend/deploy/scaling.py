"""One autoscaling pass: the load of each autoscaled deployment, a decision, its record."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import ServiceDeployment
from mcp_console.backend.deploy import history
from mcp_console.backend.deploy.autoscaler import AutoscalePolicy, Autoscaler
from mcp_console.backend.deploy.deployment_record import load_states
from mcp_console.backend.events import EventBus
from mcp_console.backend.ports import LoadSource
from mcp_console.schemas.deploy import DesiredState
from mcp_console.schemas.errors import Invalid

logger = logging.getLogger(__name__)


async def autoscale_pass(
    sessions: async_sessionmaker[AsyncSession],
    events: EventBus,
    autoscaler: Autoscaler,
    source: LoadSource,
    poke: Callable[[int], None],
) -> int:
    """Apply the autoscaler's decisions; returns how many deployments changed.

    Deployments in the middle of a rollout are left alone. Samples are read on
    ``time.monotonic()``'s clock. Each change is recorded in the history with its reason.
    """
    async with sessions() as session:
        states = await load_states(
            session,
            ServiceDeployment.desired_state == DesiredState.RUNNING.value,
            with_secrets=False,
        )
    changed = 0
    for state in states:
        d = state.deployment
        if not d.autoscale or d.target_version_id is not None:
            continue
        try:
            policy = AutoscalePolicy.from_dict(dict(d.autoscale))
        except Invalid as exc:
            logger.warning("deployment %s has a bad autoscale policy: %s", d.id, exc)
            continue
        decision = autoscaler.decide(
            d.id, policy, d.replicas, source.sample(d.id), time.monotonic()
        )
        if decision is None or decision.replicas == d.replicas:
            continue
        async with sessions.begin() as session:
            result = await session.execute(
                update(ServiceDeployment)
                .where(ServiceDeployment.id == d.id, ServiceDeployment.replicas == d.replicas)
                .values(replicas=decision.replicas)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                continue  # someone scaled it meanwhile; theirs stands
            history.record(
                session,
                d,
                "scale",
                system=history.AUTOSCALER,
                changes={"replicas": history.change(d.replicas, decision.replicas)},
                reason=decision.reason,
            )
        events.publish(
            {
                "type": "deployment.scaled",
                "deployment": d.deployment_name,
                "deployment_id": d.id,
                "owner_id": d.user_id,
                "replicas": decision.replicas,
                "reason": decision.reason,
                "automatic": True,
            }
        )
        changed += 1
        poke(d.id)
    return changed

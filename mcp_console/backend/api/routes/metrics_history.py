"""The metrics history route: a deployment's kept figures over a range, split as asked."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mcp_console.backend.api.deps import RuntimeDep, ScopedActor
from mcp_console.backend.api.routes.deployments import DeploymentName
from mcp_console.schemas.monitor import MetricsHistory

# Included before the deployment routes: their ``/deployments/{name:path}/history`` would
# take ``/deployments/calc/metrics/history`` for a deployment called ``calc/metrics``.
router = APIRouter(tags=["live"])

Period = Annotated[str, Query(alias="range", description="How far back: 15m, 1h, 24h, 7d or 30d.")]
By = Annotated[
    str | None, Query(description="A series per instance, tool or user, beside the total.")
]


@router.get("/deployments/{name:path}/metrics/history")
async def metrics_history(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName, period: Period = "1h", by: By = None
) -> MetricsHistory:
    """Requests, errors, latency, bytes and instance figures over a range; each tool's calls."""
    return await rt.metrics_history.history(actor, name, period, by)

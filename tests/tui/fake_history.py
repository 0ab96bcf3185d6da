"""Metrics history for FakeClient: deterministic series over any range, from FakeLive's clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from mcp_console.schemas.deploy import DeploymentDetail
from mcp_console.schemas.monitor import (
    HISTORY_STEPS,
    Breakdown,
    HistoryPoint,
    HistorySeries,
    MetricsHistory,
    ToolFigures,
    breakdown_of,
    history_range,
)
from tests.tui.fake_live import errors_at, p50_at, p95_at, requests_at

TOOLS = ("add", "echo")


def _series(key: str, steps: list[datetime], share: int, gauges: bool) -> HistorySeries:
    points = []
    for at in steps:
        second = int(at.timestamp())
        requests = requests_at(second) * share
        errors = errors_at(second)
        points.append(
            HistoryPoint(
                at=at,
                requests=requests,
                errors=errors,
                errors_rpc=errors,
                errors_http=0,
                errors_refused=0,
                p50_ms=p50_at(second),
                p95_ms=p95_at(second),
                p99_ms=p95_at(second) + 40,
                bytes_in=requests * 120,
                bytes_out=requests * 380,
                in_flight_max=1 + second % 3 if gauges else None,
                sessions_max=1 if gauges else None,
                restarts=0 if gauges else None,
                cpu_percent=float(4 + second % 20) if gauges else None,
                memory_mb=48.0 if gauges else None,
            )
        )
    return HistorySeries(
        key=key,
        requests=sum(p.requests for p in points),
        errors=sum(p.errors for p in points),
        p95_ms=max((p.p95_ms or 0.0 for p in points), default=None),
        points=points,
    )


def fake_history(
    deployment: DeploymentDetail, now: datetime, period: str, by: str | None
) -> MetricsHistory:
    """The history the backend would answer, as the backend checks its range and breakdown."""
    chosen, group = history_range(period), breakdown_of(by)
    span, step = HISTORY_STEPS[chosen]
    end = datetime.fromtimestamp((int(now.timestamp()) // step + 1) * step, now.tzinfo)
    steps = [end - timedelta(seconds=span - i * step) for i in range(span // step)]
    keys: list[str] = []
    if group is Breakdown.INSTANCE:
        keys = [i.name for i in deployment.instances]
    elif group is Breakdown.TOOL:
        keys = list(TOOLS)
    elif group is Breakdown.USER:
        keys = [deployment.owner]
    total = _series("all", steps, max(1, len(keys)), gauges=True)
    return MetricsHistory(
        deployment=deployment.address,
        period=chosen,
        step_s=step,
        start=steps[0],
        end=end,
        by=group,
        total=total,
        breakdown=[_series(k, steps, 1, group is Breakdown.INSTANCE) for k in keys],
        tools=[
            ToolFigures(
                tool=tool,
                calls=total.requests // len(TOOLS),
                errors=0,
                p50_ms=30.0,
                p95_ms=total.p95_ms,
                p99_ms=total.p95_ms,
            )
            for tool in TOOLS
        ],
    )

"""Builders for the metrics history tests: deployment rows, requests, a clock tests move."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from mcp_console.backend.db.models_history import TRAFFIC_SUMS, Grain, metrics_traffic
from mcp_console.backend.gateway.records import RequestRecord
from tests.gateway.test_metering import deployment_rows

__all__ = ["deployment_rows"]

# A fixed start, on a whole hour (epoch seconds): 2026-12-01 00:00 UTC.
T0 = 1_796_083_200.0


@dataclass
class Clock:
    """Epoch seconds that move only when a test says so."""

    now: float = T0

    def __call__(self) -> float:
        return self.now


def request(
    deployment: int,
    at: float,
    *,
    instance: str | None = "i-a",
    user: int | None = 1,
    tool: str | None = "add",
    status: int = 200,
    error: bool | int = False,
    latency_ms: float = 3.0,
) -> RequestRecord:
    """One finished request as the gateway records it (a tool call unless ``tool`` is None)."""
    return RequestRecord(
        deployment_id=deployment,
        instance_id=instance,
        user_id=user,
        method="tools/call" if tool else "tools/list",
        tool_name=tool,
        status=status,
        error=error,
        latency_ms=latency_ms,
        bytes_in=100,
        bytes_out=300,
        at=at,
    )


def varied(
    deployments: list[int], users: list[int], start: float, seconds: float, n: int
) -> list[RequestRecord]:
    """``n`` requests spread over ``seconds`` from ``start``: two instances, three tools,
    every user, every kind of error and latencies across the whole histogram."""
    out = []
    for i in range(n):
        kind = i % 11
        out.append(
            request(
                deployments[i % len(deployments)],
                start + seconds * i / n,
                instance=None if kind in (7, 8) else ("i-a", "i-b")[i % 2],
                user=users[i % len(users)] if kind != 8 else None,
                tool=("add", "echo", "sleep", None)[i % 4],
                status=(200, 200, 502, 200, 200, 200, 200, 429, 401, 200, 200)[kind],
                error={2: True, 5: -32601, 9: -32000}.get(kind, kind in (7, 8)),
                latency_ms=(0.4, 3, 40, 700, 4000, 70000, 12, 180, 1.5, 25000, 9)[kind],
            )
        )
    return out


async def tier_sums(
    engine: AsyncEngine, tier: int, before: float | None = None, grain: Grain = Grain.TOTAL
) -> Counter[str]:
    """Every counter of the traffic table summed over one tier and grain (buckets before
    ``before``)."""
    t = metrics_traffic.c
    query = select(*(func.sum(t[name]) for name in TRAFFIC_SUMS)).where(
        t.tier == tier, t.grain == grain
    )
    if before is not None:
        query = query.where(t.bucket < before)
    async with engine.connect() as conn:
        row = (await conn.execute(query)).one()
    return Counter({name: int(value or 0) for name, value in zip(TRAFFIC_SUMS, row, strict=True)})


def expected_sums(records: Iterable[RequestRecord]) -> Counter[str]:
    """What the traffic counters should add up to for ``records``, counted plainly."""
    from mcp_console.backend.monitor.latency_histogram import bucket_of
    from mcp_console.backend.monitor.request_outcome import error_kind

    out: Counter[str] = Counter()
    for r in records:
        out["requests"] += 1
        kind = error_kind(r)
        if kind is not None:
            out[f"errors_{kind.value}"] += 1
        out["latency_us"] += round(r.latency_ms * 1000)
        out["bytes_in"] += r.bytes_in
        out["bytes_out"] += r.bytes_out
        out[f"h{bucket_of(r.latency_ms):02d}"] += 1
    return Counter({name: out[name] for name in TRAFFIC_SUMS})

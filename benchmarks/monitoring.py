"""Monitoring's costs, each figure printed beside its target.

    python benchmarks/monitoring.py

One function per figure (each returns a ``Figure``); ``main`` runs them all. Figures:

- ``chart_query_7d``: a deployment's 7-day chart (``MetricsHistoryService.history``, range
  ``7d``) in a SQLite database holding 100 deployments' history as the tiers keep it: 30
  days of hours, a day of minutes and the last two hours of 10-second buckets, the most
  recent written and summed by the history's own store.
- ``log_search_1m``: the slowest of five typical log searches over 1,000,000 stored lines,
  each printed beside ``grep`` on the same lines (``log_search.py``).
- ``alert_evaluation_1000``: one evaluation of 1,000 alert rules over 100 deployments' last
  hour of history (``alert_evaluation.py``).
- ``gateway_with_monitoring``: the gateway's own CPU per call with every monitoring tap on
  (history, /metrics, access log, audit) and their writers in its process, for the HTTP and
  the stdio path, printed beside the same gateway without them (``gateway.py`` targets
  ``gw-*-monitored``, wrk, 8 connections, both protocol eras, the median of three runs).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from mcp_console.backend.db.engine import create_engine, session_factory
from mcp_console.backend.db.migrate import upgrade_sync
from mcp_console.backend.db.models import McpService, ServiceDeployment, ServiceVersion, User
from mcp_console.backend.db.models_history import (
    HISTOGRAM_COLUMNS,
    TRAFFIC_SUMS,
    Grain,
    metrics_instances,
    metrics_rollups,
    metrics_traffic,
)
from mcp_console.backend.monitor.history_query import MetricsHistoryService
from mcp_console.backend.monitor.history_recorder import HistoryBatch, InstanceGauges
from mcp_console.backend.monitor.history_store import roll_up, write_batch
from mcp_console.schemas.users import Principal, Role
from mcp_console.settings import MonitorSettings

DEPLOYMENTS = 100
GATEWAY_REPS = 3
INSTANCES = ("i-a", "i-b")
TOOLS = ("search", "fetch", "summarize", "translate", "")
USERS = 3
HOURS_KEPT = 30 * 24  # hour buckets older than the last two hours
MINUTES_KEPT = 22 * 60  # minute buckets before the last two hours
RAW_SECONDS = 2 * 3600  # at most this much in 10-second buckets, written through the store
ROUNDS = 3  # each deployment's chart is asked this many times
BATCH = 20_000


@dataclass(frozen=True)
class Figure:
    """One measured figure and its target (lower is better)."""

    name: str
    value: float
    unit: str
    target: float

    @property
    def met(self) -> bool:
        """Whether the figure is within its target."""
        return self.value <= self.target


def _traffic_row(rng: random.Random, requests: int) -> list[int]:
    """Counters of ``requests`` requests (in TRAFFIC_SUMS order): some errors, latencies
    mostly fast with a slow tail."""
    histogram = [0] * len(HISTOGRAM_COLUMNS)
    for _ in range(min(requests, 12)):  # a few draws shape the histogram; the rest scale
        histogram[min(int(rng.expovariate(0.45)) + 2, len(histogram) - 1)] += 1
    scale = requests / max(1, sum(histogram))
    histogram = [round(h * scale) for h in histogram]
    histogram[3] += requests - sum(histogram)
    errors = requests // 40
    return [
        requests,
        errors // 2,
        errors - errors // 2,
        requests // 200,
        requests * 35_000,
        requests * 420,
        requests * 1_900,
        *histogram,
    ]


Key = tuple[str, str, int]  # instance, tool, user


def _grains(each: dict[Key, list[int]]) -> dict[tuple[Grain, str, str, int], list[int]]:
    """The rows of one bucket at every grain, summed from its rows per instance, tool and
    user as the recorder sums them."""
    out: dict[tuple[Grain, str, str, int], list[int]] = {}
    for (instance, tool, user), sums in each.items():
        for key in (
            (Grain.EACH, instance, tool, user),
            (Grain.TOTAL, "", "", 0),
            (Grain.INSTANCE, instance, "", 0),
            (Grain.TOOL, "", tool, 0),
            (Grain.USER, "", "", user),
        ):
            mine = out.setdefault(key, [0] * len(sums))
            for i, value in enumerate(sums):
                mine[i] += value
    return out


def _rows(
    deployment: int, tier: int, bucket: int, each: dict[Key, list[int]]
) -> list[dict[str, Any]]:
    rows = []
    for (grain, instance, tool, user), sums in _grains(each).items():
        row: dict[str, Any] = {
            "deployment_id": deployment,
            "tier": tier,
            "grain": int(grain),
            "bucket": bucket,
            "instance": instance,
            "tool": tool,
            "user_id": user,
        }
        row.update(zip(TRAFFIC_SUMS, sums, strict=True))
        rows.append(row)
    return rows


def _gauge_row(
    deployment: int, tier: int, bucket: int, instance: str, samples: int
) -> dict[str, Any]:
    return {
        "deployment_id": deployment,
        "tier": tier,
        "bucket": bucket,
        "instance": instance,
        "in_flight_max": 3,
        "sessions_max": 5,
        "restarts": 0,
        "cpu_sum": 12.5 * samples,
        "cpu_n": samples,
        "cpu_max": 30.0,
        "memory_sum": 80.0 * samples,
        "memory_n": samples,
        "memory_max": 96.0,
    }


async def _insert(engine: AsyncEngine, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        async with engine.begin() as conn:
            await conn.execute(insert(table), rows[start : start + BATCH])


async def _world(engine: AsyncEngine) -> tuple[Principal, list[str]]:
    async with session_factory(engine)() as session, session.begin():
        owner = User(name="owner", role="user")
        session.add(owner)
        await session.flush()
        service = McpService(name="bench", display_name="Bench", author_id=owner.id)
        session.add(service)
        await session.flush()
        version = ServiceVersion(service_id=service.id, version="1.0.0")
        session.add(version)
        await session.flush()
        names = [f"d{i:03d}" for i in range(DEPLOYMENTS)]
        session.add_all(
            ServiceDeployment(
                service_id=service.id,
                version_id=version.id,
                user_id=owner.id,
                deployment_name=name,
                uid=uuid.uuid4().hex,
            )
            for name in names
        )
        principal = Principal(user_id=owner.id, name=owner.name, role=Role.USER)
    return principal, names


async def _history(engine: AsyncEngine, now: int) -> None:
    """The stored history of every deployment, as the tiers keep it."""
    rng = random.Random(7)
    keys = [(i, t, u) for i in INSTANCES for t in TOOLS for u in range(1, USERS + 1)]
    raw_start = now - now % 3600 - RAW_SECONDS + 3600  # the store writes from this hour on
    hours: list[dict[str, Any]] = []
    minutes: list[dict[str, Any]] = []
    gauges = []
    for deployment in range(1, DEPLOYMENTS + 1):
        busy = rng.uniform(0.2, 3.0)
        for h in range(HOURS_KEPT):
            bucket = raw_start - (h + 1) * 3600
            each = {k: _traffic_row(rng, int(400 * busy) + 1) for k in rng.sample(keys, 12)}
            hours += _rows(deployment, 3600, bucket, each)
            gauges += [_gauge_row(deployment, 3600, bucket, i, 720) for i in INSTANCES]
        for m in range(MINUTES_KEPT):
            bucket = raw_start - (m + 1) * 60
            each = {k: _traffic_row(rng, int(7 * busy) + 1) for k in rng.sample(keys, 4)}
            minutes += _rows(deployment, 60, bucket, each)
            gauges += [_gauge_row(deployment, 60, bucket, i, 12) for i in INSTANCES]
    await _insert(engine, metrics_traffic, hours)
    await _insert(engine, metrics_traffic, minutes)
    await _insert(engine, metrics_instances, gauges)
    async with engine.begin() as conn:
        await conn.execute(
            insert(metrics_rollups),
            [{"tier": 60, "done_until": raw_start}, {"tier": 3600, "done_until": raw_start}],
        )
    # The last hours go through the store: 10-second rows, then summed into the tiers.
    for chunk in range(raw_start, now, 600):
        batch = HistoryBatch()
        for deployment in range(1, DEPLOYMENTS + 1):
            for bucket in range(chunk, min(chunk + 600, now), 10):
                each = {k: _traffic_row(rng, rng.randint(1, 4)) for k in rng.sample(keys, 2)}
                for (grain, instance, tool, user), sums in _grains(each).items():
                    batch.traffic[(deployment, bucket, grain, instance, tool, user)] = sums
                for instance in INSTANCES:
                    g = InstanceGauges(in_flight_max=2)
                    g.read(rng.uniform(1, 40), 80.0)
                    batch.gauges[(deployment, bucket, instance)] = g
        async with engine.begin() as conn:
            await write_batch(conn, batch)
    async with engine.begin() as conn:
        minute = await roll_up(conn, 10, 60, now - now % 60 - 60)
    async with engine.begin() as conn:
        await roll_up(conn, 60, 3600, minute - minute % 3600)


async def _chart_query_7d() -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'history.db'}"
        await asyncio.to_thread(upgrade_sync, url)
        engine = create_engine(url)
        try:
            now = int(time.time())
            owner, names = await _world(engine)
            await _history(engine, now)
            service = MetricsHistoryService(
                session_factory(engine), MonitorSettings(), clock=lambda: now
            )
            await service.history(owner, names[0], "7d")  # warm: statements compiled, DTOs built
            timings, cpu = [], []
            for _ in range(ROUNDS):
                for name in names:
                    started, used = time.perf_counter(), time.process_time()
                    chart = await service.history(owner, name, "7d")
                    timings.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - used) * 1000)
                    assert len(chart.total.points) == 168
                    assert chart.total.requests > 0
            return timings, cpu
        finally:
            await engine.dispose()


def chart_query_7d() -> Figure:
    """p95 of one deployment's 7-day chart among 100 deployments' stored history."""
    timings, cpu = asyncio.run(_chart_query_7d())
    p95 = statistics.quantiles(timings, n=20)[-1]
    # The wall time waits for the CPU on a busy machine: what the query itself costs, and
    # how busy the machine was, say how far to trust it.
    print(
        f"  7-day chart: median {statistics.median(timings):.1f} ms, p95 CPU "
        f"{statistics.quantiles(cpu, n=20)[-1]:.1f} ms (process, all threads); load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    return Figure("7-day chart query, 100 deployments (p95)", p95, "ms", 50.0)


def log_search_1m() -> Figure:
    """The slowest of the typical log searches over 1,000,000 stored lines (its p95); each
    query's figure is printed first, beside grep on the same lines (``log_search.py``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import log_search

    worst, report = log_search.log_search()
    print(report)
    name = "log search, 1,000,000 lines (slowest query's p95)"
    return Figure(name, worst, "ms", log_search.TARGET_MS)


def alert_evaluation_1000() -> Figure:
    """p95 of one evaluation of 1,000 rules (``alert_evaluation.py``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import alert_evaluation

    p95, report = alert_evaluation.alert_evaluation()
    print(report)
    return Figure(
        "one evaluation of 1,000 alert rules (p95)", p95, "ms", alert_evaluation.TARGET_MS
    )


def gateway_with_monitoring() -> Figure:
    """The highest gateway CPU-ms per call of the monitored runs (wrk, K=8, both eras),
    each the median of ``GATEWAY_REPS`` runs: one run on a shared machine varies by a
    tenth of its figure."""
    here = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "gateway.json"
        targets = ["gw-http", "gw-http-monitored", "gw-stdio", "gw-stdio-monitored"]
        command = [sys.executable, str(here / "gateway.py"), "--targets", *targets]
        command += ["--ks", "8", "--no-python", "--no-setup", "--duration", "8"]
        command += ["--reps", str(GATEWAY_REPS)]
        subprocess.run([*command, "--json-out", str(out)], check=True, capture_output=True)
        rows = json.loads(out.read_text())["wrk"]
    runs: dict[tuple[str, str], list[float]] = {}
    for row in rows:
        runs.setdefault((row["target"], row["era"]), []).append(row["own_ms"])
    medians = {key: statistics.median(values) for key, values in runs.items()}
    for (target, era), value in medians.items():
        spread = ", ".join(f"{v:.3f}" for v in runs[(target, era)])
        print(f"  {target:<20} {era:<7} {value:.3f} CPU-ms/call (runs: {spread})")
    worst = max(v for (target, _), v in medians.items() if target.endswith("-monitored"))
    name = "gateway CPU per call with every monitoring tap on (worst path, median)"
    return Figure(name, worst, "CPU-ms", 0.4)


FIGURES: tuple[Callable[[], Figure], ...] = (
    chart_query_7d,
    log_search_1m,
    alert_evaluation_1000,
    gateway_with_monitoring,
)


def main() -> int:
    """Measure every figure and print it beside its target."""
    missed = 0
    for measure in FIGURES:
        figure = measure()
        verdict = "MET" if figure.met else "MISSED"
        missed += not figure.met
        print(
            f"{figure.name}: {figure.value:.1f} {figure.unit} "
            f"(target <= {figure.target:g} {figure.unit})  {verdict}"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

"""One evaluation of 1,000 alert rules over 100 deployments' last hour, timed.

    python benchmarks/alert_evaluation.py

A SQLite database (as the console keeps by default) holds 100 running deployments, an hour
of their gateway traffic in the metrics history (recorded, written and rolled up into
minutes and hours by the history's own recorder and store) and instance rows; 1,000
rules: each deployment's own nine (error rate, latency percentiles, request rate, errors,
restarts, CPU, memory, crash loop over four windows) and 100 rules on every deployment.
The engine evaluates them as the scheduler does; the first two evaluations (which create
the alerts that fire) are not timed.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet

from mcp_console.backend.db.engine import create_engine, session_factory
from mcp_console.backend.db.migrate import upgrade_sync
from mcp_console.backend.db.models import (
    AlertRule,
    McpService,
    ServiceDeployment,
    ServiceVersion,
    User,
)
from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.monitor.alert_engine import AlertEngine
from mcp_console.backend.monitor.history_recorder import RAW_TIER, HistoryRecorder, bucket_start
from mcp_console.backend.monitor.history_store import roll_up, write_batch
from mcp_console.backend.monitor.notifications import Notifications
from mcp_console.backend.security.secrets import SecretBox
from mcp_console.settings import MonitorSettings

TARGET_MS = 100.0
DEPLOYMENTS = 100
RULES_EACH = 9
GLOBAL_RULES = 100
WINDOWS = (60, 300, 900, 3600)
METRICS = (
    ("error_rate", ">", 0.5),
    ("p95_ms", ">", 2000.0),
    ("p99_ms", ">", 5000.0),
    ("requests_per_s", ">", 50.0),
    ("errors", ">", 100.0),
    ("restarts", ">=", 3.0),
    ("cpu_percent", ">", 90.0),
    ("memory_mb", ">", 1024.0),
    ("crash_looping", ">", 0.0),
)
ROUNDS = 20


async def _world(url: str) -> list[int]:
    engine = create_engine(url)
    try:
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
            rows = [
                ServiceDeployment(
                    service_id=service.id,
                    version_id=version.id,
                    user_id=owner.id,
                    deployment_name=f"d{i:03d}",
                    uid=uuid.uuid4().hex,
                )
                for i in range(DEPLOYMENTS)
            ]
            session.add_all(rows)
            await session.flush()
            ids = [r.id for r in rows]
            rng = random.Random(3)
            n = 0
            for deployment in ids:
                for metric, op, threshold in METRICS[:RULES_EACH]:
                    session.add(_rule(f"r{n}", metric, op, threshold, rng, deployment))
                    n += 1
            for g in range(GLOBAL_RULES):
                metric, op, threshold = METRICS[g % len(METRICS)]
                session.add(_rule(f"g{g}", metric, op, threshold * 0.5, rng, None))
        recorder = HistoryRecorder()
        now = time.time()
        for deployment in ids:
            failing = rng.random() < 0.1
            for second in range(0, 3600, 6):
                recorder.record(
                    RequestRecord(
                        deployment_id=deployment,
                        instance_id="i-1",
                        user_id=1,
                        method="tools/call",
                        tool_name=rng.choice(("search", "fetch")),
                        status=200,
                        error=-32603 if failing and rng.random() < 0.7 else False,
                        latency_ms=rng.expovariate(1 / 40),
                        bytes_in=100,
                        bytes_out=400,
                        at=now - 3600 + second,
                    )
                )
        async with engine.begin() as conn:
            await write_batch(conn, recorder.take())
            # As the history's writer leaves it every minute: the finished minutes and hours
            # summed into their tiers.
            minutes = await roll_up(conn, RAW_TIER, 60, bucket_start(now - RAW_TIER, 60))
            await roll_up(conn, 60, 3600, bucket_start(minutes, 3600))
        return ids
    finally:
        await engine.dispose()


def _rule(
    name: str, metric: str, op: str, threshold: float, rng: random.Random, deployment: int | None
) -> AlertRule:
    return AlertRule(
        name=name,
        metric=metric,
        op=op,
        threshold=threshold,
        window_s=rng.choice(WINDOWS),
        for_s=rng.choice((0, 60, 300)),
        severity="warning",
        deployment_id=deployment,
        labels={},
        description="",
        builtin=False,
        enabled=True,
    )


async def _evaluations(url: str) -> tuple[list[float], int]:
    engine = create_engine(url)
    box = SecretBox(Fernet.generate_key())

    async def the_box() -> SecretBox:
        return box

    try:
        sessions = session_factory(engine)
        alerts = AlertEngine(engine, sessions, Notifications(sessions, the_box), MonitorSettings())
        for _ in range(2):
            await alerts.evaluate()
        timings = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            result = await alerts.evaluate()
            timings.append((time.perf_counter() - started) * 1000)
        return timings, result.firing + result.pending
    finally:
        await engine.dispose()


def alert_evaluation() -> tuple[float, str]:
    """The p95 (ms) of one evaluation, and a line saying what was evaluated."""
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'alerts.db'}"
        upgrade_sync(url)
        asyncio.run(_world(url))
        timings, open_alerts = asyncio.run(_evaluations(url))
    p95 = statistics.quantiles(timings, n=20)[-1]
    rules = DEPLOYMENTS * RULES_EACH + GLOBAL_RULES
    report = (
        f"  {rules} rules over {DEPLOYMENTS} deployments, {open_alerts} alerts open: "
        f"median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms "
        f"({datetime.now(UTC):%H:%M} UTC)"
    )
    return p95, report


if __name__ == "__main__":
    worst, line = alert_evaluation()
    print(line)
    verdict = "MET" if worst <= TARGET_MS else "MISSED"
    figure = f"one evaluation of 1,000 alert rules (p95): {worst:.1f} ms"
    print(f"{figure} (target <= {TARGET_MS:g} ms)  {verdict}")
    sys.exit(0 if worst <= TARGET_MS else 1)

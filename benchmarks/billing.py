"""Billing's costs, each figure printed beside its target and what the peers offer.

    python benchmarks/billing.py                                 # every figure
    python benchmarks/billing.py --only month_close_sqlite       # one figure (repeatable)
    python benchmarks/billing.py --only month_close_postgres --postgres-url URL
    python benchmarks/billing.py --users 1000 --requests 1000000  # a smaller month

One function per figure (each returns a ``Figure``); ``main`` runs those asked for. Figures:

- ``month_close_sqlite`` / ``month_close_postgres``: closing a month (``MonthCloser.close``:
  every user's and team's invoice computed and issued, lines and all) whose hourly usage
  rows hold 10,000,000 billable requests of 10,000 users (100 hourly rows of each user over
  4 of 20 deployments; FREE, PAID, FREEMIUM, per-tool prices and a price changed
  mid-month; 100 teams of 10) on SQLite and on PostgreSQL (``--postgres-url``, else
  ``MCP_CONSOLE_TEST_POSTGRES_URL``; a database is made for the run and dropped after).
  The rows are seeded with bulk inserts: requests are counts in hourly rows, as the meter
  writes them.
- ``quota_check`` / ``gateway_quota``: a billable call's quota reservation and settlement
  under three limits (µs, target 20), and the gateway's CPU per call with every call under
  them, over an HTTP and a stdio echo upstream, beside the same without quotas
  (``billing_quota.py``; target: still 0.4 CPU-ms).
- ``usage_query_sqlite`` / ``usage_query_postgres``: one user's month of usage by day, as
  that user reads it (``UsageService``), over the month close's rows: p95 of 200 users
  (target 20 ms).
- ``exactness``: 100,000 calls through the gateway, concurrently, of several users and keys
  to FREE, PAID and FREEMIUM deployments; every invoice must be exact to the cent (the
  suite's ``tests/gateway/test_exact_billing.py`` at full size).
- ``journal_per_call`` / ``durable_metering``: what no lost charges cost (see
  ``metering_durability.py``): the crash journal's counter on every billable call, and the
  gateway's CPU per call with durable metering (each call's usage written before its reply).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from mcp_console.backend.billing.money import amount
from mcp_console.backend.billing.month_close import MonthCloser
from mcp_console.backend.billing.prices import PriceService
from mcp_console.backend.billing.usage import UsageService
from mcp_console.backend.db.engine import create_engine, session_factory
from mcp_console.backend.db.migrate import upgrade_sync
from mcp_console.backend.db.models import (
    McpService,
    ServiceDeployment,
    ServiceVersion,
    Team,
    TeamMember,
    User,
)
from mcp_console.backend.db.models_billing import ServicePrice, UsageHour
from mcp_console.backend.db.models_invoices import Invoice, InvoiceLine
from mcp_console.schemas.billing import UsageBreakdown, UsageQuery
from mcp_console.schemas.users import Principal, Role

sys.path.insert(0, str(Path(__file__).resolve().parent))
import billing_quota
import metering_durability

POSTGRES_URL_VAR = "MCP_CONSOLE_TEST_POSTGRES_URL"
MONTH = datetime(2026, 11, 1, tzinfo=UTC)
PRICE_CHANGE = datetime(2026, 11, 15, tzinfo=UTC)
AFTER = datetime(2026, 12, 1, 1, tzinfo=UTC)  # the time the month is closed and read at
USERS = 10_000
REQUESTS = 10_000_000
ROWS_PER_USER = 100  # 4 deployments x 25 hours
DEPLOYMENTS_PER_SERVICE = 4
TEAM_SIZE = 10
BATCH = 20_000
CLOSE_TARGET_S = 60.0
USAGE_TARGET_MS = 20.0
QUERIES = 200
NO_USAGE_PEER = "ContextForge: per-tool metrics, no priced usage; ToolHive: none"
NO_PEER = "no peer closes invoices (ContextForge: billing export requested; ToolHive: none)"


@dataclass(frozen=True)
class Figure:
    """One measured figure, its target (lower is better) and what the peers offer."""

    name: str
    value: float | None  # None: not measured (the reason is in ``note``)
    unit: str
    target: float
    peer: str
    note: str = ""

    @property
    def met(self) -> bool:
        """Whether the figure is within its target."""
        return self.value is not None and self.value <= self.target


@dataclass(frozen=True)
class Scale:
    """How big the closed month is."""

    users: int
    requests: int


# name, model, catalog price per call, tool prices, free requests (FREEMIUM)
SERVICES: tuple[tuple[str, str, str, dict[str, str], int], ...] = (
    ("free", "FREE", "0", {}, 0),
    ("paid", "PAID", "0.0015", {}, 0),
    ("freemium", "FREEMIUM", "0.002", {}, 200),
    ("per-tool", "PAID", "0.01", {"render": "0.004"}, 0),
    ("repriced", "PAID", "0.003", {}, 0),
)


Deployment = tuple[int, str, str]  # id, the tool its calls name, its service


async def _world(engine: AsyncEngine, scale: Scale) -> list[Deployment]:
    """Users, teams, services priced every way, and their deployments."""
    since = datetime(2026, 1, 1, tzinfo=UTC)
    async with session_factory(engine)() as session, session.begin():
        owner = User(name="owner", role="author")
        session.add(owner)
        await session.flush()
        deployments: list[tuple[ServiceDeployment, str, str]] = []
        for name, model, per_call, tools, free in SERVICES:
            service = McpService(
                name=name,
                display_name=name,
                author_id=owner.id,
                price_model=model,
                price_per_request=Decimal(per_call),
            )
            session.add(service)
            await session.flush()
            version = ServiceVersion(service_id=service.id, version="1.0.0")
            session.add(version)
            await session.flush()
            prices = [(since, "", model, per_call, free)]
            prices += [(since, tool, "PAID", price, 0) for tool, price in tools.items()]
            if name == "repriced":
                prices.append((PRICE_CHANGE, "", "PAID", "0.0025", 0))
            session.add_all(
                ServicePrice(
                    service_id=service.id,
                    tool=tool,
                    price_model=m,
                    unit_price=Decimal(p),
                    free_requests=f,
                    effective_from=start,
                    set_at=since,
                )
                for start, tool, m, p, f in prices
            )
            for i in range(DEPLOYMENTS_PER_SERVICE):
                row = ServiceDeployment(
                    service_id=service.id,
                    version_id=version.id,
                    user_id=owner.id,
                    deployment_name=f"{name}-{i}",
                    uid=uuid.uuid4().hex,
                )
                session.add(row)
                deployments.append((row, "render" if tools and i % 2 else "search", name))
        await session.flush()
        kept = [(row.id, tool, name) for row, tool, name in deployments]
    await _insert(
        engine,
        User.__table__,
        ({"name": f"user{u:05d}", "role": "user"} for u in range(scale.users)),
    )
    async with engine.connect() as conn:
        users = list((await conn.execute(select(User.id).where(User.name != "owner"))).scalars())
    teams = len(users) // TEAM_SIZE
    await _insert(engine, Team.__table__, ({"name": f"team{t:04d}"} for t in range(teams)))
    async with engine.connect() as conn:
        team_ids = list((await conn.execute(select(Team.id).order_by(Team.id))).scalars())
    await _insert(
        engine,
        TeamMember.__table__,
        (
            {"team_id": team, "user_id": users[t * TEAM_SIZE + m], "role": "member"}
            for t, team in enumerate(team_ids)
            for m in range(TEAM_SIZE)
        ),
    )
    return kept


def _usage(
    users: list[int], deployments: list[Deployment], scale: Scale
) -> Iterator[dict[str, Any]]:
    """Each user's hourly rows: 4 deployments, 25 hours of each, the requests spread evenly."""
    rng = random.Random(11)
    per_row, extra = divmod(scale.requests, len(users) * ROWS_PER_USER)
    hours = [MONTH + timedelta(hours=h) for h in range(30 * 24)]
    n = 0
    for user in users:
        for deployment, tool, _ in rng.sample(deployments, ROWS_PER_USER // 25):
            for hour in rng.sample(hours, 25):
                requests = per_row + (1 if n < extra else 0)
                n += 1
                yield {
                    "deployment_id": deployment,
                    "user_id": user,
                    "hour": hour,
                    "method": "tools/call",
                    "tool": tool,
                    "request_count": requests,
                    "error_count": requests // 50,
                }


def _expected(users: list[int], deployments: list[Deployment], scale: Scale) -> Decimal:
    """The users' invoices' total worked out here from the same rows: each user's calls
    times their prices, the allowance taken once per user, rounded once per user."""
    service_of = {d: service for d, _, service in deployments}
    exact: dict[int, Decimal] = {}
    freemium: dict[int, int] = {}
    for row in _usage(users, deployments, scale):
        user, served = row["user_id"], row["request_count"] - row["error_count"]
        service = service_of[row["deployment_id"]]
        if service == "freemium":
            freemium[user] = freemium.get(user, 0) + served
            continue
        price = {
            "free": Decimal(0),
            "paid": Decimal("0.0015"),
            "per-tool": Decimal("0.004") if row["tool"] == "render" else Decimal("0.01"),
            "repriced": Decimal("0.003") if row["hour"] < PRICE_CHANGE else Decimal("0.0025"),
        }[service]
        exact[user] = exact.get(user, Decimal(0)) + served * price
    for user, served in freemium.items():
        exact[user] = exact.get(user, Decimal(0)) + max(0, served - 200) * Decimal("0.002")
    return sum((amount(e, "USD") for e in exact.values()), Decimal(0))


async def _insert(engine: AsyncEngine, table: Any, rows: Iterator[dict[str, Any]]) -> int:
    """``rows`` in multi-row batches; how many."""
    done = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            async with engine.begin() as conn:
                await conn.execute(insert(table), batch)
            done, batch = done + len(batch), []
    if batch:
        async with engine.begin() as conn:
            await conn.execute(insert(table), batch)
        done += len(batch)
    return done


async def _seed(
    url: str, engine: AsyncEngine, scale: Scale
) -> tuple[list[Deployment], list[tuple[int, str]], int]:
    """The month on a migrated database: users, teams, services and deployments, then the
    hourly rows (analysed on PostgreSQL). The deployments, the users and how many rows."""
    await asyncio.to_thread(upgrade_sync, url)
    deployments = await _world(engine, scale)
    async with engine.connect() as conn:
        found = await conn.execute(select(User.id, User.name).where(User.name != "owner"))
        users = [(user_id, name) for user_id, name in found]
    rows = _usage([user for user, _ in users], deployments, scale)
    seeded = await _insert(engine, UsageHour.__table__, rows)
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
    return deployments, users, seeded


async def _close_month(url: str, scale: Scale) -> tuple[float, int, int, Decimal, Decimal, int]:
    """Seconds to close the seeded month; invoices, lines, users' total (issued and worked
    out here), rows seeded."""
    engine = create_engine(url)
    try:
        deployments, named, seeded = await _seed(url, engine, scale)
        users = [user for user, _ in named]
        sessions = session_factory(engine)
        prices = PriceService(sessions, "USD", clock=lambda: AFTER)
        closer = MonthCloser(sessions, prices, clock=lambda: AFTER)
        started = time.perf_counter()
        closed = await closer.close(MONTH)
        elapsed = time.perf_counter() - started
        async with engine.connect() as conn:
            lines = await conn.scalar(select(func.count()).select_from(InvoiceLine))
            total = await conn.scalar(
                select(func.sum(Invoice.total)).where(Invoice.subject_kind == "user")
            )
        expected = _expected(users, deployments, scale)
        issued = amount(Decimal(total or 0), "USD")
        return elapsed, closed.invoices, int(lines or 0), issued, expected, seeded
    finally:
        await engine.dispose()


def _month_close(database: str, url: str, scale: Scale) -> Figure:
    name = f"month close, {scale.requests:,} requests of {scale.users:,} users ({database})"
    elapsed, invoices, lines, total, expected, rows = asyncio.run(_close_month(url, scale))
    exact = "exact" if total == expected else f"NOT the {expected} USD worked out here"
    print(
        f"  {database}: {rows:,} hourly rows seeded; {invoices:,} invoices ({lines:,} lines) "
        f"issued; users' invoices total {total} USD ({exact})"
    )
    if total != expected:
        return Figure(name, None, "s", CLOSE_TARGET_S, NO_PEER, f"wrong total: {exact}")
    return Figure(name, elapsed, "s", CLOSE_TARGET_S, NO_PEER)


Measure = Callable[[str, str, Scale], Figure]
"""A figure measured on a database: its label, its URL, the month's size."""


def _on_sqlite(options: argparse.Namespace, measure: Measure) -> Figure:
    """``measure`` on a SQLite file made for the run."""
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'billing.db'}"
        return measure("SQLite", url, _scale(options))


def _on_postgres(
    options: argparse.Namespace, measure: Measure, unmeasured: Callable[[str], Figure]
) -> Figure:
    """``measure`` on a PostgreSQL database made for the run and dropped after (``unmeasured``
    says why not when no server is given)."""
    server = options.postgres_url or os.environ.get(POSTGRES_URL_VAR)
    if not server:
        return unmeasured(f"not measured: give --postgres-url or set {POSTGRES_URL_VAR}")
    database = f"bench_billing_{uuid.uuid4().hex[:8]}"
    url = make_url(server).set(database=database).render_as_string(hide_password=False)
    asyncio.run(_admin_sql(server, f'CREATE DATABASE "{database}"'))
    try:
        return measure("PostgreSQL", url, _scale(options))
    finally:
        asyncio.run(_admin_sql(server, f'DROP DATABASE IF EXISTS "{database}"'))


def month_close_sqlite(options: argparse.Namespace) -> Figure:
    """Closing the month on a SQLite file."""
    return _on_sqlite(options, _month_close)


def month_close_postgres(options: argparse.Namespace) -> Figure:
    """Closing the month on a PostgreSQL database made for the run."""
    scale = _scale(options)
    name = f"month close, {scale.requests:,} requests of {scale.users:,} users (PostgreSQL)"
    return _on_postgres(
        options,
        _month_close,
        lambda note: Figure(name, None, "s", CLOSE_TARGET_S, NO_PEER, note),
    )


async def _admin_sql(server: str, statement: str) -> None:
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _scale(options: argparse.Namespace) -> Scale:
    return Scale(users=options.users, requests=options.requests)


async def _usage_queries(url: str, scale: Scale) -> list[float]:
    """Milliseconds of each of ``QUERIES`` usage queries, each one user's month by day (as
    that user reads their own), over the month close's seeded rows."""
    engine = create_engine(url)
    try:
        _, users, _ = await _seed(url, engine, scale)
        sessions = session_factory(engine)
        prices = PriceService(sessions, "USD", clock=lambda: AFTER)
        usage = UsageService(sessions, prices, clock=lambda: AFTER)
        query = UsageQuery(by=UsageBreakdown.DAY, start="2026-11", end="2026-11")
        rng = random.Random(5)
        took = []
        for user_id, name in rng.sample(users, min(QUERIES, len(users))):
            reader = Principal(user_id=user_id, name=name, role=Role.USER)
            started = time.perf_counter()
            report = await usage.usage(reader, query)
            took.append((time.perf_counter() - started) * 1000)
            assert report.total.requests > 0, "a user's month came back empty"
        return took
    finally:
        await engine.dispose()


def _usage_query(database: str, url: str, scale: Scale) -> Figure:
    name = f"usage query, one user's month by day, p95 of {QUERIES} ({database})"
    took = sorted(asyncio.run(_usage_queries(url, scale)))
    p50, p95 = took[len(took) // 2], took[int(len(took) * 0.95) - 1]
    print(f"  {database}: p50 {p50:.1f} ms, max {took[-1]:.1f} ms")
    return Figure(name, p95, "ms", USAGE_TARGET_MS, NO_USAGE_PEER)


def usage_query_sqlite(options: argparse.Namespace) -> Figure:
    """One user's month of usage read back, on a SQLite file holding the month close's rows."""
    return _on_sqlite(options, _usage_query)


def usage_query_postgres(options: argparse.Namespace) -> Figure:
    """The same on a PostgreSQL database made for the run."""
    name = f"usage query, one user's month by day, p95 of {QUERIES} (PostgreSQL)"
    return _on_postgres(
        options,
        _usage_query,
        lambda note: Figure(name, None, "ms", USAGE_TARGET_MS, NO_USAGE_PEER, note),
    )


def quota_check(options: argparse.Namespace) -> Figure:
    """The quota check's CPU per billable call: reserve and settle under three limits."""
    figures = billing_quota.quota_check()
    print(f"  with no limit over the call: {figures['no_limit_us']} µs per call")
    name = "quota check per billable call (reserve + settle, 3 limits)"
    return Figure(
        name, figures["three_limits_us"], "µs", billing_quota.CHECK_TARGET_US, billing_quota.PEER
    )


def gateway_quota(options: argparse.Namespace) -> Figure:
    """The gateway's CPU per call with every call under three limits, over HTTP and stdio
    upstreams (the figure is the higher of the two)."""
    rows = {row["target"]: row for row in billing_quota.gateway_quota(options)}
    for row in rows.values():
        print(f"  {row}")
    cpu = {name: row["gateway_cpu_ms_per_call"] for name, row in rows.items()}
    name = "gateway CPU per call under 3 quotas (the higher of HTTP and stdio echo, SQLite)"
    errors = sum(row["errors"] for row in rows.values())
    if errors:
        return Figure(name, None, "CPU-ms", billing_quota.GATEWAY_TARGET_MS, "", f"{errors} errors")
    peer = (
        f"ours without quotas: HTTP {cpu['gw-http']:.3f}, stdio {cpu['gw-stdio']:.3f}; "
        f"with: HTTP {cpu['gw-http-quota']:.3f}, stdio {cpu['gw-stdio-quota']:.3f}"
    )
    worst = max(cpu["gw-http-quota"], cpu["gw-stdio-quota"])
    return Figure(name, worst, "CPU-ms", billing_quota.GATEWAY_TARGET_MS, peer)


def journal_per_call(options: argparse.Namespace) -> Figure:
    """What the meter's crash journal adds to every billable call (a counter in a file
    mapping the kernel keeps through kill -9)."""
    figures = asyncio.run(metering_durability.journal_figure())
    print(f"  {figures}")
    name = "crash journal per billable call (its counter in a shared file mapping)"
    us = figures["journal_ns"] / 1000
    return Figure(name, us, "µs", metering_durability.JOURNAL_TARGET_US, metering_durability.PEER)


def durable_metering(options: argparse.Namespace) -> Figure:
    """The gateway's CPU per call with durable metering (usage written before each reply)."""
    usual, durable = metering_durability.durable_figure(options)
    for row in (usual, durable):
        print(f"  {row}")
    name = "durable metering (opt-in): gateway CPU per call (stdio echo, SQLite)"
    target = metering_durability.GATEWAY_TARGET_MS
    errors = usual["errors"] + durable["errors"]
    if errors:
        return Figure(name, None, "CPU-ms", target, "", f"{errors} errors")
    peer = (
        f"ours as usual {usual['gateway_cpu_ms_per_call']:.3f} CPU-ms and "
        f"{usual['calls_per_s']:.0f} calls/s, durable {durable['calls_per_s']:.0f} calls/s"
    )
    return Figure(name, durable["gateway_cpu_ms_per_call"], "CPU-ms", target, peer)


def exactness(options: argparse.Namespace) -> Figure:
    """100,000 calls of several users and keys through the gateway, concurrently, to FREE,
    PAID (a tool priced on its own) and FREEMIUM deployments: every user's invoice must be
    the calls times their prices to the cent (the suite's test, at full size)."""
    name = f"invoice exactness, {options.exact_calls:,} concurrent calls through the gateway"
    test = Path(__file__).resolve().parent.parent / "tests/gateway/test_exact_billing.py"
    env = {**os.environ, "MCP_CONSOLE_EXACT_CALLS": str(options.exact_calls)}
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--timeout=0", str(test)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    print(f"  {run.stdout.strip().splitlines()[-1]} ({elapsed:.0f} s)")
    if run.returncode != 0:
        failure = [line for line in run.stdout.splitlines() if line.startswith("E ")][:20]
        print("\n".join(failure))
        return Figure(name, None, "cents off", 0, NO_PEER, "NOT exact: see the test's output")
    return Figure(name, 0, "cents off", 0, NO_PEER)


FIGURES: dict[str, Callable[[argparse.Namespace], Figure]] = {
    "month_close_sqlite": month_close_sqlite,
    "month_close_postgres": month_close_postgres,
    "usage_query_sqlite": usage_query_sqlite,
    "usage_query_postgres": usage_query_postgres,
    "quota_check": quota_check,
    "gateway_quota": gateway_quota,
    "exactness": exactness,
    "journal_per_call": journal_per_call,
    "durable_metering": durable_metering,
}


def main(argv: list[str] | None = None) -> int:
    """Measure the figures asked for and print each beside its target and the peers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", action="append", choices=sorted(FIGURES), default=[])
    parser.add_argument("--postgres-url", default=None, help=f"default: ${POSTGRES_URL_VAR}")
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--k", type=int, default=8, help="concurrent sessions (gateway_quota)")
    parser.add_argument("--duration", type=float, default=8.0, help="measured s (gateway_quota)")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--exact-calls", type=int, default=100_000, help="(exactness)")
    options = parser.parse_args(argv)
    missed = 0
    for name in options.only or list(FIGURES):
        figure = FIGURES[name](options)
        if figure.value is None:
            print(f"{figure.name}: {figure.note}  (target <= {figure.target:g} {figure.unit})")
            missed += 1
            continue
        verdict = "MET" if figure.met else "MISSED"
        missed += not figure.met
        print(
            f"{figure.name}: {figure.value:.3g} {figure.unit} "
            f"(target <= {figure.target:g} {figure.unit}; peers: {figure.peer})  {verdict}"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

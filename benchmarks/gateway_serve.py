"""Our gateway, standalone, routing one deployment to one upstream, metered into SQLite.

Started by ``benchmarks/gateway.py`` as the process whose CPU is measured:

    python benchmarks/gateway_serve.py --port 18700 --key-file K --data-dir D \\
        --http-upstream http://127.0.0.1:18701/mcp
    python benchmarks/gateway_serve.py --port 18700 --key-file K --data-dir D \\
        --stdio-upstream python benchmarks/gateway_parts.py echo
    python benchmarks/gateway_serve.py --port 18700 --key-file K --data-dir D \\
        --per-session 40 --warm 4 --stdio-upstream python benchmarks/gateway_parts.py echo

It builds what the console's runtime builds for the gateway (a migrated database, a user
with an API key, a deployment row, the usage meter, the routing table, the uvicorn
server), writes ``{"api_key", "path"}`` to the key file once listening, and serves until
SIGTERM or SIGINT, then shuts down gracefully (the meter writes what is pending).

``--per-session LIMIT`` serves the stdio server as a per-session deployment: each client
session gets a process of its own, started as the console starts them (the controller's
instance operations on the process runtime) from the warm pool (``--warm`` ready ones),
at most LIMIT at once; the key file is written once the pool is full.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import uuid
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.billing.prices import PriceService
from mcp_console.backend.billing.quota_book import QuotaBook
from mcp_console.backend.billing.quotas import QuotaService
from mcp_console.backend.bridge.session_instances import SessionInstances
from mcp_console.backend.daemon import freeze_startup_heap
from mcp_console.backend.db.engine import create_engine, session_factory
from mcp_console.backend.db.migrate import upgrade
from mcp_console.backend.db.models import (
    McpService,
    RequestLog,
    ServiceDeployment,
    ServiceUsage,
    ServiceVersion,
)
from mcp_console.backend.deploy.controller import Controller
from mcp_console.backend.deploy.driver_registry import Drivers
from mcp_console.backend.deploy.drivers.base import InstanceSpec
from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.deploy.secretstore import DeploymentSecrets
from mcp_console.backend.events import EventBus
from mcp_console.backend.gateway.core import Gateway
from mcp_console.backend.gateway.meter import UsageMeter
from mcp_console.backend.gateway.routing import DeploymentRoute, UpstreamInstance
from mcp_console.backend.gateway.server import GatewayServer
from mcp_console.backend.gateway.usage_journal import JOURNAL_FILE, open_journal
from mcp_console.backend.runtime import Runtime
from mcp_console.backend.security.keys import key_lookup_prefix
from mcp_console.backend.security.users import UserService
from mcp_console.schemas.quotas import QuotaKind, QuotaPeriod, QuotaScope, QuotaSet
from mcp_console.schemas.users import Role, UserCreate, UserCreated
from mcp_console.settings import DeploySettings, Settings

OWNER = "bench"
DEPLOYMENT = "echo"


async def serve(args: argparse.Namespace) -> None:
    data = args.data_dir / uuid.uuid4().hex[:8]
    data.mkdir(parents=True)
    url = f"sqlite+aiosqlite:///{data / 'gateway.db'}"
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    users = UserService(sessions)
    created = await users.create_user(None, UserCreate(name=OWNER, role=Role.USER))
    async with sessions.begin() as session:
        service = McpService(name="echo", display_name="Echo", author_id=created.user.id)
        if args.quota:
            # Priced, so that a spend budget has something to count.
            service.price_model, service.price_per_request = "PAID", Decimal("0.001")
        session.add(service)
        await session.flush()
        version = ServiceVersion(service_id=service.id, version="1.0.0")
        session.add(version)
        await session.flush()
        row = ServiceDeployment(
            service_id=service.id,
            version_id=version.id,
            user_id=created.user.id,
            deployment_name=DEPLOYMENT,
            uid=uuid.uuid4().hex,
        )
        session.add(row)
        await session.flush()
        deployment_id = row.id

    if args.per_session:
        await serve_per_session(args, data, url, sessions, users, created, deployment_id)
        return
    processes = ProcessManager(data / "processes")
    if args.http_upstream:
        instance = UpstreamInstance("i-1", "streamable-http", url=args.http_upstream)
    else:
        spec = InstanceSpec(
            deployment_id="bench",
            instance_id="i-1",
            version="1.0.0",
            transport="stdio",
            command=tuple(args.stdio_upstream),
        )
        handle = await processes.start(spec)
        channel = await processes.open_stdio(handle.ref)
        instance = UpstreamInstance("i-1", "stdio", channel=channel)

    # With --monitoring, the console's monitoring taps every request as it does in the runtime:
    # the metrics history, /metrics, the access log and the audit trail.
    monitoring = Runtime(Settings(data_dir=data, database_url=url), migrate=False)
    taps = []
    if args.monitoring:
        await monitoring.__aenter__()
        taps = monitoring.metering_taps()
        monitoring.history.start()
    # As the runtime builds it: billable calls counted in the crash journal too.
    journal, _ = await open_journal(engine, data / JOURNAL_FILE)
    meter = UsageMeter(engine, taps=taps, journal=journal, durable=args.durable)
    book = await quota_book(args, sessions, users, created, meter) if args.quota else None
    gateway = Gateway(
        users.authenticate,
        meter=None if args.unmetered else meter,
        quota=book,
        settle=meter.settle if args.durable and not args.unmetered else None,
    )
    route = DeploymentRoute(
        deployment_id=deployment_id,
        owner_id=created.user.id,
        owner_name=OWNER,
        name=DEPLOYMENT,
        instances={instance.instance_id: instance},
    )
    gateway.routes.upsert_deployment(route)
    server = GatewayServer(gateway, port=args.port)
    meter.start()
    await server.start()
    args.key_file.write_text(json.dumps({"api_key": created.api_key, "path": route.path}))
    freeze_startup_heap()  # as the daemon does once it serves

    await until_stopped()
    await server.stop()
    await meter.aclose()
    if args.monitoring:
        await monitoring.history.aclose()
        await monitoring.__aexit__(None, None, None)
    async with engine.connect() as conn:
        billed = await conn.scalar(select(func.coalesce(func.sum(ServiceUsage.request_count), 0)))
        logged = await conn.scalar(select(func.count()).select_from(RequestLog))
    print(f"metered: {billed} billable calls in usage, {logged} requests logged", flush=True)
    await processes.close()
    await engine.dispose()


async def quota_book(
    args: argparse.Namespace,
    sessions: async_sessionmaker[AsyncSession],
    users: UserService,
    created: UserCreated,
    meter: UsageMeter,
) -> QuotaBook:
    """The caller under three limits that never refuse: requests per month of the user,
    spend per month of the key, calls per second to the deployment's tool."""
    admin = await users.create_user(None, UserCreate(name="quota-admin", role=Role.ADMIN))
    actor = await users.authenticate(admin.api_key)
    book = QuotaBook()
    quotas = QuotaService(
        sessions,
        PriceService(sessions, "USD"),
        book,
        EventBus(),
        pending=meter.ledger.pending_usage,
        paused=meter.writes_paused,
    )
    for scope, subject, kind, period, tool in (
        (QuotaScope.USER, OWNER, QuotaKind.REQUESTS, QuotaPeriod.MONTH, None),
        (
            QuotaScope.KEY,
            key_lookup_prefix(created.api_key),
            QuotaKind.SPEND,
            QuotaPeriod.MONTH,
            None,
        ),
        (
            QuotaScope.DEPLOYMENT,
            f"{OWNER}/{DEPLOYMENT}",
            QuotaKind.RATE,
            QuotaPeriod.SECOND,
            "echo",
        ),
    ):
        new = QuotaSet(
            scope=scope,
            subject=subject,
            kind=kind,
            period=period,
            allowed=Decimal(10**9),
            tool=tool,
        )
        await quotas.set_quota(actor, new)
    return book


async def until_stopped() -> None:
    """Wait for SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def serve_per_session(
    args: argparse.Namespace,
    data: Path,
    url: str,
    sessions: async_sessionmaker[AsyncSession],
    users: UserService,
    created: UserCreated,
    deployment_id: int,
) -> None:
    """Serve the stdio server per session, from the console's own warm pool."""
    async with sessions.begin() as session:
        row = await session.get(ServiceDeployment, deployment_id)
        assert row is not None
        version = await session.get(ServiceVersion, row.version_id)
        assert version is not None
        version.command = list(args.stdio_upstream)
        version.transport = "stdio"
        row.driver = "process"
        row.replicas = args.per_session
        row.session_mode = "per-session"
    settings = Settings(
        data_dir=data,
        database_url=url,
        deploy=DeploySettings(warm_sessions=args.warm, scope=f"bench-{data.name}"),
    )
    drivers = Drivers(settings)
    controller = Controller(
        sessions, EventBus(), drivers, DeploymentSecrets(settings), settings.deploy
    )
    pool = SessionInstances(
        sessions, controller.converger, drivers, controller.stdio, settings.deploy
    )
    meter = UsageMeter(create_engine(url))
    gateway = Gateway(users.authenticate, meter=meter, instance_provider=pool)
    route = DeploymentRoute(
        deployment_id=deployment_id,
        owner_id=created.user.id,
        owner_name=OWNER,
        name=DEPLOYMENT,
        session_mode="per-session",
    )
    gateway.routes.upsert_deployment(route)
    server = GatewayServer(gateway, port=args.port)
    meter.start()
    await server.start()
    pool.keep_warm(deployment_id)
    # The pool offers no event to wait on: polled, once, before the measured runs.
    while pool.warm(deployment_id) < args.warm:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    args.key_file.write_text(json.dumps({"api_key": created.api_key, "path": route.path}))
    freeze_startup_heap()
    await until_stopped()
    await server.stop()
    await pool.aclose()
    await meter.aclose()
    await drivers.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key-file", type=Path, required=True)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--unmetered", action="store_true", help="no usage meter (to compare)")
    ap.add_argument(
        "--durable",
        action="store_true",
        help="durable metering: each billable call's usage written before its reply ends",
    )
    ap.add_argument(
        "--quota",
        action="store_true",
        help="billing's quota book over the calls: a user, a key and a tool limit",
    )
    ap.add_argument(
        "--monitoring",
        action="store_true",
        help="monitoring's taps on the meter, as in the console",
    )
    ap.add_argument(
        "--per-session",
        type=int,
        default=0,
        metavar="LIMIT",
        help="a process per client session (at most LIMIT), from a warm pool",
    )
    ap.add_argument("--warm", type=int, default=1, help="ready processes in the warm pool")
    upstream = ap.add_mutually_exclusive_group(required=True)
    upstream.add_argument("--http-upstream", metavar="URL")
    upstream.add_argument("--stdio-upstream", nargs=argparse.REMAINDER, metavar="ARGV")
    args = ap.parse_args()
    if args.stdio_upstream is not None and not args.stdio_upstream:
        ap.error("--stdio-upstream needs the server's command line")
    if args.per_session and args.stdio_upstream is None:
        ap.error("--per-session serves a --stdio-upstream")
    asyncio.run(serve(args))
    sys.exit(0)


if __name__ == "__main__":
    main()

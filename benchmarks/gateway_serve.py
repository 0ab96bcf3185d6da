"""Our gateway, standalone, routing one deployment to one upstream, metered into SQLite.

Started by ``benchmarks/gateway.py`` as the process whose CPU is measured:

    python benchmarks/gateway_serve.py --port 18700 --key-file K --data-dir D \\
        --http-upstream http://127.0.0.1:18701/mcp
    python benchmarks/gateway_serve.py --port 18700 --key-file K --data-dir D \\
        --stdio-upstream python benchmarks/gateway_parts.py echo

It builds what the console's runtime builds for the gateway (a migrated database, a user
with an API key, a deployment row, the usage meter, the routing table, the uvicorn
server), writes ``{"api_key", "path"}`` to the key file once listening, and serves until
SIGTERM or SIGINT, then shuts down gracefully (the meter writes what is pending).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import uuid
from pathlib import Path

from sqlalchemy import func, select

from mcp_console.backend.db.engine import create_engine, session_factory
from mcp_console.backend.db.migrate import upgrade
from mcp_console.backend.db.models import (
    McpService,
    RequestLog,
    ServiceDeployment,
    ServiceUsage,
    ServiceVersion,
)
from mcp_console.backend.deploy.drivers.base import InstanceSpec
from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.gateway.core import Gateway
from mcp_console.backend.gateway.meter import UsageMeter
from mcp_console.backend.gateway.routing import DeploymentRoute, UpstreamInstance
from mcp_console.backend.gateway.server import GatewayServer
from mcp_console.backend.security.users import UserService
from mcp_console.schemas.users import Role, UserCreate

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

    meter = UsageMeter(engine)
    gateway = Gateway(users.authenticate, meter=None if args.unmetered else meter)
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

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()
    await meter.aclose()
    async with engine.connect() as conn:
        billed = await conn.scalar(select(func.coalesce(func.sum(ServiceUsage.request_count), 0)))
        logged = await conn.scalar(select(func.count()).select_from(RequestLog))
    print(f"metered: {billed} billable calls in usage, {logged} requests logged", flush=True)
    await processes.close()
    await engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key-file", type=Path, required=True)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--unmetered", action="store_true", help="no usage meter (to compare)")
    upstream = ap.add_mutually_exclusive_group(required=True)
    upstream.add_argument("--http-upstream", metavar="URL")
    upstream.add_argument("--stdio-upstream", nargs=argparse.REMAINDER, metavar="ARGV")
    args = ap.parse_args()
    if args.stdio_upstream is not None and not args.stdio_upstream:
        ap.error("--stdio-upstream needs the server's command line")
    asyncio.run(serve(args))
    sys.exit(0)


if __name__ == "__main__":
    main()

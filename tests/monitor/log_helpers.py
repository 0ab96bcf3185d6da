"""A log store seeded with lines of two deployments of one user, for search tests."""

from __future__ import annotations

import asyncio
import time

from mcp_console.backend.monitor.log_store import StoredLine
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import ServiceCreate, VersionCreate
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.users import Principal, Role
from tests.backend.factories import make_user

HOUR = 3600.0


async def _deploy(runtime: Runtime, owner: Principal, name: str) -> int:
    """A recorded process deployment (nothing runs: the runtime has no controller loop)."""
    detail = await runtime.deployments.create(
        owner, DeploymentCreate(service="svc", name=name, runtime=RuntimeChoice.PROCESS)
    )
    return detail.id


async def seed_logs(runtime: Runtime) -> Principal:
    """alice, with two deployments and lines of every kind written straight to the store."""
    admin = runtime.local_admin
    assert admin is not None
    await runtime.catalog.register(admin, ServiceCreate(name="svc", description="a service"))
    await runtime.catalog.add_version(
        admin, "svc", VersionCreate(version="1.0.0", command=["true"])
    )
    await runtime.catalog.publish(admin, "svc")
    alice = await make_user(runtime, "alice", Role.USER)
    web, db = await _deploy(runtime, alice, "web"), await _deploy(runtime, alice, "db")
    now = time.time()
    lines = [
        StoredLine(now - 3 * HOUR, web, "web-1", "stderr", 1, "INFO old start"),
        StoredLine(now - 2 * HOUR, web, "web-1", "stderr", 3, "ERROR connection reset by peer"),
        StoredLine(now - 60, web, "web-2", "stderr", 2, "WARN retry 3 of 5"),
        StoredLine(now - 30, web, "web-1", "access", 1, "tools/call tool=echo status=200"),
        StoredLine(now - 20, web, "web-1", "stderr", 1, "INFO request took 120ms"),
        StoredLine(now - 10, db, "db-1", "stderr", 3, "ERROR disk full"),
    ]
    await asyncio.to_thread(runtime.log_collector.store.append, lines)
    return alice

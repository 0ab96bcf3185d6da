"""A backend serving a gateway over local processes, and a deployment of the example server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import ServiceCreate
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.settings import Settings
from tests.deploy.catalogs import all_healthy, process_version, wait_for
from tests.deploy.running.conftest import fast_deploy_settings


@pytest.fixture(name="database_url")
def sqlite_only(sqlite_url: str) -> str:
    """The figures live in memory: one database is enough."""
    return sqlite_url


@pytest_asyncio.fixture(name="backend")
async def serving_backend(tmp_path: Path, database_url: str) -> AsyncIterator[Runtime]:
    """A backend as the daemon runs it: a gateway serving local processes."""
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        gateway_port=0,
        runtime="process",
        deploy=fast_deploy_settings("test-" + uuid.uuid4().hex[:10]),
    )
    async with Runtime(settings, migrate=False, background=True) as runtime:
        yield runtime


async def deployed(runtime: Runtime, name: str) -> str:
    """The endpoint of a healthy deployment of the example server (stdio, a local process)."""
    admin = runtime.local_admin
    assert admin is not None
    await runtime.catalog.register(admin, ServiceCreate(name=name, description="scraped"))
    await runtime.catalog.add_version(admin, name, process_version("1.0.0"))
    await runtime.catalog.publish(admin, name)
    await runtime.deployments.create(
        admin, DeploymentCreate(service=name, name=name, runtime=RuntimeChoice.PROCESS)
    )
    detail = await wait_for(runtime, admin, name, all_healthy)
    assert detail.endpoint_url is not None
    return detail.endpoint_url

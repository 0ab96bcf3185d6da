"""The running backend bills each call at its service's price, and purges old raw records."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from sqlalchemy import func, select

from mcp_console.backend.db.models import (
    McpService,
    RequestLog,
    ServiceDeployment,
    ServiceUsage,
    ServiceVersion,
)
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import PriceModel, ServiceCreate, ServiceUpdate
from mcp_console.schemas.deploy import DeploymentCreate, DesiredState, RuntimeChoice
from mcp_console.schemas.users import Principal
from mcp_console.settings import Settings
from tests.conftest import DATABASES, _postgres_database
from tests.deploy.catalogs import SETTLE_TIMEOUT, all_healthy, process_version, wait_for
from tests.deploy.running.conftest import fast_deploy_settings

from .helpers import Caller, connect, result_of

PRICE = Decimal("0.0125")
NEW_PRICE = Decimal("0.2")


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Both databases: a cost must be exact on each."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
    else:
        yield from _postgres_database(request, migrated=True)


@pytest.fixture
def backend_settings(tmp_path: Path, database_url: str) -> Settings:
    """A backend as the daemon runs it, on local processes, its gateway on a free port."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        gateway_port=0,
        runtime="process",
        deploy=fast_deploy_settings("test-" + uuid.uuid4().hex[:10]),
    )


@pytest.fixture
async def backend(backend_settings: Settings) -> AsyncIterator[Runtime]:
    async with Runtime(backend_settings, migrate=False, background=True) as runtime:
        yield runtime


async def priced_deployment(
    runtime: Runtime, admin: Principal, name: str, model: PriceModel, price: Decimal
) -> int:
    """A healthy deployment of a service priced ``model`` at ``price`` per request."""
    new = ServiceCreate(
        name=name, description=f"{name} test", price_model=model, price_per_request=price
    )
    await runtime.catalog.register(admin, new)
    await runtime.catalog.add_version(admin, name, process_version("1.0.0"))
    await runtime.catalog.publish(admin, name)
    await runtime.deployments.create(
        admin, DeploymentCreate(service=name, name=name, runtime=RuntimeChoice.PROCESS)
    )
    return (await wait_for(runtime, admin, name, all_healthy)).id


async def usage(runtime: Runtime, deployment_id: int, requests: int) -> tuple[int, Decimal]:
    """The deployment's billed requests and cost, once the requests reach ``requests``."""
    count, cost = 0, Decimal(0)
    with anyio.move_on_after(SETTLE_TIMEOUT):
        while count != requests:
            async with runtime.sessions() as session:
                row = (
                    await session.execute(
                        select(
                            func.coalesce(func.sum(ServiceUsage.request_count), 0),
                            func.coalesce(func.sum(ServiceUsage.cost), 0),
                        ).where(ServiceUsage.deployment_id == deployment_id)
                    )
                ).one()
            count, cost = int(row[0]), Decimal(row[1])
            await anyio.sleep(0.1)
    return count, cost


async def calls(runtime: Runtime, owner: Caller, deployment: str, count: int) -> None:
    """``count`` tool calls through the gateway (and a tools/list, which is not billed)."""
    url = (await runtime.deployments.get(owner.principal, deployment)).endpoint_url
    assert url is not None
    async with connect(url, owner, "auto") as client:
        await client.list_tools()
        for i in range(count):
            assert await result_of(client, "add", {"a": i, "b": 1}) == i + 1


async def test_each_call_costs_its_service_price_and_a_new_price_applies_after_a_tick(
    backend: Runtime,
) -> None:
    admin = backend.local_admin
    assert admin is not None
    paid = await priced_deployment(backend, admin, "paid", PriceModel.PAID, PRICE)
    # A FREE service costs nothing, whatever its price field says.
    free = await priced_deployment(backend, admin, "free", PriceModel.FREE, Decimal("0.5"))
    owner = Caller(admin, await backend.users.create_key(admin, admin.name, label="billing"))

    await calls(backend, owner, "paid", 7)
    await calls(backend, owner, "free", 4)
    first = await usage(backend, paid, 7)
    free_usage = await usage(backend, free, 4)

    await backend.catalog.update(admin, "paid", ServiceUpdate(price_per_request=NEW_PRICE))
    await backend.controller.reconcile_all()  # the controller's tick reads prices afresh
    await calls(backend, owner, "paid", 3)
    second = await usage(backend, paid, 10)

    assert first == (7, PRICE * 7)  # 0.0875, exactly
    assert free_usage == (4, Decimal(0))
    # Calls made before the change keep the price they were made at.
    assert second == (10, PRICE * 7 + NEW_PRICE * 3)


async def test_the_backend_purges_raw_records_past_retention_and_keeps_usage(
    backend_settings: Settings,
) -> None:
    now = datetime.now(UTC)
    async with Runtime(backend_settings, migrate=False) as runtime:
        admin = runtime.local_admin
        assert admin is not None
        async with runtime.sessions.begin() as session:
            service = McpService(name="logged", display_name="Logged", author_id=admin.user_id)
            session.add(service)
            await session.flush()
            version = ServiceVersion(service_id=service.id, version="1.0.0")
            session.add(version)
            await session.flush()
            deployment = ServiceDeployment(
                service_id=service.id,
                version_id=version.id,
                user_id=admin.user_id,
                deployment_name="logged",
                uid=uuid.uuid4().hex,
                desired_state=DesiredState.STOPPED.value,
            )
            session.add(deployment)
            await session.flush()
            ages = [timedelta(days=30), timedelta(days=8), timedelta(days=8), timedelta(hours=1)]
            session.add_all(
                RequestLog(
                    deployment_id=deployment.id,
                    user_id=admin.user_id,
                    method="tools/call",
                    tool_name="add",
                    status=200,
                    latency_ms=1.5,
                    at=now - age,
                )
                for age in ages
            )
            session.add(
                ServiceUsage(
                    deployment_id=deployment.id,
                    user_id=admin.user_id,
                    request_count=4,
                    cost=Decimal("0.04"),
                    date=date.today() - timedelta(days=30),
                )
            )
        deployment_id = deployment.id

    async def raw_ages() -> list[datetime]:
        async with runtime.sessions() as session:
            return list(await session.scalars(select(RequestLog.at).order_by(RequestLog.at)))

    # Started as the daemon starts: the purge runs at once, then every hour.
    async with Runtime(backend_settings, migrate=False, background=True) as runtime:
        with anyio.move_on_after(SETTLE_TIMEOUT):
            while len(await raw_ages()) != 1:
                await anyio.sleep(0.1)
        kept = await raw_ages()
        async with runtime.sessions() as session:
            usage_rows = (
                await session.execute(
                    select(ServiceUsage.request_count, ServiceUsage.cost).where(
                        ServiceUsage.deployment_id == deployment_id
                    )
                )
            ).all()

    # Only the record within the 7-day retention is left; the day's usage is untouched.
    assert [abs(at - (now - timedelta(hours=1))) < timedelta(seconds=1) for at in kept] == [True]
    assert [(count, Decimal(cost)) for count, cost in usage_rows] == [(4, Decimal("0.04"))]

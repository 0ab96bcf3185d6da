"""Calls through the gateway with the official SDK are billed as priced: tools, allowances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from mcp_console.backend.billing.prices import PriceService
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.billing import PriceSet, UsageBreakdown, UsageQuery, hour_floor
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice, ShareCreate
from mcp_console.schemas.users import Role, UserCreate
from tests.deploy.catalogs import all_healthy, wait_for

# The backend as the daemon runs it, on both databases (the pricing tests' fixtures).
from .helpers import Caller, connect, result_of
from .test_prices_and_retention import (  # noqa: F401
    backend,
    backend_settings,
    database_url,
    priced_deployment,
)


async def test_calls_through_the_gateway_are_billed_at_their_tool_and_allowance(
    backend: Runtime,  # noqa: F811
) -> None:
    admin = backend.local_admin
    assert admin is not None
    await priced_deployment(backend, admin, "metered", PriceModel.PAID, Decimal("0.01"))
    await backend.deployments.create(
        admin, DeploymentCreate(service="metered", name="metered-b", runtime=RuntimeChoice.PROCESS)
    )
    await wait_for(backend, admin, "metered-b", all_healthy)
    created = await backend.users.create_user(admin, UserCreate(name="bob", role=Role.USER))
    bob = Caller(await backend.users.authenticate(created.api_key), created.api_key)
    await backend.deployments.share(admin, "metered", ShareCreate(user="bob"))
    # Priced two hours ago, from this hour on: 3 free calls a month each, then 0.01; echo 0.25.
    now = datetime.now(UTC)
    prices = PriceService(backend.sessions, "USD", clock=lambda: now - timedelta(hours=2))
    this_hour = hour_floor(now)
    await prices.set_price(
        admin,
        "metered",
        PriceSet(per_call=Decimal("0.01"), free_requests=3, effective_from=this_hour),
    )
    await prices.set_price(
        admin, "metered", PriceSet(per_call=Decimal("0.25"), tool="echo", effective_from=this_hour)
    )
    owner = Caller(admin, await backend.users.create_key(admin, admin.name, label="billing"))

    for name, count in (("metered", 2), ("metered-b", 3)):
        url = (await backend.deployments.get(admin, name)).endpoint_url
        assert url is not None
        async with connect(url, owner, "auto") as client:
            await client.list_tools()  # discovery is not billed
            for i in range(count):
                assert await result_of(client, "add", {"a": i, "b": 1}) == i + 1
            if name == "metered":
                assert await result_of(client, "echo", {"text": "hi"}) == "hi"
                assert await result_of(client, "echo", {"text": "ho"}) == "ho"
                await client.read_resource("example://info")
    url = (await backend.deployments.get(admin, "metered")).endpoint_url
    assert url is not None
    async with connect(url, bob, "auto") as client:
        for i in range(2):
            assert await result_of(client, "add", {"a": i, "b": 2}) == i + 2

    by_user = await backend.usage.usage(admin, UsageQuery(by=UsageBreakdown.USER, start="1d"))
    by_tool = await backend.usage.usage(admin, UsageQuery(by=UsageBreakdown.TOOL, start="1d"))
    by_deployment = await backend.usage.usage(
        admin, UsageQuery(by=UsageBreakdown.DEPLOYMENT, start="1d")
    )
    bobs = await backend.usage.usage(bob.principal, UsageQuery(by=UsageBreakdown.USER, start="1d"))

    # The admin: 5 adds and a resource read at the service price (3 free, 3 charged), and
    # 2 echoes at their own price; bob's 2 calls are within his own allowance.
    assert [(r.key, r.requests, r.free, r.charged, r.cost) for r in by_user.rows] == [
        ("admin", 8, 3, 5, Decimal("0.53")),
        ("bob", 2, 2, 0, Decimal("0.00")),
    ]
    assert [(r.key, r.requests) for r in by_tool.rows] == [
        ("add", 7),
        ("echo", 2),
        ("resources/read", 1),
    ]
    # Which of the admin's calls the allowance covered follows their order; echo is apart.
    add, echo, read = by_tool.rows
    assert (echo.free, echo.charged, echo.cost) == (0, 2, Decimal("0.50"))
    assert (add.free + read.free, add.charged + read.charged) == (3 + 2, 3)
    assert {r.key: r.requests for r in by_deployment.rows} == {
        "admin/metered": 7,
        "admin/metered-b": 3,
    }
    assert by_user.total.cost == Decimal("0.53")
    assert [(r.key, r.requests) for r in bobs.rows] == [("bob", 2)]

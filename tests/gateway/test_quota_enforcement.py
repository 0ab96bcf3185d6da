"""Quotas at the gateway: concurrent callers never overshoot a limit, refusals are not billed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select

from mcp_console.backend.billing.periods import next_month
from mcp_console.backend.billing.quota_book import Limit, QuotaBook
from mcp_console.backend.billing.quotas import QuotaService
from mcp_console.backend.db.models_billing import UsageHour
from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.gateway.core import Gateway
from mcp_console.backend.gateway.exchange import QUOTA_EXCEEDED
from mcp_console.backend.gateway.meter import UsageMeter
from mcp_console.backend.gateway.routing import DeploymentRoute
from mcp_console.backend.gateway.server import GatewayServer
from mcp_console.backend.gateway.usage_ledger import UsageLedger
from mcp_console.backend.runtime import Runtime
from mcp_console.backend.security.keys import key_lookup_prefix
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.quotas import QuotaKind, QuotaPeriod, QuotaScope, QuotaSet
from mcp_console.schemas.users import Principal, Role, UserCreate
from tests.billing.helpers import deployment, service

from .helpers import Caller, modern_tool_call, stdio_process

CALLERS = 32
PRICE = Decimal("0.05")


@dataclass
class World:
    """A served gateway over one PAID deployment of alice's, shared with bob, with quotas."""

    runtime: Runtime
    url: str
    meter: UsageMeter
    book: QuotaBook
    quotas: QuotaService
    admin: Principal
    bob: Caller
    deployment_id: int
    reached: list[tuple[int, Decimal]]


async def _caller(runtime: Runtime, name: str, role: Role = Role.USER) -> Caller:
    created = await runtime.users.create_user(None, UserCreate(name=name, role=role))
    return Caller(await runtime.users.authenticate(created.api_key), created.api_key)


@pytest.fixture
async def world(runtime: Runtime, process_manager: ProcessManager) -> AsyncIterator[World]:
    admin = runtime.local_admin
    assert admin is not None
    alice, bob = await _caller(runtime, "alice", Role.AUTHOR), await _caller(runtime, "bob")
    svc = await service(runtime, alice.principal, "paid-echo", PriceModel.PAID, PRICE)
    deployment_id = await deployment(runtime, svc, alice.principal, "echo")
    # A long flush interval: usage made before a quota is set is still in the meter.
    meter = UsageMeter(
        runtime.engine,
        ledger=UsageLedger(billable_methods=runtime.settings.billing.billable_methods),
        flush_interval=60,
    )
    reached: list[tuple[int, Decimal]] = []
    book = QuotaBook(on_threshold=lambda limit, level: reached.append((limit.id, level)))
    quotas = QuotaService(
        runtime.sessions,
        runtime.prices,
        book,
        runtime.events,
        pending=meter.ledger.pending_usage,
        paused=meter.writes_paused,
    )
    gateway = Gateway(runtime.users.authenticate, meter=meter, quota=book)
    server = GatewayServer(gateway)
    url = await server.start()
    meter.start()
    route = gateway.routes.upsert_deployment(
        DeploymentRoute(
            deployment_id=deployment_id,
            owner_id=alice.principal.user_id,
            owner_name="alice",
            name="echo",
            allowed_user_ids=frozenset({bob.principal.user_id}),
        )
    )
    gateway.routes.set_instance(deployment_id, await stdio_process(process_manager, "i-1"))
    try:
        yield World(
            runtime,
            f"{url}{route.path}",
            meter,
            book,
            quotas,
            admin,
            bob,
            deployment_id,
            reached,
        )
    finally:
        await server.stop()
        await meter.aclose()


async def call(http: httpx2.AsyncClient, url: str, key: str, i: int) -> tuple[int, Any]:
    """One stateless ``tools/call echo``; the HTTP status and the JSON-RPC reply."""
    response = await modern_tool_call(http, url, key, "echo", {"text": f"c{i}"}, i)
    return response.status_code, response.json()


async def burst(world: World, calls: int, start: int = 0) -> tuple[list[Any], list[Any]]:
    """``calls`` calls from ``CALLERS`` concurrent callers: the results and the refusals."""
    async with httpx2.AsyncClient(timeout=60) as http:
        queue = iter(range(start, start + calls))

        async def one_caller() -> list[tuple[int, Any]]:
            return [await call(http, world.url, world.bob.key, i) for i in queue]

        replies = [
            r for rs in await asyncio.gather(*(one_caller() for _ in range(CALLERS))) for r in rs
        ]
    served = [body["result"] for status, body in replies if status == 200 and "result" in body]
    refused = [body["error"] for status, body in replies if status == 429]
    assert len(served) + len(refused) == calls, replies
    return served, refused


async def billed(world: World) -> tuple[int, int]:
    """Bob's billable calls written to the hourly rows: (requests, errors)."""
    await world.meter.flush()
    async with world.runtime.sessions() as session:
        row = (
            await session.execute(
                select(func.sum(UsageHour.request_count), func.sum(UsageHour.error_count)).where(
                    UsageHour.user_id == world.bob.principal.user_id
                )
            )
        ).one()
    return int(row[0] or 0), int(row[1] or 0)


async def test_a_request_quota_lets_exactly_its_calls_through_and_bills_no_refusal(
    world: World,
) -> None:
    # Five calls before the quota exists: still in the meter, not yet written.
    served, refused = await burst(world, 5)
    assert (len(served), refused) == (5, [])
    view = await world.quotas.set_quota(
        world.admin,
        QuotaSet(
            scope=QuotaScope.USER,
            subject="bob",
            kind=QuotaKind.REQUESTS,
            period=QuotaPeriod.MONTH,
            allowed=Decimal(25),
        ),
    )
    assert view.used == 5

    before = datetime.now(UTC)
    served, refused = await burst(world, 64, start=100)
    after = datetime.now(UTC)

    assert len(served) == 20
    assert len(refused) == 44
    error = refused[0]
    assert error["code"] == QUOTA_EXCEEDED
    assert "user bob is allowed 25 requests per month" in error["message"]
    resets = next_month(datetime.now(UTC))
    assert error["data"] == {
        "limit": "requests per month",
        "scope": "user",
        "subject": "bob",
        "allowed": "25",
        "used": "25",
        "resetsAt": f"{resets:%Y-%m-%dT%H:%M:%SZ}",
        "retryAfter": error["data"]["retryAfter"],
    }
    # Whole seconds from the refusal to the reset.
    retry = error["data"]["retryAfter"]
    assert (resets - after).total_seconds() <= retry <= (resets - before).total_seconds() + 1
    # Refused calls are no usage: only the 25 served calls are billed.
    assert await billed(world) == (25, 0)
    (listed,) = await world.quotas.list_quotas(world.bob.principal)
    assert (listed.used, listed.in_flight, listed.percent) == (Decimal(25), Decimal(0), 100.0)
    # 80 % is told unless calls in flight filled the quota first; 100 % is told once.
    assert [level for _, level in world.reached] in (
        [Decimal("0.8"), Decimal(1)],
        [Decimal(1)],
    )


async def test_a_spend_budget_on_a_key_lets_through_only_what_it_pays_for(world: World) -> None:
    await world.quotas.set_quota(
        world.admin,
        QuotaSet(
            scope=QuotaScope.KEY,
            subject=key_lookup_prefix(world.bob.key),
            kind=QuotaKind.SPEND,
            period=QuotaPeriod.MONTH,
            allowed=Decimal("0.52"),
        ),
    )

    served, refused = await burst(world, 64)

    # 0.52 pays for 10 calls at 0.05; the 11th would cost 0.55.
    assert len(served) == 10
    assert {e["data"]["limit"] for e in refused} == {"spend per month"}
    assert refused[0]["data"]["allowed"] == "0.52"
    assert await billed(world) == (10, 0)
    (limit,) = world.book.limits.values()
    assert (limit.used, limit.reserved) == (PRICE * 10, Decimal(0))


async def test_a_rate_limit_lets_a_tool_burst_to_its_rate_and_says_when_to_retry(
    world: World,
) -> None:
    frozen = time.time()
    world.book._clock = lambda: frozen  # the bucket refills with time: hold time still
    await world.quotas.set_quota(
        world.admin,
        QuotaSet(
            scope=QuotaScope.DEPLOYMENT,
            subject="alice/echo",
            kind=QuotaKind.RATE,
            period=QuotaPeriod.SECOND,
            allowed=Decimal(4),
            tool="echo",
        ),
    )

    served, refused = await burst(world, 40)

    assert len(served) == 4
    assert {e["data"]["limit"] for e in refused} == {"calls per second per tool"}
    assert refused[0]["data"]["retryAfter"] == 1
    assert await billed(world) == (4, 0)


def test_a_limit_reloaded_keeps_the_calls_in_flight() -> None:
    book = QuotaBook(clock=lambda: 1_800_000_000.0)
    limit = Limit(1, QuotaScope.USER, 7, "bob", QuotaKind.REQUESTS, QuotaPeriod.DAY, Decimal(2))
    limit.starts, limit.ends = 1_799_971_200.0, 1_800_057_600.0
    book.load([limit], teams={}, allowances={}, services={}, timelines={})
    hold = book.reserve(7, None, 1, "tools/call", "echo")
    assert hold is not None
    again = Limit(1, QuotaScope.USER, 7, "bob", QuotaKind.REQUESTS, QuotaPeriod.DAY, Decimal(2))
    again.starts, again.ends = limit.starts, limit.ends
    book.load([again], teams={}, allowances={}, services={}, timelines={})
    # The call in flight still holds its request in the reloaded book.
    assert again.reserved == 1
    assert book.reserve(7, None, 1, "tools/call", "echo") is not None
    with pytest.raises(Exception, match="2 used"):
        book.reserve(7, None, 1, "tools/call", "echo")

"""Calls made concurrently through the gateway are invoiced exactly: the calls times their price.

Several users and keys call three deployments at once: a FREE service, a PAID one whose
``add`` tool has a price of its own, and a FREEMIUM one with a small allowance. Each caller
counts what the gateway served it; every user's draft invoice must then be what those
calls cost, worked out here, with each allowance used exactly once. The number of calls is
``MCP_CONSOLE_EXACT_CALLS`` (default 1,200; ``benchmarks/billing.py --only exactness``
runs it with 100,000).
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx2
import pytest

from mcp_console.backend.billing.money import amount
from mcp_console.backend.db.models_billing import ServicePrice
from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.gateway.core import Gateway
from mcp_console.backend.gateway.meter import UsageMeter
from mcp_console.backend.gateway.routing import DeploymentRoute
from mcp_console.backend.gateway.server import GatewayServer
from mcp_console.backend.gateway.usage_ledger import UsageLedger
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.invoices import InvoiceQuery, InvoiceSubject
from mcp_console.schemas.users import KeyCreate, Role, UserCreate
from tests.billing.helpers import deployment, service

from .helpers import modern_tool_call, start_http

DEFAULT_CALLS = 1200
CALLS = int(os.environ.get("MCP_CONSOLE_EXACT_CALLS", str(DEFAULT_CALLS)))
CONCURRENCY = 32
PAID, ADD, FREEMIUM, ALLOWANCE = Decimal("0.003"), Decimal("0.011"), Decimal("0.002"), 50
USERS = ("alice", "bob", "carol")


if CALLS > DEFAULT_CALLS:

    @pytest.fixture
    def _debug_loop() -> None:
        """At full size the loop runs in its ordinary mode: debug mode's bookkeeping (a stack
        for every future) would triple the time of 100,000 calls."""


@dataclass(frozen=True)
class Target:
    """A deployment's endpoint and what it charges, as worked out here."""

    name: str
    url: str
    model: PriceModel


@dataclass(frozen=True)
class Key:
    user: str
    secret: str


@pytest.fixture
async def world(
    runtime: Runtime, process_manager: ProcessManager
) -> AsyncIterator[tuple[UsageMeter, list[Target], list[Key]]]:
    admin = runtime.local_admin
    assert admin is not None
    author = await runtime.users.create_user(None, UserCreate(name="ann", role=Role.AUTHOR))
    ann = await runtime.users.authenticate(author.api_key)
    keys: list[Key] = []
    callers: dict[str, int] = {}
    for name in USERS:
        made = await runtime.users.create_user(None, UserCreate(name=name, role=Role.USER))
        principal = await runtime.users.authenticate(made.api_key)
        callers[name] = principal.user_id
        keys.append(Key(name, made.api_key))
        if name == "alice":  # a second key of hers: her calls are one invoice all the same
            second = await runtime.keys.create(principal, KeyCreate(name="agent"))
            keys.append(Key(name, second.api_key))
    meter = UsageMeter(
        runtime.engine,
        ledger=UsageLedger(billable_methods=runtime.settings.billing.billable_methods),
        flush_interval=0.5,
    )
    gateway = Gateway(runtime.users.authenticate, meter=meter)
    server = GatewayServer(gateway)
    url = await server.start()
    meter.start()
    targets = []
    for name, model, price in (
        ("free-echo", PriceModel.FREE, Decimal(0)),
        ("paid-echo", PriceModel.PAID, PAID),
        ("freemium-echo", PriceModel.FREEMIUM, FREEMIUM),
    ):
        service_id = await service(runtime, ann, name, model, price)
        deployment_id = await deployment(runtime, service_id, ann, name)
        async with runtime.sessions.begin() as session:
            # The prices in effect since before this hour, as an author would have set them.
            since = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(
                hours=1
            )
            rows = [("", model.value, price, ALLOWANCE if model is PriceModel.FREEMIUM else 0)]
            if name == "paid-echo":
                rows.append(("add", "PAID", ADD, 0))
            session.add_all(
                ServicePrice(
                    service_id=service_id,
                    tool=tool,
                    price_model=m,
                    unit_price=p,
                    free_requests=f,
                    effective_from=since,
                    set_at=since,
                )
                for tool, m, p, f in rows
            )
        route = gateway.routes.upsert_deployment(
            DeploymentRoute(
                deployment_id=deployment_id,
                owner_id=ann.user_id,
                owner_name="ann",
                name=name,
                allowed_user_ids=frozenset(callers.values()),
            )
        )
        instance, _ = await start_http(process_manager, f"{name}-1")
        gateway.routes.set_instance(deployment_id, instance)
        targets.append(Target(name, f"{url}{route.path}", model))
    try:
        yield meter, targets, keys
    finally:
        await server.stop()
        await meter.aclose()


async def tool_call(
    http: httpx2.AsyncClient, url: str, key: str, tool: str, request_id: int
) -> bool:
    """One stateless ``tools/call``; whether the server's result came back."""
    arguments = {"a": request_id, "b": 1} if tool == "add" else {"text": f"t{request_id}"}
    response = await modern_tool_call(http, url, key, tool, arguments, request_id)
    body = response.json()
    return response.status_code == 200 and "result" in body and not body["result"].get("isError")


def cost(served: Counter[tuple[str, str, str]], targets: list[Target]) -> dict[str, Decimal]:
    """Each user's calls times their prices, each allowance taken once, rounded once."""
    model = {t.name: t.model for t in targets}
    exact: dict[str, Decimal] = dict.fromkeys(USERS, Decimal(0))
    for user in USERS:
        freemium = 0
        for (who, target, tool), n in served.items():
            if who != user:
                continue
            if model[target] is PriceModel.PAID:
                exact[user] += n * (ADD if tool == "add" else PAID)
            elif model[target] is PriceModel.FREEMIUM:
                freemium += n
        exact[user] += max(0, freemium - ALLOWANCE) * FREEMIUM
    return {user: amount(value, "USD") for user, value in exact.items()}


async def test_concurrent_calls_are_invoiced_exactly_to_the_cent(
    runtime: Runtime, world: tuple[UsageMeter, list[Target], list[Key]]
) -> None:
    meter, targets, keys = world
    rng = random.Random(7)
    plan = [
        (rng.choice(keys), rng.choice(targets), rng.choice(("echo", "add")), i)
        for i in range(CALLS)
    ]
    served: Counter[tuple[str, str, str]] = Counter()
    queue = iter(plan)
    async with httpx2.AsyncClient(timeout=60) as http:

        async def caller() -> None:
            for key, target, tool, i in queue:
                if await tool_call(http, target.url, key.secret, tool, i):
                    served[key.user, target.name, tool] += 1

        await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))
    await meter.flush()
    admin = runtime.local_admin
    assert admin is not None

    invoices = await runtime.invoices.invoices(admin, InvoiceQuery())
    totals = {i.subject: i.total for i in invoices if i.subject_kind is InvoiceSubject.USER}

    assert sum(served.values()) == CALLS  # every call was served
    expected = cost(served, targets)
    assert totals == expected
    # The allowance made some FREEMIUM calls free, and each user paid for the rest.
    assert all(value > 0 for value in expected.values())

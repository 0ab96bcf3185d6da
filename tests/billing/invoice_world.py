"""A billed month for invoice tests: FREE, PAID (its price changed mid-month), FREEMIUM and
per-tool prices, two users in one team, and what each of their calls costs by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from mcp_console.backend.billing.invoices import InvoiceService
from mcp_console.backend.billing.money import amount
from mcp_console.backend.billing.month_close import MonthCloser
from mcp_console.backend.billing.prices import PriceService
from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.billing import PriceSet
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.invoices import InvoiceSubject, invoice_id
from mcp_console.schemas.users import Principal, Role, TeamCreate
from tests.backend.factories import make_user

from .helpers import Clock, at, call, deployment, meter, service

PAID_BEFORE = Decimal("0.01")
PAID_AFTER = Decimal("0.0033333333")  # a fraction of a cent: amounts round at the end only
PAID_CHANGE = "2026-12-15T10:00"
FREEMIUM = Decimal("0.002")
ALLOWANCE = 5
TOOL_PRICE = Decimal("0.007")
TOOLY = Decimal("0.01")


def invoicing(runtime: Runtime, clock: Clock) -> tuple[PriceService, MonthCloser, InvoiceService]:
    """The runtime's invoicing, with its time set by ``clock``."""
    prices = PriceService(runtime.sessions, runtime.settings.billing.currency, clock)
    closer = MonthCloser(runtime.sessions, prices, clock=clock)
    return prices, closer, InvoiceService(runtime.sessions, prices, closer, clock=clock)


@dataclass
class World:
    """December 2026's calls; ``exact`` is what each user's calls cost, by hand."""

    admin: Principal
    alice: Principal
    bob: Principal
    clock: Clock
    prices: PriceService
    closer: MonthCloser
    invoices: InvoiceService
    deployments: dict[str, int] = field(default_factory=dict)
    exact: dict[str, Decimal] = field(default_factory=dict)

    def total(self, *users: str) -> Decimal:
        """What ``users``' calls cost to the cent: the sum of calls times price, rounded once."""
        return amount(sum((self.exact[u] for u in users), Decimal(0)), "USD")


async def december(runtime: Runtime) -> World:
    """The world on 2026-12-31T12:00, its month's calls metered, nothing closed."""
    admin = runtime.local_admin
    assert admin is not None
    alice = await make_user(runtime, "alice", Role.USER)
    bob = await make_user(runtime, "bob", Role.USER)
    carol = await make_user(runtime, "carol", Role.USER)
    await runtime.teams.create(carol, TeamCreate(name="ops"))
    for member in ("alice", "bob"):
        await runtime.teams.add_member(carol, "ops", member)
    clock = Clock(at("2026-11-30T12:10"))
    prices, closer, invoices = invoicing(runtime, clock)
    world = World(admin, alice, bob, clock, prices, closer, invoices)
    svc = {
        "free": await service(runtime, admin, "free"),
        "paid": await service(runtime, admin, "paid", PriceModel.PAID, PAID_BEFORE),
        "freemium": await service(runtime, admin, "freemium"),
        "tooly": await service(runtime, admin, "tooly", PriceModel.PAID, TOOLY),
    }
    for name, service_name in (
        ("f1", "free"),
        ("p1", "paid"),
        ("east", "freemium"),
        ("west", "freemium"),
        ("t1", "tooly"),
    ):
        world.deployments[name] = await deployment(runtime, svc[service_name], admin, name)
    await prices.set_price(
        admin, "paid", PriceSet(per_call=PAID_AFTER, effective_from=at(PAID_CHANGE))
    )
    await prices.set_price(admin, "freemium", PriceSet(per_call=FREEMIUM, free_requests=ALLOWANCE))
    await prices.set_price(admin, "tooly", PriceSet(per_call=TOOL_PRICE, tool="add"))
    d = world.deployments

    def calls(
        name: str, user: Principal, when: str, n: int, tool: str = "add"
    ) -> list[RequestRecord]:
        return [call(d[name], user, at(when), tool) for _ in range(n)]

    await meter(
        runtime,
        [
            *calls("f1", alice, "2026-12-01T09:00", 4),
            *calls("p1", alice, "2026-12-10T08:00", 3),
            *calls("p1", alice, "2026-12-15T09:00", 2),
            *calls("p1", alice, "2026-12-16T09:00", 7),
            call(d["p1"], alice, at("2026-12-16T09:00"), status=500, error=True),
            *calls("east", alice, "2026-12-02T10:00", 3),
            *calls("west", alice, "2026-12-12T10:00", 5),
            *calls("t1", alice, "2026-12-05T10:00", 3, "add"),
            *calls("t1", alice, "2026-12-05T10:00", 2, "mul"),
            *calls("p1", bob, "2026-12-20T10:00", 1),
            *calls("west", bob, "2026-12-21T10:00", 7),
            # November and January are other months' invoices.
            *calls("p1", alice, "2026-11-30T12:00", 9),
            *calls("p1", alice, "2027-01-01T00:00", 9),
        ],
    )
    world.exact = {
        # 5 at the old price, 7 at the new; 5 of the 8 FREEMIUM calls free, 3 charged;
        # the tool's own price for add, the service's for mul.
        "alice": 5 * PAID_BEFORE + 7 * PAID_AFTER + 3 * FREEMIUM + 3 * TOOL_PRICE + 2 * TOOLY,
        "bob": PAID_AFTER + 2 * FREEMIUM,
    }
    clock.now = at("2026-12-31T12:00")
    return world


async def this_months_calls(runtime: Runtime, caller: Principal) -> str:
    """7 calls of ``caller`` now to an admin's deployment at 0.0125 a call (0.0875, so
    0.09 on the invoice); the number of ``caller``'s invoice this month."""
    owner = runtime.local_admin
    assert owner is not None
    paid = await service(runtime, owner, "paid", PriceModel.PAID, Decimal("0.0125"))
    dep = await deployment(runtime, paid, owner, "paid")
    now = datetime.now(UTC)
    await meter(runtime, [call(dep, caller, now) for _ in range(7)])
    return invoice_id(f"{now:%Y-%m}", InvoiceSubject.USER, caller.user_id)

"""Monthly invoices: exact to the cent, drafts until the month closes, issued once, unchanged."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, event, func, select

from mcp_console.backend.billing.month_close import MonthCloser
from mcp_console.backend.db.models import ServiceDeployment, Team
from mcp_console.backend.db.models_invoices import Invoice
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.billing import PriceSet
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.errors import Forbidden, Invalid, NotFound
from mcp_console.schemas.invoices import (
    InvoiceFormat,
    InvoiceQuery,
    InvoiceStatus,
    InvoiceSubject,
    MonthClose,
    invoice_id,
)
from mcp_console.schemas.users import Role, UserCreate

from .helpers import at, call, meter
from .invoice_world import (
    ALLOWANCE,
    FREEMIUM,
    PAID_AFTER,
    PAID_BEFORE,
    TOOL_PRICE,
    TOOLY,
    december,
)


async def test_invoice_totals_are_what_the_calls_cost_to_the_cent_and_lines_add_up(
    runtime: Runtime,
) -> None:
    world = await december(runtime)
    alice_id = invoice_id("2026-12", InvoiceSubject.USER, world.alice.user_id)

    draft = await world.invoices.invoice(world.admin, alice_id)

    assert (draft.status, draft.subject, draft.currency) == (InvoiceStatus.DRAFT, "alice", "USD")
    assert draft.total == world.total("alice") == Decimal("0.12")
    assert sum(line.amount for line in draft.lines) == draft.subtotal == draft.total
    assert draft.tax == Decimal("0.00")
    lines = {
        (line.deployment, line.tool, line.model, line.unit_price): (
            line.requests,
            line.errors,
            line.free,
            line.charged,
        )
        for line in draft.lines
    }
    assert lines == {
        ("admin/f1", None, PriceModel.FREE, Decimal(0)): (4, 0, 4, 0),
        ("admin/p1", None, PriceModel.PAID, PAID_BEFORE): (5, 0, 0, 5),
        # The failed call is on the invoice, never charged.
        ("admin/p1", None, PriceModel.PAID, PAID_AFTER): (8, 1, 0, 7),
        # The allowance is the month's first calls across both deployments, used once.
        ("admin/east", None, PriceModel.FREEMIUM, FREEMIUM): (3, 0, 3, 0),
        ("admin/west", None, PriceModel.FREEMIUM, FREEMIUM): (5, 0, ALLOWANCE - 3, 3),
        ("admin/t1", "add", PriceModel.PAID, TOOL_PRICE): (3, 0, 0, 3),
        ("admin/t1", None, PriceModel.PAID, TOOLY): (2, 0, 0, 2),
    }
    # Each line is within a cent of its own exact cost.
    west = next(line for line in draft.lines if line.deployment == "admin/west")
    assert abs(west.amount - 3 * FREEMIUM) < Decimal("0.01")

    team = await world.invoices.invoice(
        world.admin, invoice_id("2026-12", InvoiceSubject.TEAM, await _team_id(runtime))
    )
    assert (team.subject_kind, team.subject) == (InvoiceSubject.TEAM, "ops")
    assert team.total == world.total("alice", "bob")
    assert sum(line.amount for line in team.lines) == team.total
    assert team.requests == draft.requests + 8  # bob's 8 calls beside alice's


async def test_closing_a_month_issues_the_drafts_figures_once(runtime: Runtime) -> None:
    world = await december(runtime)
    drafts = await world.invoices.invoices(world.admin, InvoiceQuery(month="2026-12"))
    world.clock.now = at("2027-01-01T00:20")

    first = await world.closer.close(at("2026-12-01T00:00"))
    again = await world.closer.close(at("2026-12-01T00:00"))
    issued = await world.invoices.invoices(world.admin, InvoiceQuery(month="2026-12"))

    assert (first.invoices, first.already, again.already) == (3, False, True)
    assert [(i.id, i.subject, i.total) for i in issued] == [
        (i.id, i.subject, i.total) for i in drafts
    ]
    assert {i.status for i in drafts} == {InvoiceStatus.DRAFT}
    assert {i.status for i in issued} == {InvoiceStatus.ISSUED}
    assert all(i.issued_at == at("2027-01-01T00:20") for i in issued)
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Invoice)) == 3
    one = await world.invoices.invoice(world.admin, issued[0].id)
    assert sum(line.amount for line in one.lines) == one.total == world.total("alice")


async def test_two_closes_at_once_issue_each_invoice_once(runtime: Runtime) -> None:
    world = await december(runtime)
    world.clock.now = at("2027-01-01T00:20")
    other = MonthCloser(runtime.sessions, world.prices, clock=world.clock)  # another console

    both = await asyncio.gather(
        world.closer.close(at("2026-12-01T00:00")), other.close(at("2026-12-01T00:00"))
    )

    assert sorted(c.already for c in both) == [False, True]
    assert {c.invoices for c in both} == {3}
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Invoice)) == 3


async def test_catch_up_closes_every_month_missed_while_the_console_was_down(
    runtime: Runtime,
) -> None:
    world = await december(runtime)
    world.clock.now = at("2026-12-01T00:05")
    settling = await world.closer.catch_up()  # November's last calls may still be coming
    world.clock.now = at("2026-12-01T00:15")
    november = await world.closer.catch_up()

    # Down from before the new year until March: every month missed is closed at start.
    world.clock.now = at("2027-03-02T08:00")
    caught_up = await world.closer.catch_up()
    again = await world.closer.catch_up()

    assert settling == []
    assert [(c.month, c.invoices) for c in november] == [("2026-11", 2)]  # alice's and ops'
    assert [(c.month, c.invoices, c.already) for c in caught_up] == [
        ("2026-12", 3, False),
        ("2027-01", 2, False),
        ("2027-02", 0, False),  # no calls: closed all the same, nothing issued
    ]
    assert again == []
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Invoice)) == 7
    issued = await world.invoices.invoices(world.admin, InvoiceQuery(month="2026-12"))
    assert {i.issued_at for i in issued} == {at("2027-03-02T08:00")}


async def test_an_issued_invoice_never_changes(runtime: Runtime) -> None:
    world = await december(runtime)
    world.clock.now = at("2027-01-02T00:00")
    await world.closer.close(at("2026-12-01T00:00"))
    alice_id = invoice_id("2026-12", InvoiceSubject.USER, world.alice.user_id)
    before = await world.invoices.invoice(world.alice, alice_id)

    # Calls of December written late, a new price, and a deployment removed with its rows.
    await meter(runtime, [call(world.deployments["p1"], world.alice, at("2026-12-30T10:00"))])
    await world.prices.set_price(world.admin, "paid", PriceSet(per_call=Decimal("9")))
    async with runtime.sessions.begin() as session:
        await session.execute(
            delete(ServiceDeployment).where(ServiceDeployment.id == world.deployments["t1"])
        )
    after = await world.invoices.invoice(world.alice, alice_id)

    assert after == before
    assert after.total == world.total("alice")


async def test_the_csv_export_opens_with_the_csv_module_and_its_lines_sum_to_the_total(
    runtime: Runtime,
) -> None:
    world = await december(runtime)
    alice_id = invoice_id("2026-12", InvoiceSubject.USER, world.alice.user_id)

    exported = await world.invoices.export(world.alice, alice_id, InvoiceFormat.CSV)
    rows = list(csv.DictReader(io.StringIO(exported.content)))

    lines = [r for r in rows if r["row"] == "line"]
    totals = {r["row"]: Decimal(r["amount"]) for r in rows if r["row"] != "line"}
    assert len(lines) == 7
    assert sum(Decimal(r["amount"]) for r in lines) == totals["subtotal"] == totals["total"]
    assert totals["total"] == world.total("alice")
    assert exported.filename == f"{alice_id}.csv"


async def test_who_reads_which_invoice_and_bad_input_named(runtime: Runtime) -> None:
    world = await december(runtime)
    alice_id = invoice_id("2026-12", InvoiceSubject.USER, world.alice.user_id)
    bob_id = invoice_id("2026-12", InvoiceSubject.USER, world.bob.user_id)
    team_id = invoice_id("2026-12", InvoiceSubject.TEAM, await _team_id(runtime))
    carol = await runtime.users.authenticate(await runtime.users.create_key(world.admin, "carol"))

    own = await world.invoices.invoices(world.alice, InvoiceQuery())
    maintained = await world.invoices.invoices(carol, InvoiceQuery())

    assert [i.id for i in own] == [alice_id]
    assert [i.id for i in maintained] == [team_id]  # carol made no calls of her own
    assert (await world.invoices.invoice(carol, bob_id)).subject == "bob"  # a member's
    with pytest.raises(Forbidden):
        await world.invoices.invoice(world.alice, bob_id)
    with pytest.raises(Forbidden):
        await world.invoices.invoices(world.alice, InvoiceQuery(team="ops"))
    with pytest.raises(Forbidden):
        await world.invoices.close_month(world.alice, "2026-11")
    for number, field in (("INV-2026-1", "id"), ("INV-202613-U000001", "month")):
        with pytest.raises(Invalid) as bad:
            await world.invoices.invoice(world.admin, number)
        assert bad.value.field == field
    with pytest.raises(NotFound):
        await world.invoices.invoice(world.admin, invoice_id("2026-10", InvoiceSubject.USER, 1))
    with pytest.raises(NotFound) as nobody:
        await world.invoices.invoices(world.admin, InvoiceQuery(user="nobody"))
    assert nobody.value.field == "user"
    for month in ("2026-13", "December", "2027-02"):
        with pytest.raises(Invalid) as wrong:
            await world.invoices.invoices(world.admin, InvoiceQuery(month=month))
        assert wrong.value.field == "month"
    with pytest.raises(Invalid) as open_month:
        await world.invoices.close_month(world.admin, "2026-12")
    assert "not over" in str(open_month.value)


async def test_closing_a_month_takes_the_same_statements_for_any_number_of_users(
    runtime: Runtime,
) -> None:
    world = await december(runtime)
    world.clock.now = at("2027-02-01T00:20")
    few = await _statements(runtime, world.closer.close, "2026-12-01T00:00")
    # Many more callers in January, across every deployment.
    users = [world.alice, world.bob]
    await meter(
        runtime,
        [
            call(world.deployments[name], users[i % 2], at(f"2027-01-{1 + i % 28:02d}T10:00"))
            for i in range(200)
            for name in ("p1", "west", "t1")
        ],
    )
    for n in range(12):
        extra = await runtime.users.authenticate(
            (
                await runtime.users.create_user(None, UserCreate(name=f"u{n}", role=Role.USER))
            ).api_key
        )
        await meter(
            runtime,
            [call(world.deployments["west"], extra, at("2027-01-05T10:00")) for _ in range(n + 1)],
        )
    many = await _statements(runtime, world.closer.close, "2027-01-01T00:00")

    assert many == few
    assert few > 10  # reads, the price periods' sums, then three multi-row inserts


async def _statements(
    runtime: Runtime, close: Callable[[datetime], Awaitable[MonthClose]], first: str
) -> int:
    count = 0
    closing = asyncio.current_task()

    def counted(*_: object) -> None:
        nonlocal count
        # The close's own statements: the runtime's writers (the audit trail) share the engine.
        count += asyncio.current_task() is closing

    target = runtime.engine.sync_engine
    event.listen(target, "before_cursor_execute", counted)
    try:
        result = await close(at(first))
    finally:
        event.remove(target, "before_cursor_execute", counted)
    assert result.invoices > 0
    return count


async def _team_id(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        found = await session.scalar(select(Team.id).where(Team.name == "ops"))
    assert found is not None
    return found

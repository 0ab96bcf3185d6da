"""Billing answers alike through every client: refusals naming their field, prices, usage."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mcp_console.schemas.billing import PriceSet, UsageQuery
from mcp_console.schemas.catalog import PriceModel, ServiceCreate
from mcp_console.schemas.errors import Forbidden, Invalid, NotFound
from mcp_console.schemas.users import Role
from tests.contract.conftest import Clients


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (UsageQuery(start="soon"), "from"),
        (UsageQuery(end="2026-02-30"), "to"),
        (UsageQuery(start="2026-12-05", end="2026-12-01"), "to"),
    ],
)
async def test_a_bad_usage_period_is_refused_naming_its_field(
    clients: Clients, query: UsageQuery, field: str
) -> None:
    alice = await clients.user("alice", Role.USER)
    with pytest.raises(Invalid) as caught:
        await alice.billing_usage(query)
    assert caught.value.field == field


async def test_a_new_user_has_no_usage_and_may_not_read_another_users(clients: Clients) -> None:
    alice = await clients.user("alice", Role.USER)
    await clients.user("bob", Role.USER)
    report = await alice.billing_usage(UsageQuery())
    assert (report.rows, report.total.requests, report.total.cost) == ([], 0, Decimal("0.00"))
    assert report.currency == "USD"
    with pytest.raises(Forbidden):
        await alice.billing_usage(UsageQuery(user="bob"))


async def test_prices_are_set_by_the_author_and_listed_with_the_catalog_price_first(
    clients: Clients,
) -> None:
    author = await clients.user("ann", Role.AUTHOR)
    other = await clients.user("bob", Role.USER)
    await author.register_service(
        ServiceCreate(name="priced", price_model=PriceModel.PAID, price_per_request=Decimal("0.01"))
    )
    set_ = await author.set_price("priced", PriceSet(per_call=Decimal("0.02"), free_requests=10))
    # Another user does not see the author's draft at all.
    with pytest.raises(NotFound):
        await other.set_price("priced", PriceSet(per_call=Decimal("0.5")))
    with pytest.raises(Invalid) as negative:
        await author.set_price("priced", PriceSet.model_construct(per_call=Decimal(-1)))
    with pytest.raises(NotFound) as missing:
        await author.list_prices("nothing")

    assert (set_.model, set_.per_call, set_.free_requests) == (
        PriceModel.FREEMIUM,
        Decimal("0.02"),
        10,
    )
    listed = await author.list_prices("priced")
    assert [(p.model, p.per_call, p.set_by) for p in listed] == [
        (PriceModel.PAID, Decimal("0.01"), None),
        (PriceModel.FREEMIUM, Decimal("0.02"), "ann"),
    ]
    assert negative.value.field == "per_call"
    assert missing.value.field == "service"
    # The catalog shows the price set, the catalog's own staying first in the timeline.
    shown = await author.get_service("priced")
    assert (shown.price_model, shown.price_per_request) == (PriceModel.FREEMIUM, Decimal("0.02"))

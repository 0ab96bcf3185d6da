"""Author revenue answers alike through every client: empty for a new author, refusals named."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mcp_console.schemas.errors import Forbidden, Invalid, NotFound
from mcp_console.schemas.revenue import RevenueBreakdown, RevenueQuery
from mcp_console.schemas.users import Role
from tests.contract.conftest import Clients


async def test_a_new_author_has_earned_nothing_and_reads_only_their_own_revenue(
    clients: Clients,
) -> None:
    ann = await clients.user("ann", Role.AUTHOR)
    await clients.user("bob", Role.AUTHOR)
    admin = await clients.admin()

    own = await ann.billing_revenue(RevenueQuery(by=RevenueBreakdown.MONTH))
    named = await admin.billing_revenue(RevenueQuery(author="ann"))
    with pytest.raises(Forbidden):
        await ann.billing_revenue(RevenueQuery(author="bob"))
    with pytest.raises(NotFound) as missing:
        await admin.billing_revenue(RevenueQuery(author="nobody"))
    with pytest.raises(Invalid) as backwards:
        await ann.billing_revenue(RevenueQuery(start="2026-12-05", end="2026-12-01"))

    assert (own.author, own.by, own.rows, own.total.earned) == (
        "ann",
        RevenueBreakdown.MONTH,
        [],
        Decimal("0.00"),
    )
    assert (named.author, named.currency) == ("ann", "USD")
    assert missing.value.field == "author"
    assert backwards.value.field == "to"

"""Quotas answer alike through every client: who sets them, who reads them, bad figures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mcp_console.schemas.errors import Forbidden, Invalid, NotFound
from mcp_console.schemas.quotas import QuotaKind, QuotaPeriod, QuotaScope, QuotaSet
from mcp_console.schemas.users import Role
from tests.contract.conftest import Clients


def monthly(subject: str, allowed: str = "100") -> QuotaSet:
    return QuotaSet(
        scope=QuotaScope.USER,
        subject=subject,
        kind=QuotaKind.REQUESTS,
        period=QuotaPeriod.MONTH,
        allowed=Decimal(allowed),
    )


async def test_an_admin_limits_a_user_who_reads_it_and_others_do_not(clients: Clients) -> None:
    admin = await clients.user("ada", Role.ADMIN)
    bob = await clients.user("bob", Role.USER)
    carol = await clients.user("carol", Role.USER)

    view = await admin.set_quota(monthly("bob"))
    again = await admin.set_quota(monthly("bob", "150"))

    assert (view.scope, view.subject, view.kind, view.period) == (
        QuotaScope.USER,
        "bob",
        QuotaKind.REQUESTS,
        QuotaPeriod.MONTH,
    )
    assert (view.allowed, view.used, view.percent) == (Decimal(100), Decimal(0), 0.0)
    assert view.currency is None
    # The same subject, kind and period: a new figure for the one quota.
    assert (again.id, again.allowed) == (view.id, Decimal(150))
    assert [q.id for q in await bob.list_quotas()] == [view.id]
    assert await carol.list_quotas() == []
    with pytest.raises(Forbidden):
        await bob.set_quota(monthly("carol"))
    with pytest.raises(Forbidden):
        await bob.remove_quota(view.id)
    await admin.remove_quota(view.id)
    assert await admin.list_quotas() == []
    with pytest.raises(NotFound):
        await admin.remove_quota(view.id)


async def test_a_quota_that_allows_nothing_is_refused_naming_its_field(clients: Clients) -> None:
    admin = await clients.user("ada", Role.ADMIN)
    await clients.user("bob", Role.USER)
    with pytest.raises(Invalid) as caught:
        await admin.set_quota(
            QuotaSet.model_construct(**{**dict(monthly("bob")), "allowed": Decimal(0)})
        )
    assert caught.value.field == "allowed"

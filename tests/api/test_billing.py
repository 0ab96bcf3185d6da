"""The billing routes: usage as each caller may read it, prices set by their owner, refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.billing import PriceSet, UsageBreakdown, UsageQuery, next_hour
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.errors import Forbidden
from mcp_console.schemas.users import Role, UserCreate
from tests.api.conftest import Api
from tests.api.live import auth, error_of
from tests.billing.helpers import call, deployment, meter, service


async def test_usage_and_prices_through_the_api_as_each_caller_may_see_them(api: Api) -> None:
    admin = api.runtime.local_admin
    assert admin is not None
    created = await api.runtime.users.create_user(admin, UserCreate(name="bob", role=Role.USER))
    bob = await api.runtime.users.authenticate(created.api_key)
    svc = await service(api.runtime, admin, "api-paid", PriceModel.PAID, Decimal("0.01"))
    dep = await deployment(api.runtime, svc, admin, "api-paid")
    now = datetime.now(UTC)
    await meter(api.runtime, [call(dep, bob, now)] * 3 + [call(dep, admin, now)] * 2)

    async with (
        RemoteClient(api.live.url, created.api_key) as bobs,
        RemoteClient(api.live.url, api.admin_token) as admins,
    ):
        own = await bobs.billing_usage(UsageQuery(by=UsageBreakdown.USER, start="1d"))
        everyone = await admins.billing_usage(UsageQuery(by=UsageBreakdown.USER))
        with pytest.raises(Forbidden):
            await bobs.billing_usage(UsageQuery(user="admin"))
        with pytest.raises(Forbidden):
            await bobs.set_price("api-paid", PriceSet(per_call=Decimal("0.5")))
        set_ = await admins.set_price("api-paid", PriceSet(per_call=Decimal("0.02")))
        listed = await bobs.list_prices("api-paid")

    assert [(r.key, r.requests, r.cost) for r in own.rows] == [("bob", 3, Decimal("0.03"))]
    assert [(r.key, r.requests, r.cost) for r in everyone.rows] == [
        ("admin", 2, Decimal("0.02")),
        ("bob", 3, Decimal("0.03")),
    ]
    assert everyone.total.cost == Decimal("0.05")
    # Set now, it applies from the next whole hour: the calls above keep their price.
    assert set_.effective_from == next_hour(now)
    assert [(p.per_call, p.set_by) for p in listed] == [
        (Decimal("0.01"), None),
        (Decimal("0.02"), "admin"),
    ]


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "field"),
    [
        ("GET", "/billing/usage", {"from": "soon"}, 422, "from"),
        ("GET", "/billing/usage", {"by": "week"}, 422, "by"),
        ("GET", "/billing/usage", {"team": "nobody"}, 404, "team"),
        ("POST", "/billing/prices/api-paid", {"per_call": "-1"}, 422, "per_call"),
        (
            "POST",
            "/billing/prices/api-paid",
            {"per_call": "1", "free_requests": -2},
            422,
            "free_requests",
        ),
        (
            "POST",
            "/billing/prices/api-paid",
            {"per_call": "1", "effective_from": "2020-01-01T00:00:00Z"},
            422,
            "effective_from",
        ),
        ("POST", "/billing/prices/nothing-here", {"per_call": "1"}, 404, "service"),
    ],
)
async def test_bad_input_is_refused_naming_the_field(
    api: Api, method: str, path: str, payload: dict[str, Any], status: int, field: str
) -> None:
    admin = api.runtime.local_admin
    assert admin is not None
    await service(api.runtime, admin, "api-paid", PriceModel.PAID, Decimal("0.01"))
    if method == "GET":
        response = await api.http.get(
            f"/api/v1{path}", params=payload, headers=auth(api.admin_token)
        )
    else:
        response = await api.http.post(
            f"/api/v1{path}", json=payload, headers=auth(api.admin_token)
        )
    assert response.status_code == status, response.text
    assert error_of(response)["field"] == field

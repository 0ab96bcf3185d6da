"""Usage by API key: each key's calls and their cost, named by owner, prefix and name."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from mcp_console.backend.db.models import ApiKey
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.billing import UsageBreakdown, UsageQuery
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.users import KeyCreate, Role
from tests.backend.factories import make_user

from .helpers import Clock, at, billing, call, deployment, meter, service


async def test_usage_by_key_splits_a_users_calls_by_the_key_they_used(runtime: Runtime) -> None:
    admin = runtime.local_admin
    assert admin is not None
    ann = await make_user(runtime, "ann", Role.USER)
    agent = await runtime.keys.create(ann, KeyCreate(name="agent"))
    paid = await service(runtime, admin, "paid", PriceModel.PAID, Decimal("0.01"))
    deployment_id = await deployment(runtime, paid, admin, "paid-a")
    when = at("2026-12-03T10:00")
    records = [
        dataclasses.replace(call(deployment_id, ann, when), key_id=agent.key.id) for _ in range(7)
    ]
    records += [dataclasses.replace(call(deployment_id, ann, when), key_id=ann.key_id)] * 2
    records += [call(deployment_id, ann, when)]  # the console's own path: no key
    await meter(runtime, records)
    _, usage = billing(runtime, Clock(at("2026-12-31T00:00")))

    report = await usage.usage(ann, UsageQuery(by=UsageBreakdown.KEY, start="2026-12"))

    async with runtime.sessions() as session:
        first = await session.get(ApiKey, ann.key_id)
    assert first is not None
    named = f" ({first.label})" if first.label else ""
    rows = {row.key: (row.requests, row.cost) for row in report.rows}
    assert rows == {
        f"ann {agent.key.prefix} (agent)": (7, Decimal("0.07")),
        f"ann {first.prefix}{named}": (2, Decimal("0.02")),
        "(no key)": (1, Decimal("0.01")),
    }
    assert report.total.requests == 10

"""A quota 80 % and 100 % used reaches the alert targets, once each per period; who set or
removed a quota stays in the audit trail."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

from mcp_console.backend.billing.quota_book import Limit, period_bounds
from mcp_console.backend.billing.rating import Price, PriceTimeline
from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.alerts import TargetCreate
from mcp_console.schemas.audit import AuditQuery
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.quotas import QuotaKind, QuotaPeriod, QuotaScope, QuotaSet
from mcp_console.schemas.users import Role
from tests.backend.factories import make_user
from tests.billing.helpers import at
from tests.monitor.receiver import receiving

BOB, DEPLOYMENT, SERVICE = 7, 21, 31


def served(now: float) -> RequestRecord:
    return RequestRecord(
        deployment_id=DEPLOYMENT,
        instance_id="i-1",
        user_id=BOB,
        method="tools/call",
        tool_name="echo",
        status=200,
        error=False,
        latency_ms=1.0,
        bytes_in=1,
        bytes_out=1,
        at=now,
    )


async def test_a_quota_nearly_and_fully_used_notifies_the_targets(runtime: Runtime) -> None:
    admin = runtime.local_admin
    assert admin is not None
    now = time.time()
    limit = Limit(5, QuotaScope.USER, BOB, "bob", QuotaKind.REQUESTS, QuotaPeriod.DAY, Decimal(5))
    limit.starts, limit.ends = period_bounds(QuotaPeriod.DAY, now)
    free = Price("", PriceModel.FREE, Decimal(0), 0, at("1970-01-01T00:00"))
    book = runtime.quota_book
    book.load(
        [limit],
        teams={},
        allowances={},
        services={DEPLOYMENT: SERVICE},
        timelines={SERVICE: PriceTimeline([], free)},
    )
    async with receiving() as receiver:
        await runtime.notifications.add_target(admin, TargetCreate(name="ops", url=receiver.url))
        for _ in range(5):
            hold = book.reserve(BOB, None, DEPLOYMENT, "tools/call", "echo")
            assert hold is not None
            book.settle(hold, served(now))
        async with asyncio.timeout(20):
            while len(receiver.requests) < 2:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # nothing more comes

    alerts = [json.loads(r.body)["alerts"][0] for r in receiver.requests]
    assert [(a["labels"]["alertname"], a["labels"]["percent"]) for a in alerts] == [
        ("QuotaUse", "80"),
        ("QuotaUse", "100"),
    ]
    assert [a["labels"]["severity"] for a in alerts] == ["warning", "critical"]
    assert alerts[1]["annotations"]["summary"] == (
        "user bob has reached its requests per day quota (5 of 5): calls over it are refused"
    )


async def test_setting_and_removing_a_quota_stays_in_the_audit_trail(runtime: Runtime) -> None:
    admin = runtime.local_admin
    assert admin is not None
    await make_user(runtime, "bob", Role.USER)
    new = QuotaSet(
        scope=QuotaScope.USER,
        subject="bob",
        kind=QuotaKind.REQUESTS,
        period=QuotaPeriod.MONTH,
        allowed=Decimal(100),
    )
    view = await runtime.quotas.set_quota(admin, new)
    await runtime.quotas.remove_quota(admin, view.id)
    await runtime.audit_recorder.flush()

    events = await runtime.audit.events(admin, AuditQuery(kind="quota"))

    assert [(e.kind, e.actor, e.target) for e in events] == [
        ("quota.removed", admin.name, "bob"),
        ("quota.set", admin.name, "bob"),
    ]
    assert events[1].detail["allowed"] == "100"

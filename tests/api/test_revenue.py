"""An author's revenue: the same figures through the API, the SDK, LocalClient and the CLI."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from mcp_console.client.local import LocalClient
from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.billing import PriceSet
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.revenue import RevenueBreakdown, RevenueQuery, RevenueReport
from mcp_console.schemas.users import Role, UserCreate
from tests.api.conftest import Api
from tests.api.live import auth, error_of
from tests.billing.helpers import call, deployment, meter, service
from tests.cli.commands import Cli


async def test_revenue_is_the_same_through_every_client_and_the_cli(
    api: Api, tmp_path: Path
) -> None:
    rt = api.runtime
    created = await rt.users.create_user(None, UserCreate(name="ann", role=Role.AUTHOR))
    ann = await rt.users.authenticate(created.api_key)
    caller = await rt.users.authenticate(
        (await rt.users.create_user(None, UserCreate(name="cat", role=Role.USER))).api_key
    )
    paid = await service(rt, ann, "ann-paid", PriceModel.PAID, Decimal("0.0125"))
    free = await service(rt, ann, "ann-free")
    paid_dep = await deployment(rt, paid, caller, "paid")
    free_dep = await deployment(rt, free, caller, "free")
    now = datetime.now(UTC)
    await meter(rt, [call(paid_dep, caller, now)] * 7 + [call(free_dep, caller, now)] * 3)
    # A price set now applies from the next hour: the calls above keep 0.0125.
    await rt.prices.set_price(ann, "ann-paid", PriceSet(per_call=Decimal("9")))

    local = await LocalClient(rt, ann).billing_revenue(RevenueQuery())
    async with RemoteClient(api.live.url, created.api_key) as remote:
        remote_report = await remote.billing_revenue(RevenueQuery())
        by_month = await remote.billing_revenue(RevenueQuery(by=RevenueBreakdown.MONTH))
    cli = Cli(
        tmp_path / "cli-data",
        "revenue-cli",
        MCP_CONSOLE_DATABASE_URL=str(rt.settings.database_url),
        MCP_CONSOLE_API_KEY=created.api_key,
    )
    printed = await asyncio.to_thread(cli, "billing", "revenue", "--json")
    from_cli = RevenueReport.model_validate(json.loads(printed.stdout))
    table = (await asyncio.to_thread(cli, "billing", "revenue")).stdout.splitlines()

    assert [(r.key, r.charged, r.earned) for r in local.rows] == [
        ("ann-paid", 7, Decimal("0.09"))  # 0.0875
    ]
    assert remote_report == local == from_cli
    assert [r.key for r in by_month.rows] == [f"{now:%Y-%m}"]
    assert by_month.total == local.total
    assert table[0].startswith("Revenue of ann's services by service")
    assert table[2].split() == ["ann-paid", "7", "0", "7", "0.09"]
    assert table[3].split() == ["total", "7", "0", "7", "0.09"]


async def test_revenue_refusals_through_the_api_name_what_is_wrong(api: Api) -> None:
    ann = await api.user("ann", Role.AUTHOR)
    other = await api.http.get("/api/v1/billing/revenue", params={"author": "admin"}, headers=ann)
    missing = await api.http.get(
        "/api/v1/billing/revenue", params={"author": "nobody"}, headers=api.admin
    )
    bad_by = await api.http.get("/api/v1/billing/revenue", params={"by": "tool"}, headers=ann)
    bad_from = await api.http.get("/api/v1/billing/revenue", params={"from": "soon"}, headers=ann)
    nobody = await api.http.get("/api/v1/billing/revenue", headers=auth("mcpc_not-a-key"))

    assert other.status_code == 403, other.text
    assert (missing.status_code, error_of(missing)["field"]) == (404, "author")
    assert (bad_by.status_code, error_of(bad_by)["field"]) == (422, "by")
    assert (bad_from.status_code, error_of(bad_from)["field"]) == (422, "from")
    assert nobody.status_code == 401

"""FakeBilling: prices and usage in memory for FakeClient, checked by the backend's rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from mcp_console.backend.billing.money import amount
from mcp_console.backend.billing.periods import period
from mcp_console.schemas.billing import (
    PriceSet,
    PriceView,
    UsageBreakdown,
    UsageQuery,
    UsageReport,
    UsageRow,
    next_hour,
)
from mcp_console.schemas.catalog import ServiceDetail
from mcp_console.schemas.errors import Forbidden, Invalid, NotFound, revalidated
from mcp_console.schemas.revenue import RevenueBreakdown, RevenueQuery, RevenueReport, RevenueRow
from mcp_console.schemas.users import Principal
from tests.tui.fake_catalog import FakeCatalog

CURRENCY = "USD"


class FakeBilling:
    """Prices set through the client, and usage rows tests put in ``rows`` by breakdown."""

    def __init__(self, catalog: FakeCatalog) -> None:
        self._catalog = catalog
        self.prices: dict[str, list[PriceView]] = {}
        # The catalog's price of each service repriced here, as it was before.
        self.openings: dict[str, PriceView] = {}
        self.rows: dict[UsageBreakdown, list[UsageRow]] = {}
        # Revenue rows by author, then breakdown (tests put the ones they want shown).
        self.revenue_rows: dict[str, dict[RevenueBreakdown, list[RevenueRow]]] = {}

    def usage(self, me: Principal, query: UsageQuery) -> UsageReport:
        query = revalidated(query)
        first, last = period(query.start, query.end, datetime.now(UTC))
        if query.user and query.user != me.name and not me.is_admin:
            raise Forbidden(f"{me.name} may read their own usage, not {query.user}'s")
        rows = self.rows.get(query.by, [])
        total = UsageRow(
            key="total",
            requests=sum(r.requests for r in rows),
            errors=sum(r.errors for r in rows),
            free=sum(r.free for r in rows),
            charged=sum(r.charged for r in rows),
            cost=amount(sum((r.cost for r in rows), Decimal(0)), CURRENCY),
        )
        return UsageReport(
            by=query.by, start=first, end=last, currency=CURRENCY, rows=rows, total=total
        )

    def revenue(self, me: Principal, query: RevenueQuery, known: bool) -> RevenueReport:
        """``known``: whether the author named (or ``me``) is a user."""
        query = revalidated(query)
        first, last = period(query.start, query.end, datetime.now(UTC))
        author = query.author.strip() if query.author else me.name
        if author != me.name and not me.is_admin:
            raise Forbidden(f"{me.name} may read their own revenue, not {author}'s")
        if not known:
            raise NotFound(f"no user named {author!r}", field="author")
        rows = self.revenue_rows.get(author, {}).get(query.by, [])
        total = RevenueRow(
            key="total",
            requests=sum(r.requests for r in rows),
            errors=sum(r.errors for r in rows),
            free=sum(r.free for r in rows),
            charged=sum(r.charged for r in rows),
            earned=amount(sum((r.earned for r in rows), Decimal(0)), CURRENCY),
        )
        return RevenueReport(
            author=author,
            by=query.by,
            start=first,
            end=last,
            currency=CURRENCY,
            rows=rows,
            total=total,
        )

    def _service(self, me: Principal, service: str) -> ServiceDetail:
        try:
            return self._catalog.visible(me, service)
        except NotFound as missing:
            raise NotFound(str(missing), field="service") from None

    def list_prices(self, me: Principal, service: str) -> list[PriceView]:
        detail = self._service(me, service)
        opening = self.openings.get(detail.name) or self._opening(detail)
        return [opening, *self.prices.get(detail.name, [])]

    def _opening(self, detail: ServiceDetail) -> PriceView:
        return PriceView(
            service=detail.name,
            tool=None,
            model=detail.price_model,
            per_call=detail.price_per_request,
            free_requests=0,
            effective_from=detail.created_at,
            currency=CURRENCY,
            set_by=None,
            set_at=detail.created_at,
        )

    def set_price(self, me: Principal, service: str, new: PriceSet) -> PriceView:
        new = revalidated(new)
        detail = self._service(me, service)
        if detail.author != me.name and not me.is_admin:
            raise Forbidden(f"only the author of {service} or an admin may change it")
        now = datetime.now(UTC)
        start = new.effective_from or next_hour(now)
        if start < now or start != next_hour(start):
            raise Invalid(
                "effective_from must be a whole hour in the future", field="effective_from"
            )
        view = PriceView(
            service=detail.name,
            tool=new.tool,
            model=new.resolved_model,
            per_call=new.per_call,
            free_requests=new.free_requests,
            effective_from=start,
            currency=CURRENCY,
            set_by=me.name,
            set_at=now,
        )
        self.prices.setdefault(detail.name, []).append(view)
        if new.tool is None:
            # The catalog shows the service's own price as last set.
            self.openings.setdefault(detail.name, self._opening(detail))
            self._catalog.services[detail.name] = detail.model_copy(
                update={"price_model": view.model, "price_per_request": view.per_call}
            )
        return view

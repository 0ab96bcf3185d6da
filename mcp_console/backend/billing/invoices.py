"""InvoiceService: monthly invoices per user and team, drafts until issued, each reader theirs."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.billing.invoice_build import (
    BuiltInvoice,
    build_invoices,
    month_label,
    read_month,
)
from mcp_console.backend.billing.invoice_export import export
from mcp_console.backend.billing.money import amount, shown_price
from mcp_console.backend.billing.month_close import Flush, MonthCloser, nothing_to_flush
from mcp_console.backend.billing.periods import month_start, next_month
from mcp_console.backend.billing.prices import Clock, PriceService, utc_now
from mcp_console.backend.db.models import Team, TeamMember, User
from mcp_console.backend.db.models_invoices import Invoice as InvoiceRow
from mcp_console.backend.db.models_invoices import InvoiceLine as LineRow
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.errors import Forbidden, Invalid, NotFound, revalidated
from mcp_console.schemas.invoices import (
    INVOICE_ID,
    Invoice,
    InvoiceExport,
    InvoiceFormat,
    InvoiceLine,
    InvoiceQuery,
    InvoiceStatus,
    InvoiceSubject,
    InvoiceSummary,
    MonthClose,
)
from mcp_console.schemas.users import Principal

# Whose invoices a reader gets: user ids and team ids (``None``: everyone's, every team's).
Subjects = tuple[Collection[int] | None, Collection[int] | None]


class InvoiceService:
    """Invoices of calendar months (UTC): drafts computed from the meter's rows until the
    month is closed, then the issued invoices as they were written, never changed.

    Who sees what, as for usage: an admin every invoice; anyone else their own and their
    teams' where they maintain the team (and, by name, those teams' members'). Closing a
    month is an admin's (the runtime also closes each month by itself once it is over).

    Args:
        sessions: the database.
        prices: the price timelines and the currency.
        closer: issues a month's invoices.
        flush: writes what the meter holds (so a draft has the reader's last calls).
        clock: the time now.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        prices: PriceService,
        closer: MonthCloser,
        flush: Flush = nothing_to_flush,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._prices = prices
        self._closer = closer
        self._flush = flush
        self._clock = clock

    async def invoices(self, actor: Principal, query: InvoiceQuery) -> list[InvoiceSummary]:
        """The invoices of ``query.month`` (default: this month) ``actor`` reads: users'
        first, then teams', each in the order of their ids.

        Raises:
            Invalid: a bad month, one not begun yet, or both a user and a team.
            NotFound: ``query.user`` or ``query.team`` does not exist.
            Forbidden: ``actor`` may not read that user's or team's invoices.
        """
        query = revalidated(query)
        first = read_month(query.month) if query.month else month_start(self._clock())
        self._require_begun(first)
        async with self._sessions() as session:
            users, teams = await _subjects(session, actor, query)
            if await self._closer.closed(session, first) is not None:
                rows = await _issued(session, month_label(first), users, teams)
                return [_summary(row) for row in rows]
        invoices = await self._drafts(first, users, teams)
        return [self._summary(b, first) for b in invoices]

    async def invoice(self, actor: Principal, number: str) -> Invoice:
        """The invoice numbered ``number`` (a draft's number is its issued invoice's).

        Raises:
            Invalid: ``number`` is not an invoice number (``field="id"``).
            NotFound: no such invoice (nobody's calls were billed under it).
            Forbidden: ``actor`` may not read it.
        """
        first, kind, subject_id = _parse(number)
        self._require_begun(first)
        async with self._sessions() as session:
            await _require_reader(session, actor, kind, subject_id)
            if await self._closer.closed(session, first) is not None:
                row = await session.get(InvoiceRow, number.strip())
                if row is None:
                    raise _no_invoice(number, first)
                lines = await session.scalars(
                    select(LineRow).where(LineRow.invoice_id == row.id).order_by(LineRow.position)
                )
                return _issued_invoice(row, list(lines))
        user = {subject_id} if kind is InvoiceSubject.USER else set()
        team = {subject_id} if kind is InvoiceSubject.TEAM else set()
        drafts = await self._drafts(first, user, team)
        if not drafts:
            raise _no_invoice(number, first)
        return self._draft(drafts[0], first)

    async def export(self, actor: Principal, number: str, fmt: InvoiceFormat) -> InvoiceExport:
        """The invoice numbered ``number`` written as JSON, CSV or a printable HTML page.

        Raises:
            as ``invoice``.
        """
        return export(await self.invoice(actor, number), fmt)

    async def close_month(self, actor: Principal, month: str) -> MonthClose:
        """Issue ``month``'s invoices now (an admin's; a closed month stays as it was).

        Raises:
            Forbidden: ``actor`` is not an admin.
            Invalid: a bad month, or one not over yet (``field="month"``).
        """
        if not actor.is_admin:
            raise Forbidden("only an admin closes a month and issues its invoices")
        return await self._closer.close(read_month(month))

    def _require_begun(self, first: datetime) -> None:
        if first > self._clock():
            raise Invalid(f"month {month_label(first)} has not begun", field="month")

    async def _drafts(
        self, first: datetime, users: Collection[int] | None, teams: Collection[int] | None
    ) -> list[BuiltInvoice]:
        await self._flush()
        async with self._sessions() as session:
            return await build_invoices(session, self._prices, first, users=users, teams=teams)

    def _summary(self, built: BuiltInvoice, first: datetime) -> InvoiceSummary:
        return InvoiceSummary(
            id=built.id,
            month=month_label(first),
            status=InvoiceStatus.DRAFT,
            subject_kind=built.kind,
            subject=built.subject,
            currency=self._prices.currency,
            requests=built.requests,
            subtotal=built.subtotal,
            tax=built.tax,
            total=built.total,
            issued_at=None,
        )

    def _draft(self, built: BuiltInvoice, first: datetime) -> Invoice:
        return Invoice(
            **self._summary(built, first).model_dump(),
            start=first,
            end=next_month(first),
            lines=built.lines,
        )


def _parse(number: str) -> tuple[datetime, InvoiceSubject, int]:
    found = INVOICE_ID.match(number.strip())
    if found is None:
        raise Invalid(
            f"id {number!r} is not an invoice number such as INV-202612-U000042", field="id"
        )
    year, month, letter, subject = found.groups()
    first = read_month(f"{year}-{month}")
    kind = InvoiceSubject.USER if letter == "U" else InvoiceSubject.TEAM
    return first, kind, int(subject)


def _no_invoice(number: str, first: datetime) -> NotFound:
    return NotFound(
        f"no invoice {number.strip()}: no billable calls of its user or team in "
        f"{month_label(first)}",
        field="id",
    )


async def _maintained(session: AsyncSession, actor: Principal) -> set[int]:
    return set(
        await session.scalars(
            select(TeamMember.team_id).where(
                TeamMember.user_id == actor.user_id, TeamMember.role == "maintainer"
            )
        )
    )


async def _require_reader(
    session: AsyncSession, actor: Principal, kind: InvoiceSubject, subject_id: int
) -> None:
    """Refuse ``actor`` another's invoice: a user's is theirs and their teams' maintainers';
    a team's its maintainers'."""
    if actor.is_admin or (kind is InvoiceSubject.USER and subject_id == actor.user_id):
        return
    maintained = await _maintained(session, actor)
    if kind is InvoiceSubject.TEAM:
        allowed = subject_id in maintained
    else:
        teams = set(
            await session.scalars(
                select(TeamMember.team_id).where(TeamMember.user_id == subject_id)
            )
        )
        allowed = bool(teams & maintained)
    if not allowed:
        raise Forbidden(
            f"{actor.name} may read their own invoices and those of the teams they maintain "
            "(and their members'), not this one"
        )


async def _subjects(session: AsyncSession, actor: Principal, query: InvoiceQuery) -> Subjects:
    if query.user and query.team:
        raise Invalid("give a user or a team, not both", field="team")
    if query.user:
        user_id = await session.scalar(select(User.id).where(User.name == query.user.strip()))
        if user_id is None:
            raise NotFound(f"no user named {query.user!r}", field="user")
        await _require_reader(session, actor, InvoiceSubject.USER, user_id)
        return {user_id}, set()
    if query.team:
        team_id = await session.scalar(select(Team.id).where(Team.name == query.team.strip()))
        if team_id is None:
            raise NotFound(f"no team named {query.team!r}", field="team")
        await _require_reader(session, actor, InvoiceSubject.TEAM, team_id)
        return set(), {team_id}
    if actor.is_admin:
        return None, None
    return {actor.user_id}, await _maintained(session, actor)


async def _issued(
    session: AsyncSession,
    month: str,
    users: Collection[int] | None,
    teams: Collection[int] | None,
) -> list[InvoiceRow]:
    stmt = select(InvoiceRow).where(InvoiceRow.month == month)
    rows = list(await session.scalars(stmt.order_by(InvoiceRow.id)))
    # Users' (U) sort before teams' (T) by number; then by name, as drafts are listed.
    wanted = [
        r
        for r in rows
        if (r.subject_kind == InvoiceSubject.USER and (users is None or r.subject_id in users))
        or (r.subject_kind == InvoiceSubject.TEAM and (teams is None or r.subject_id in teams))
    ]
    return sorted(wanted, key=lambda r: (r.subject_kind != InvoiceSubject.USER, r.subject_id))


def _summary(row: InvoiceRow) -> InvoiceSummary:
    # Stored to four places: read back to the currency's minor unit, as a draft shows them.
    return InvoiceSummary(
        id=row.id,
        month=row.month,
        status=InvoiceStatus.ISSUED,
        subject_kind=InvoiceSubject(row.subject_kind),
        subject=row.subject_name,
        currency=row.currency,
        requests=row.requests,
        subtotal=amount(row.subtotal, row.currency),
        tax=amount(row.tax, row.currency),
        total=amount(row.total, row.currency),
        issued_at=row.issued_at,
    )


def _issued_invoice(row: InvoiceRow, lines: list[LineRow]) -> Invoice:
    first = read_month(row.month)
    return Invoice(
        **_summary(row).model_dump(),
        start=first,
        end=next_month(first),
        lines=[
            InvoiceLine(
                deployment=line.deployment,
                service=line.service,
                tool=line.tool or None,
                model=PriceModel(line.price_model),
                unit_price=shown_price(line.unit_price),
                requests=line.requests,
                errors=line.errors,
                free=line.free_requests,
                charged=line.charged,
                amount=amount(line.amount, row.currency),
            )
            for line in lines
        ],
    )

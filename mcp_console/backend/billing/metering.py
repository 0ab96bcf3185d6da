"""MeteringService: how billable usage reaches the database, and what crashes lost of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models_metering import UsageJournal
from mcp_console.schemas.errors import Forbidden
from mcp_console.schemas.metering import MeteringLoss, MeteringState
from mcp_console.schemas.users import Principal

if TYPE_CHECKING:  # the meter loads with the gateway, where one is served
    from mcp_console.backend.gateway.meter import UsageMeter

LOSSES_SHOWN = 20


class MeteringService:
    """Reports the meter's state and the calls the backend's crashes lost (an admin's view).

    A run killed before writing what it counted is found by the next run's start (the crash
    journal); each such loss is kept in ``usage_journals`` and read back here.

    Args:
        sessions: The database.
        meter: The serving gateway's meter, if this backend serves one.
        durable: Whether metering is durable (``billing.durable_metering``).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        meter: Callable[[], UsageMeter | None],
        durable: bool,
    ) -> None:
        self._sessions = sessions
        self._meter = meter
        self._durable = durable

    async def state(self, actor: Principal) -> MeteringState:
        """The meter as it stands and the latest runs that lost calls, newest first.

        Raises:
            Forbidden: ``actor`` is not an admin.
        """
        if not actor.is_admin:
            raise Forbidden("only an admin reads the state of metering")
        lost = UsageJournal.lost_requests > 0
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(UsageJournal)
                    .where(lost)
                    .order_by(UsageJournal.recovered_at.desc(), UsageJournal.epoch)
                    .limit(LOSSES_SHOWN)
                )
            ).all()
            total = await session.scalar(
                select(func.coalesce(func.sum(UsageJournal.lost_requests), 0)).where(lost)
            )
        meter = self._meter()
        return MeteringState(
            durable=self._durable,
            journal=meter is not None and meter.journal is not None,
            pending_calls=meter.pending_requests if meter is not None else 0,
            lost_calls=int(total or 0),
            losses=[
                MeteringLoss(
                    run_started=row.started_at,
                    found_at=row.recovered_at or row.started_at,
                    calls=row.lost_requests,
                    failed=row.lost_errors,
                )
                for row in rows
            ],
        )

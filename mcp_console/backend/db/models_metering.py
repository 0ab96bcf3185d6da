"""The meter's crash journal: what each run of the gateway wrote, and what a crash lost."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from mcp_console.backend.db.base import Base, UtcDateTime, utcnow


class UsageJournal(Base):
    """One run of the meter: the billable calls it wrote, and after a crash those it lost.

    The run's journal file counts every billable call as it is served; each flush adds what
    it wrote here, in the same transaction as the usage itself. When the next run finds the
    file of a run that never finished, the calls counted there and not here were served but
    never written: they are kept in ``lost_requests`` (``lost_errors`` of them failed).
    """

    __tablename__ = "usage_journals"

    epoch: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    written_requests: Mapped[int] = mapped_column(BigInteger, default=0)
    written_errors: Mapped[int] = mapped_column(BigInteger, default=0)
    # Set once, when a later run recovers this one's journal.
    recovered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    lost_requests: Mapped[int] = mapped_column(BigInteger, default=0)
    lost_errors: Mapped[int] = mapped_column(BigInteger, default=0)

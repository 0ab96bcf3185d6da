"""How billable usage reaches the database, and what crashes of the backend lost of it."""

from __future__ import annotations

from datetime import datetime

from mcp_console.schemas.base import Dto


class MeteringLoss(Dto):
    """Billable calls a run of the backend served and never wrote: it was killed first.

    Attributes:
        run_started: When that run started metering (``None`` when it is not known).
        found_at: When the next run found the loss (at its start).
        calls: The calls served and never billed.
        failed: How many of those had failed (they would have cost nothing).
    """

    run_started: datetime | None
    found_at: datetime
    calls: int
    failed: int


class MeteringState(Dto):
    """The meter as it stands: durable or not, its crash journal, what is waiting, what was lost.

    Attributes:
        durable: Each billable call's usage is written before its reply ends
            (``billing.durable_metering``); else within a second after.
        journal: Billable calls are counted in the crash journal (``False``: the gateway is
            not served here, or another process holds the journal).
        pending_calls: Billable calls counted and not written yet.
        lost_calls: Every call that crashes lost, all runs together.
        losses: The runs that lost calls, newest first (the last 20).
    """

    durable: bool
    journal: bool
    pending_calls: int
    lost_calls: int
    losses: list[MeteringLoss]

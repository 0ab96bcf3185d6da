"""HistoryWriter: writes the recorder's buckets in batches, rolls them up, applies retention."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mcp_console.backend.db.engine import session_factory
from mcp_console.backend.db.models import ServiceDeployment
from mcp_console.backend.db.models_history import Grain
from mcp_console.backend.monitor.history_gauges import GaugeSampler
from mcp_console.backend.monitor.history_recorder import (
    RAW_TIER,
    HistoryBatch,
    HistoryRecorder,
    bucket_start,
)
from mcp_console.backend.monitor.history_store import (
    TIERS,
    RollupRaced,
    purge,
    roll_up,
    write_batch,
)
from mcp_console.settings import MonitorSettings

logger = logging.getLogger(__name__)


class HistoryWriter:
    """Keeps the metrics history: the recorder's counts written every
    ``history_flush_interval`` seconds in one transaction, and (from the scheduler) summed
    into minutes and hours and removed per tier after its retention.

    A failed write keeps its counts for the next one; ``aclose()`` writes what is left.
    Counts of a deployment deleted before they were written are dropped.

    Args:
        engine: the database.
        settings: the flush interval and the retention of each tier.
        gauges: reads instance gauges at each flush (none: traffic only).
        recorder: the gateway tap whose counts are written (a new one by default).
        clock: epoch seconds.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        settings: MonitorSettings,
        gauges: GaugeSampler | None = None,
        *,
        recorder: HistoryRecorder | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._sessions = session_factory(engine)
        self._settings = settings
        self._gauges = gauges
        self._clock = clock
        self.recorder = recorder if recorder is not None else HistoryRecorder(clock)
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self.dropped = 0  # requests of deployments deleted before they were written

    def start(self) -> None:
        """Start writing in the background, on the running loop."""
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._run(), name="metrics-history-flush")

    async def aclose(self) -> None:
        """Stop writing in the background, then write what is pending (without new gauges)."""
        self._stop.set()
        if self._task is not None:
            await self._task  # its current write finishes rather than being cut off
            self._task = None
        try:
            await self.flush(sample=False)
        except Exception:
            logger.exception("metrics history: the last counts could not be written")

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._settings.history_flush_interval)
            if self._stop.is_set():
                return
            try:
                await self.flush()
            except Exception:
                if not self._failing:
                    logger.exception("metrics history: writing failed; keeping it to retry")
                self._failing = True
            else:
                if self._failing:
                    logger.info("metrics history: writing works again")
                self._failing = False

    async def flush(self, *, sample: bool = True) -> None:
        """Read the instances' gauges (``sample``), then write everything pending in one
        transaction: a statement per table, however many requests were counted.

        Raises:
            Exception: the database error; what was taken is pending again.
        """
        async with self._lock:
            if sample and self._gauges is not None:
                try:
                    self.recorder.add_gauges(await self._gauges.sample())
                except Exception:
                    logger.warning("metrics history: instance gauges not read", exc_info=True)
            batch = self.recorder.take()
            if not batch:
                return
            try:
                await self._write(batch)
            except BaseException:
                self.recorder.restore(batch)
                raise

    async def _write(self, batch: HistoryBatch) -> None:
        try:
            async with self._engine.begin() as conn:
                await write_batch(conn, batch)
        except IntegrityError:
            if not await self._drop_orphans(batch):
                raise
            async with self._engine.begin() as conn:
                await write_batch(conn, batch)

    async def _drop_orphans(self, batch: HistoryBatch) -> bool:
        wanted = {k[0] for k in batch.traffic} | {k[0] for k in batch.gauges}
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(ServiceDeployment.id).where(ServiceDeployment.id.in_(sorted(wanted)))
            )
            alive = set(rows.scalars())
        gone = wanted - alive
        for key in [k for k in batch.traffic if k[0] in gone]:
            row = batch.traffic.pop(key)
            if key[2] is Grain.TOTAL:  # each request has one such row among its five
                self.dropped += row[0]
        for gauge in [k for k in batch.gauges if k[0] in gone]:
            del batch.gauges[gauge]
        if gone:
            logger.warning("metrics history: dropped counts of deleted deployments %s", gone)
        return bool(gone)

    async def scheduled_roll_up(self) -> None:
        """``roll_up`` as the scheduler runs it: when the database is busy with other writes
        or another backend sums the same tier, it waits for the next run (nothing is lost:
        unsummed buckets are kept until they are summed)."""
        try:
            await self.roll_up()
        except (OperationalError, IntegrityError, RollupRaced) as error:
            logger.warning("metrics history: summing waits for the next run (%s)", error)

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        # A write transaction from its start: a rollup reads its watermark before it writes,
        # and on SQLite a read turning into a write fails if another wrote meanwhile.
        async with self._sessions.begin() as session:
            yield await session.connection()

    async def roll_up(self) -> None:
        """Sum finished 10-second buckets into minutes and minutes into hours, then delete
        what each tier keeps no longer (the scheduler runs this).

        A minute is summed once it is over and nothing of it waits in memory, so no count
        arrives after its minute was summed; a finer bucket is deleted only once summed.
        """
        async with self._lock:
            now = int(self._clock())
            # One bucket of slack: a request counts where it ended, a moment ago.
            limit = bucket_start(now) - RAW_TIER
            pending = self.recorder.oldest_pending()
            if pending is not None:
                limit = min(limit, pending)
            done: dict[int, int] = {}
            for source, target in itertools.pairwise(TIERS):
                cutoff = bucket_start(min(limit, done.get(source, limit)), target)
                async with self._writing() as conn:
                    done[target] = await roll_up(conn, source, target, cutoff)
            keep = self._settings
            horizons = (keep.keep_10s, keep.keep_1m, keep.keep_1h)
            async with self._writing() as conn:
                for tier, horizon, coarser in zip(TIERS, horizons, (*TIERS[1:], None), strict=True):
                    before = now - int(horizon.total_seconds())
                    if coarser is not None:
                        before = min(before, done[coarser])  # only what is summed further
                    await purge(conn, tier, before)

"""UsageMeter: hands each request to the ledger, the request log and the live figures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Self
from typing import cast as typed

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mcp_console.backend.db.models import ServiceDeployment, User
from mcp_console.backend.gateway.live_stats import LiveStats
from mcp_console.backend.gateway.records import Meter, RequestRecord, is_error
from mcp_console.backend.gateway.request_log import RequestLogWriter
from mcp_console.backend.gateway.usage_journal import (
    COUNTED,
    COUNTED_ERRORS,
    WAITING,
    WAITING_ERRORS,
    UsageJournal,
)
from mcp_console.backend.gateway.usage_ledger import UsageBatch, UsageLedger

logger = logging.getLogger(__name__)

DEFAULT_FLUSH_INTERVAL_S = 1.0


class UsageMeter:
    """The gateway's ``Meter``: exact daily usage, a raw request log and live figures.

    ``record()`` only counts in memory: the usage ledger (one aggregate per deployment,
    user and UTC day), the request log's bounded buffer and the live figures. A background
    task writes ledger and log every ``flush_interval`` seconds in one transaction (usage is
    added to the day's row). A failed write keeps everything pending for the next one, and
    ``aclose()`` writes what is left, so usage counts equal the requests recorded.

    A ``kill -9`` loses what was counted and not yet written: with a ``journal``, every
    billable call is also counted in a file mapping the kernel keeps, and each write notes
    what it wrote in the same transaction, so the next run reports exactly how many calls
    were served and never written (at most ``flush_interval`` seconds' worth). With
    ``durable``, the gateway hands each request over with ``settle()`` before its reply
    ends, which returns once its usage is written: calls waiting together share one
    transaction, and a write that fails refuses them (no reply, nothing billed).

    Args:
        engine: The database to write to.
        ledger: Where billable usage is counted (free requests by default).
        log: Where every request's record waits to be written (defaults: 100,000 records
            held at most, kept 7 days).
        live: Where live figures go (a new ``LiveStats`` by default).
        flush_interval: Seconds between writes (at most 1 s is the contract).
        taps: Further meters that see every record and in-flight change (monitoring's
            history and exporters); the same rules hold for them: no I/O, no await.
        journal: The crash journal billable calls are counted in (closed with the meter).
        durable: Whether billable usage is written before each reply ends (``settle()``).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ledger: UsageLedger | None = None,
        log: RequestLogWriter | None = None,
        live: LiveStats | None = None,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL_S,
        taps: Sequence[Meter] = (),
        journal: UsageJournal | None = None,
        durable: bool = False,
    ) -> None:
        if not 0 < flush_interval <= 60:
            raise ValueError("flush_interval must be in (0, 60] s")
        self._engine = engine
        self.ledger = ledger if ledger is not None else UsageLedger()
        self.log = log if log is not None else RequestLogWriter()
        self.live = live if live is not None else LiveStats()
        self.flush_interval = flush_interval
        self._taps = tuple(taps)
        self.journal = journal
        self.durable = durable
        # The journal's words, or the same counts kept in memory only.
        self._counts: memoryview | list[int] = journal.counts if journal else [0] * 6
        self._waiters: list[asyncio.Future[None]] = []
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    # -- the request path ----------------------------------------------------------------

    def record(self, record: RequestRecord) -> None:
        """Take one finished request: O(1), no I/O, no await."""
        self._take(record)

    async def settle(self, record: RequestRecord) -> None:
        """Take one request whose reply is about to end; if it is billable, return once its
        usage is written (durable metering).

        Raises:
            Exception: the write failed; the call's usage is not billed, and its reply
                must not be sent.
        """
        if not self._take(record):
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._wake.set()
        # Until its reply may go out, the call is not served: a crash meanwhile is no loss.
        error = is_error(record)
        self._counts[WAITING] += 1
        if error:
            self._counts[WAITING_ERRORS] += 1
        try:
            await waiter
        finally:
            self._counts[WAITING] -= 1
            if error:
                self._counts[WAITING_ERRORS] -= 1

    def _take(self, record: RequestRecord) -> bool:
        error = is_error(record)
        self.live.request_done(record.deployment_id, record.instance_id, record.latency_ms, error)
        billable = self.ledger.add(record, error)
        if billable:
            counts = self._counts
            counts[COUNTED] += 1
            if error:
                counts[COUNTED_ERRORS] += 1
        self.log.append(record)
        for tap in self._taps:
            tap.record(record)
        return billable

    def inflight_changed(self, deployment_id: int, instance_id: str, delta: int) -> None:
        """Note a request starting (``+1``) or finishing (``-1``) on an instance."""
        self.live.inflight_changed(deployment_id, instance_id, delta)
        for tap in self._taps:
            tap.inflight_changed(deployment_id, instance_id, delta)

    def writes_paused(self) -> asyncio.Lock:
        """Held, no write moves usage from the ledger to the database: a reader sees what
        is written and what is pending as one (a write waits for it)."""
        return self._lock

    @property
    def pending_requests(self) -> int:
        """Billable requests counted in memory and not yet written."""
        return self.ledger.pending_requests

    @property
    def pending_records(self) -> int:
        """Raw records not yet written."""
        return self.log.pending

    @property
    def usage_dropped(self) -> int:
        """Billable requests of deployments or users deleted before they were written."""
        return self.ledger.dropped

    @property
    def raw_dropped(self) -> int:
        """Raw records lost to a full buffer or a deleted deployment."""
        return self.log.dropped

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def start(self) -> None:
        """Start the background flush task on the running loop."""
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._run(), name="usage-meter-flush")

    async def aclose(self, attempts: int = 3) -> None:
        """Stop the flush task, then write everything still pending.

        Call it after the gateway has stopped taking requests. A final write that fails
        ``attempts`` times is logged as an error with what could not be written.
        """
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            # The loop finishes its current write rather than being cancelled in the middle.
            await self._task
            self._task = None
        try:
            await self._write_rest(attempts)
        finally:
            if self.journal is not None:
                # What is left unwritten stays counted: the next run reports it.
                self.journal.close()
                self._counts = [0] * 6
                self.journal = None

    async def _write_rest(self, attempts: int) -> None:
        for attempt in range(1, attempts + 1):
            try:
                while await self.flush():
                    pass
                return
            except Exception:
                if attempt == attempts:
                    logger.exception(
                        "metering: %d requests and %d raw records could not be written",
                        self.pending_requests,
                        self.pending_records,
                    )
                else:
                    await asyncio.sleep(0.2 * attempt)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        pruned = loop.time()
        while not self._stop.is_set():
            if not self._waiters:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.flush_interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            # Calls waiting on their usage get it written at once; the raw log (nobody
            # waits on it) goes with the interval's writes, to keep those transactions small.
            due = loop.time() - pruned >= self.flush_interval
            try:
                await self.flush(usage_only=bool(self._waiters) and not due)
            except Exception:
                if not self._failing:
                    logger.exception("metering: writing usage failed; keeping it to retry")
                self._failing = True
            else:
                if self._failing:
                    logger.info("metering: writing usage works again")
                self._failing = False
            if due:
                pruned = loop.time()
                self.live.prune()

    # -- writing ---------------------------------------------------------------------------

    async def flush(self, *, usage_only: bool = False) -> int:
        """Write pending usage and raw records (``usage_only``: usage alone) in one
        transaction.

        Returns:
            How many raw records are still waiting (more than one transaction's worth).

        Raises:
            Exception: the database error; everything taken for this write is pending again.
        """
        async with self._lock:
            usage = self.ledger.take()
            raw = [] if usage_only else self.log.take()
            waiters, self._waiters = self._waiters, []
            try:
                if usage or raw:
                    await self._write(usage, raw)
            except BaseException as exc:
                self.log.restore(raw)
                if self.durable:
                    # The calls waiting on this write get no reply: none of it is billed.
                    self._discard(usage)
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(exc)
                else:
                    self.ledger.restore(usage)
                raise
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
            return self.log.pending

    async def purge(self, now: datetime | None = None) -> int:
        """Delete raw records older than the log's retention (the scheduler calls this).

        Returns:
            How many records were deleted.
        """
        async with self._engine.begin() as conn:
            return await self.log.purge(conn, now)

    def _discard(self, usage: UsageBatch) -> None:
        """Note calls dropped on purpose, so the journal does not report them lost."""
        if self.journal is not None and usage:
            self.journal.discard(*_totals(usage))

    async def _write(self, usage: UsageBatch, raw: list[RequestRecord]) -> None:
        try:
            async with self._engine.begin() as conn:
                await self._write_batch(conn, usage, raw)
        except IntegrityError:
            # A deployment or user deleted since its requests were recorded: drop those
            # (nothing can be billed to a row that is gone) and write the rest.
            requests, errors = _totals(usage)
            if not await self._drop_orphans(usage, raw):
                raise
            if self.journal is not None:
                kept_requests, kept_errors = _totals(usage)
                self.journal.discard(requests - kept_requests, errors - kept_errors)
            async with self._engine.begin() as conn:
                await self._write_batch(conn, usage, raw)

    async def _write_batch(
        self, conn: AsyncConnection, usage: UsageBatch, raw: list[RequestRecord]
    ) -> None:
        await self.ledger.write(conn, usage)
        await self.log.write(conn, raw)
        if self.journal is not None and usage:
            await self.journal.written(conn, *_totals(usage))

    async def _drop_orphans(self, usage: UsageBatch, raw: list[RequestRecord]) -> bool:
        deployments = {k.deployment_id for k in usage} | {r.deployment_id for r in raw}
        users = {k.user_id for k in usage}
        async with self._engine.connect() as conn:
            live_deps = set(
                await _existing(conn, typed(Table, ServiceDeployment.__table__), deployments)
            )
            live_users = set(await _existing(conn, typed(Table, User.__table__), users))
        gone = self.ledger.drop_orphans(usage, live_deps, live_users)
        orphans = self.log.drop_orphans(raw, live_deps)
        if gone or orphans:
            logger.warning(
                "metering: dropped %d usage rows and %d raw records of deleted deployments %s "
                "or users %s",
                gone,
                orphans,
                sorted(deployments - live_deps),
                sorted(users - live_users),
            )
        return bool(gone or orphans)


def _totals(usage: UsageBatch) -> tuple[int, int]:
    """Billable calls in ``usage``, and how many of them failed."""
    return sum(u.requests for u in usage.values()), sum(u.errors for u in usage.values())


async def _existing(conn: AsyncConnection, table: Table, ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    rows = await conn.execute(select(table.c.id).where(table.c.id.in_(wanted)))
    return [row[0] for row in rows]

"""Exact per-request metering: in-memory daily usage and a raw log, flushed in batches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, Self
from typing import cast as typed

from sqlalchemy import Float, Table, case, cast, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mcp_console.backend.db.models import RequestLog, ServiceDeployment, ServiceUsage, User
from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.gateway.stats import LiveStats

logger = logging.getLogger(__name__)

PriceLookup = Callable[[int], Decimal]
"""The price of one request to a deployment; called on the request path, so a dict lookup."""

# The calls a user is billed for; the protocol around them (initialize, discovery, lists,
# notifications, streams, session ends) goes to the raw log and the live figures only.
BILLABLE_METHODS = frozenset({"tools/call", "resources/read", "prompts/get"})
BYTES_PER_MB = 1_000_000
CLIENT_CLOSED = 499  # the gateway's status for a client gone before the reply began
DEFAULT_FLUSH_INTERVAL_S = 1.0
DEFAULT_RAW_LIMIT = 100_000
DEFAULT_RETENTION_DAYS = 7.0
# Raw rows written per transaction, so a backlog after an outage is written in slices.
RAW_ROWS_PER_FLUSH = 10_000
RAW_ROWS_PER_STATEMENT = 500
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_USAGE = typed(Table, ServiceUsage.__table__)
_LOG = typed(Table, RequestLog.__table__)
_ZERO = Decimal(0)


def no_price(deployment_id: int) -> Decimal:
    """The default price lookup: every request is free."""
    return _ZERO


NO_STREAM = 405


def is_error(record: RequestRecord) -> bool:
    """Whether a request failed: the gateway flagged it, or its HTTP status is 400 or more.

    A client that left before any reply (499) is not a failure of the deployment, nor is
    405 to a GET: that is how a server says it offers no standalone stream, and legacy
    clients ask for one with every session.
    """
    if record.method == "GET" and record.status == NO_STREAM:
        return False
    return record.error is not False or (record.status >= 400 and record.status != CLIENT_CLOSED)


@dataclass(slots=True)
class _Usage:
    """What one user did with one deployment on one UTC day, not yet written."""

    requests: int = 0
    errors: int = 0
    latency_us: int = 0
    transfer_bytes: int = 0
    cost: Decimal = _ZERO

    def merge(self, other: _Usage) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.latency_us += other.latency_us
        self.transfer_bytes += other.transfer_bytes
        self.cost += other.cost


UsageKey = tuple[int, int, int]  # deployment, user, days since the epoch (UTC)


class UsageMeter:
    """The gateway's ``Meter``: exact daily usage rows plus a raw request log.

    ``record()`` only adds to in-memory aggregates (one per deployment, user and UTC day)
    and appends to a bounded raw buffer; a background task writes both every
    ``flush_interval`` seconds in one transaction (usage is added to the day's row). A failed
    write keeps everything pending for the next one, and ``aclose()`` writes what is left,
    so usage counts equal the requests recorded. The raw buffer keeps the newest
    ``raw_limit`` records if the database stays away long enough to fill it.

    Counted in usage: requests with a user and a billable method (``BILLABLE_METHODS``).
    Errors are counted apart and are not charged: cost is the price per request times the
    successful requests.

    Args:
        engine: The database to write to.
        prices: The price of one request per deployment (free by default).
        flush_interval: Seconds between writes (at most 1 s is the contract).
        raw_limit: Raw records held at most while the database cannot be written.
        retention: How long ``purge()`` keeps raw records.
        billable_methods: The JSON-RPC methods usage counts.
        live: Where live figures go (a new ``LiveStats`` by default).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        prices: PriceLookup = no_price,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL_S,
        raw_limit: int = DEFAULT_RAW_LIMIT,
        retention: timedelta = timedelta(days=DEFAULT_RETENTION_DAYS),
        billable_methods: Collection[str] = BILLABLE_METHODS,
        live: LiveStats | None = None,
    ) -> None:
        if not 0 < flush_interval <= 60 or raw_limit < 1 or retention <= timedelta(0):
            raise ValueError(
                "flush_interval must be in (0, 60] s, raw_limit at least 1, retention above 0"
            )
        self._engine = engine
        self._prices = prices
        self.flush_interval = flush_interval
        self._raw_limit = raw_limit
        self.retention = retention
        self._billable = frozenset(billable_methods)
        self.live = live if live is not None else LiveStats()
        self._pending: dict[UsageKey, _Usage] = {}
        self._raw: deque[RequestRecord] = deque()
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self.raw_dropped = 0
        self.usage_dropped = 0

    # -- the request path ----------------------------------------------------------------

    def record(self, record: RequestRecord) -> None:
        """Take one finished request: O(1), no I/O, no await."""
        error = is_error(record)
        self.live.request_done(record.deployment_id, record.instance_id, record.latency_ms, error)
        if record.user_id is not None and record.method in self._billable:
            key = (record.deployment_id, record.user_id, int(record.at // 86400))
            usage = self._pending.get(key)
            if usage is None:
                usage = self._pending[key] = _Usage()
            usage.requests += 1
            usage.latency_us += round(record.latency_ms * 1000)
            usage.transfer_bytes += record.bytes_in + record.bytes_out
            if error:
                usage.errors += 1
            else:
                usage.cost += self._prices(record.deployment_id)
        raw = self._raw
        if len(raw) >= self._raw_limit:
            raw.popleft()
            self.raw_dropped += 1
        raw.append(record)

    def inflight_changed(self, deployment_id: int, instance_id: str, delta: int) -> None:
        """Note a request starting (``+1``) or finishing (``-1``) on an instance."""
        self.live.inflight_changed(deployment_id, instance_id, delta)

    @property
    def pending_requests(self) -> int:
        """Billable requests counted in memory and not yet written."""
        return sum(u.requests for u in self._pending.values())

    @property
    def pending_records(self) -> int:
        """Raw records not yet written."""
        return len(self._raw)

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
        if self._task is not None:
            # The loop finishes its current write rather than being cancelled in the middle.
            await self._task
            self._task = None
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
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.flush_interval)
            if self._stop.is_set():
                return
            try:
                await self.flush()
            except Exception:
                if not self._failing:
                    logger.exception("metering: writing usage failed; keeping it to retry")
                self._failing = True
            else:
                if self._failing:
                    logger.info("metering: writing usage works again")
                self._failing = False
            self.live.prune()

    # -- writing ---------------------------------------------------------------------------

    async def flush(self) -> int:
        """Write pending usage and raw records in one transaction.

        Returns:
            How many raw records are still waiting (more than one transaction's worth).

        Raises:
            Exception: the database error; everything taken for this write is pending again.
        """
        async with self._lock:
            usage, self._pending = self._pending, {}
            count = min(len(self._raw), RAW_ROWS_PER_FLUSH)
            raw = [self._raw.popleft() for _ in range(count)]
            try:
                if usage or raw:
                    await self._write(usage, raw)
            except BaseException:
                self._restore(usage, raw)
                raise
            return len(self._raw)

    async def _write(self, usage: dict[UsageKey, _Usage], raw: list[RequestRecord]) -> None:
        try:
            async with self._engine.begin() as conn:
                await _write_batch(conn, usage, raw)
        except IntegrityError:
            # A deployment or user deleted since its requests were recorded: drop those
            # (nothing can be billed to a row that is gone) and write the rest.
            if not await self._drop_orphans(usage, raw):
                raise
            async with self._engine.begin() as conn:
                await _write_batch(conn, usage, raw)

    async def _drop_orphans(self, usage: dict[UsageKey, _Usage], raw: list[RequestRecord]) -> bool:
        deployments = {k[0] for k in usage} | {r.deployment_id for r in raw}
        users = {k[1] for k in usage}
        async with self._engine.connect() as conn:
            live_deps = set(
                await _existing(conn, typed(Table, ServiceDeployment.__table__), deployments)
            )
            live_users = set(await _existing(conn, typed(Table, User.__table__), users))
        gone = [k for k in usage if k[0] not in live_deps or k[1] not in live_users]
        for key in gone:
            self.usage_dropped += usage.pop(key).requests
        kept = [r for r in raw if r.deployment_id in live_deps]
        orphans = len(raw) - len(kept)
        self.raw_dropped += orphans
        raw[:] = kept
        if gone or orphans:
            logger.warning(
                "metering: dropped %d usage rows and %d raw records of deleted deployments %s "
                "or users %s",
                len(gone),
                orphans,
                sorted(deployments - live_deps),
                sorted(users - live_users),
            )
        return bool(gone or orphans)

    def _restore(self, usage: dict[UsageKey, _Usage], raw: list[RequestRecord]) -> None:
        for key, taken in usage.items():
            pending = self._pending.get(key)
            if pending is None:
                self._pending[key] = taken
            else:
                pending.merge(taken)
        room = self._raw_limit - len(self._raw)
        keep = raw[-room:] if room > 0 else []
        self.raw_dropped += len(raw) - len(keep)
        self._raw.extendleft(reversed(keep))

    async def purge(self, now: datetime | None = None) -> int:
        """Delete raw records older than the retention period (the scheduler calls this).

        Returns:
            How many records were deleted.
        """
        cutoff = (now or datetime.now(UTC)) - self.retention
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(_LOG).where(_LOG.c.at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)


async def _existing(conn: AsyncConnection, table: Table, ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    rows = await conn.execute(select(table.c.id).where(table.c.id.in_(wanted)))
    return [row[0] for row in rows]


async def _write_batch(
    conn: AsyncConnection, usage: dict[UsageKey, _Usage], raw: list[RequestRecord]
) -> None:
    if usage:
        rows = [_usage_row(key, usage[key]) for key in sorted(usage)]  # sorted: no deadlocks
        await conn.execute(_upsert(conn.dialect.name), rows)
    # In slices: each statement's rows are prepared on the event loop, so a big batch
    # would hold the gateway's requests up for its whole length.
    for start in range(0, len(raw), RAW_ROWS_PER_STATEMENT):
        rows = [_raw_row(r) for r in raw[start : start + RAW_ROWS_PER_STATEMENT]]
        await conn.execute(insert(_LOG), rows)


def _usage_row(key: UsageKey, u: _Usage) -> dict[str, Any]:
    deployment_id, user_id, day = key
    return {
        "deployment_id": deployment_id,
        "user_id": user_id,
        "date": date.fromordinal(_EPOCH_ORDINAL + day),
        "request_count": u.requests,
        "error_count": u.errors,
        "response_time_total_us": u.latency_us,
        "response_time_avg": u.latency_us / u.requests / 1000 if u.requests else 0.0,
        "data_transfer_bytes": u.transfer_bytes,
        "data_transfer_mb": u.transfer_bytes / BYTES_PER_MB,
        "cost": u.cost,
    }


def _upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT (deployment, user, date) DO UPDATE adding the batch to the row."""
    table = _USAGE
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    new, col = stmt.excluded, table.c
    requests = col.request_count + new.request_count
    latency = col.response_time_total_us + new.response_time_total_us
    transfer = col.data_transfer_bytes + new.data_transfer_bytes
    return stmt.on_conflict_do_update(
        index_elements=[col.deployment_id, col.user_id, col.date],
        set_={
            "request_count": requests,
            "error_count": col.error_count + new.error_count,
            "response_time_total_us": latency,
            "response_time_avg": case(
                (requests > 0, cast(latency, Float) / requests / 1000.0), else_=0.0
            ),
            "data_transfer_bytes": transfer,
            "data_transfer_mb": cast(transfer, Float) / BYTES_PER_MB,
            "cost": col.cost + new.cost,
        },
    )


def _raw_row(r: RequestRecord) -> dict[str, Any]:
    error = is_error(r)
    code = r.error if not isinstance(r.error, bool) else None
    return {
        "deployment_id": r.deployment_id,
        "instance_id": r.instance_id[:64] if r.instance_id is not None else None,
        "user_id": r.user_id,
        "method": r.method[:64],
        "tool_name": r.tool_name[:500] if r.tool_name is not None else None,
        "status": r.status,
        "error": error,
        "error_code": code,
        "latency_ms": r.latency_ms,
        "bytes_in": r.bytes_in,
        "bytes_out": r.bytes_out,
        "at": datetime.fromtimestamp(r.at, UTC),
    }

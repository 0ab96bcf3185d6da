"""The raw request log: every request's record, buffered (bounded), written in slices, purged."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any
from typing import cast as typed

from sqlalchemy import Table, delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from mcp_console.backend.db.models import RequestLog
from mcp_console.backend.gateway.records import RequestRecord, is_error

DEFAULT_RAW_LIMIT = 100_000
DEFAULT_RETENTION_DAYS = 7.0
# Records written per transaction, so a backlog after an outage is written in slices.
RAW_ROWS_PER_FLUSH = 10_000
RAW_ROWS_PER_STATEMENT = 500
_LOG = typed(Table, RequestLog.__table__)


class RequestLogWriter:
    """Holds request records until they are taken to be written to ``request_log``.

    The buffer keeps the newest ``limit`` records if they cannot be written for long enough
    to fill it; the older ones are counted in ``dropped``. Records older than ``retention``
    are deleted by ``purge()`` (the daily usage rows stay: they are billing history).

    Args:
        limit: Records held at most while the database cannot be written.
        retention: How long ``purge()`` keeps records.
    """

    def __init__(
        self,
        limit: int = DEFAULT_RAW_LIMIT,
        retention: timedelta = timedelta(days=DEFAULT_RETENTION_DAYS),
    ) -> None:
        if limit < 1 or retention <= timedelta(0):
            raise ValueError("the request log's limit must be at least 1, its retention above 0")
        self._limit = limit
        self.retention = retention
        self._buffer: deque[RequestRecord] = deque()
        self.dropped = 0
        """Records lost: beyond the limit, or of a deployment deleted before writing."""

    def append(self, record: RequestRecord) -> None:
        """Buffer one record, dropping the oldest when full: O(1), no I/O."""
        buffer = self._buffer
        if len(buffer) >= self._limit:
            buffer.popleft()
            self.dropped += 1
        buffer.append(record)

    @property
    def pending(self) -> int:
        """Records not yet written."""
        return len(self._buffer)

    def take(self, limit: int = RAW_ROWS_PER_FLUSH) -> list[RequestRecord]:
        """The oldest ``limit`` records (at most), which are pending no more."""
        buffer = self._buffer
        return [buffer.popleft() for _ in range(min(len(buffer), limit))]

    def restore(self, batch: list[RequestRecord]) -> None:
        """Put back records that could not be written, ahead of newer ones, within the limit."""
        room = self._limit - len(self._buffer)
        keep = batch[-room:] if room > 0 else []
        self.dropped += len(batch) - len(keep)
        self._buffer.extendleft(reversed(keep))

    def drop_orphans(self, batch: list[RequestRecord], deployments: Collection[int]) -> int:
        """Remove from ``batch`` the records of deployments not among those that exist.

        Returns:
            How many were removed (they count in ``dropped``).
        """
        kept = [r for r in batch if r.deployment_id in deployments]
        orphans = len(batch) - len(kept)
        self.dropped += orphans
        batch[:] = kept
        return orphans

    async def write(self, conn: AsyncConnection, batch: list[RequestRecord]) -> None:
        """Insert ``batch`` in ``conn``'s transaction."""
        # In slices: each statement's rows are prepared on the event loop, so a big batch
        # would hold the gateway's requests up for its whole length.
        for start in range(0, len(batch), RAW_ROWS_PER_STATEMENT):
            rows = [log_row(r) for r in batch[start : start + RAW_ROWS_PER_STATEMENT]]
            await conn.execute(insert(_LOG), rows)

    async def purge(self, conn: AsyncConnection, now: datetime | None = None) -> int:
        """Delete records older than the retention period.

        Returns:
            How many records were deleted.
        """
        cutoff = (now or datetime.now(UTC)) - self.retention
        result = await conn.execute(delete(_LOG).where(_LOG.c.at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)


def log_row(r: RequestRecord) -> dict[str, Any]:
    """The ``request_log`` row of a record (long names cut to their columns)."""
    code = r.error if not isinstance(r.error, bool) else None
    return {
        "deployment_id": r.deployment_id,
        "instance_id": r.instance_id[:64] if r.instance_id is not None else None,
        "user_id": r.user_id,
        "method": r.method[:64],
        "tool_name": r.tool_name[:500] if r.tool_name is not None else None,
        "status": r.status,
        "error": is_error(r),
        "error_code": code,
        "latency_ms": r.latency_ms,
        "bytes_in": r.bytes_in,
        "bytes_out": r.bytes_out,
        "at": datetime.fromtimestamp(r.at, UTC),
    }

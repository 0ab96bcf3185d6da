"""The usage ledger: billable requests per deployment, user and UTC day (and per hour and
tool within the day), added to their rows."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple
from typing import cast as typed

from sqlalchemy import Float, Table, case, cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from mcp_console.backend.db.models import ServiceUsage
from mcp_console.backend.db.models_billing import ALL_TOOLS, UsageHour
from mcp_console.backend.gateway.records import TOOLS_CALL, RequestRecord

PriceLookup = Callable[[int], Decimal]
"""The price of one request to a deployment; called on the request path, so a dict lookup."""

# The calls a user is billed for; the protocol around them (initialize, discovery, lists,
# notifications, streams, session ends) goes to the request log and the live figures only.
BILLABLE_METHODS = frozenset({"tools/call", "resources/read", "prompts/get"})
BYTES_PER_MB = 1_000_000
SECONDS_PER_DAY = 86400
SECONDS_PER_HOUR = 3600
# The key of calls made without one (the hourly rows' key_id then).
NO_KEY = 0
# The longest tool name kept per hour (a longer one is cut: its calls still count).
TOOL_NAME_MAX = 200
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_USAGE = typed(Table, ServiceUsage.__table__)
_HOURS = typed(Table, UsageHour.__table__)
_ZERO = Decimal(0)


def no_price(deployment_id: int) -> Decimal:
    """The default price lookup: every request is free."""
    return _ZERO


class UsageKey(NamedTuple):
    """The row a request counts in: one per deployment, user and UTC day."""

    deployment_id: int
    user_id: int
    day: int  # days since 1970-01-01 (UTC)

    @property
    def utc_date(self) -> date:
        """The day as a date."""
        return date.fromordinal(_EPOCH_ORDINAL + self.day)


class CallKey(NamedTuple):
    """The calls of one hour, method, tool and API key within a day's usage."""

    hour: int  # hours since 1970-01-01T00:00Z
    method: str
    tool: str  # a tools/call's tool; ALL_TOOLS for other methods
    key: int = NO_KEY  # the API key the calls were made with


def billed(record: RequestRecord, methods: Collection[str] = BILLABLE_METHODS) -> bool:
    """Whether a finished request is billable usage: a known caller, a billable method and
    an instance that served it (a call the gateway refused itself is never billed)."""
    return (
        record.user_id is not None and record.instance_id is not None and record.method in methods
    )


@dataclass(slots=True)
class DailyUsage:
    """What one user did with one deployment on one UTC day, not yet written.

    Attributes:
        requests: Billable requests, failed ones included.
        errors: How many of those failed (they cost nothing).
        latency_us: Their latencies added up, in microseconds (exact across batches).
        transfer_bytes: Request and response bodies added up.
        cost: The price of every successful request added up.
        calls: The same requests by hour, method and tool: ``[requests, errors]`` each
            (what billing prices each call with).
    """

    requests: int = 0
    errors: int = 0
    latency_us: int = 0
    transfer_bytes: int = 0
    cost: Decimal = _ZERO
    calls: dict[CallKey, list[int]] = field(default_factory=dict)

    def merge(self, other: DailyUsage) -> None:
        """Add ``other`` to this."""
        self.requests += other.requests
        self.errors += other.errors
        self.latency_us += other.latency_us
        self.transfer_bytes += other.transfer_bytes
        self.cost += other.cost
        for key, (requests, errors) in other.calls.items():
            counts = self.calls.setdefault(key, [0, 0])
            counts[0] += requests
            counts[1] += errors


UsageBatch = dict[UsageKey, DailyUsage]
"""Usage taken from the ledger to be written together."""


class UsageLedger:
    """Counts billable requests in memory until they are taken to be written.

    A request counts when it is ``billed`` (a caller, a billable method, an instance that
    served it); a failed one counts among ``errors`` and is not charged, so cost is the
    price per request times the successful requests. ``take()`` hands the pending usage
    over, ``restore()`` takes back what could not be written, and ``write()`` adds a batch
    to the ``service_usage`` rows.

    Args:
        prices: The price of one request per deployment (free by default).
        billable_methods: The JSON-RPC methods that count.
    """

    def __init__(
        self,
        prices: PriceLookup = no_price,
        *,
        billable_methods: Collection[str] = BILLABLE_METHODS,
    ) -> None:
        self._prices = prices
        self._billable = frozenset(billable_methods)
        self._pending: UsageBatch = {}
        self.dropped = 0
        """Requests discarded because their deployment or user was deleted before writing."""

    def add(self, record: RequestRecord, error: bool) -> bool:
        """Count one finished request if it is billable (say whether): O(1), no I/O."""
        if not billed(record, self._billable):
            return False
        key = UsageKey(record.deployment_id, record.user_id or 0, int(record.at // SECONDS_PER_DAY))
        usage = self._pending.get(key)
        if usage is None:
            usage = self._pending[key] = DailyUsage()
        usage.requests += 1
        usage.latency_us += round(record.latency_ms * 1000)
        usage.transfer_bytes += record.bytes_in + record.bytes_out
        tool = record.tool_name if record.method == TOOLS_CALL and record.tool_name else ""
        call = CallKey(
            int(record.at // SECONDS_PER_HOUR),
            record.method,
            tool[:TOOL_NAME_MAX],
            record.key_id or NO_KEY,
        )
        counts = usage.calls.get(call)
        if counts is None:
            counts = usage.calls[call] = [0, 0]
        counts[0] += 1
        if error:
            usage.errors += 1
            counts[1] += 1
        else:
            usage.cost += self._prices(record.deployment_id)
        return True

    def pending_usage(self) -> Mapping[UsageKey, DailyUsage]:
        """What is counted and not yet written (a view: read it without awaiting)."""
        return self._pending

    @property
    def pending_requests(self) -> int:
        """Billable requests counted and not yet written."""
        return sum(u.requests for u in self._pending.values())

    def take(self) -> UsageBatch:
        """Everything pending, which is pending no more."""
        batch, self._pending = self._pending, {}
        return batch

    def restore(self, batch: UsageBatch) -> None:
        """Make a batch that could not be written pending again (merged with newer usage)."""
        for key, taken in batch.items():
            pending = self._pending.get(key)
            if pending is None:
                self._pending[key] = taken
            else:
                pending.merge(taken)

    def drop_orphans(
        self, batch: UsageBatch, deployments: Collection[int], users: Collection[int]
    ) -> int:
        """Remove from ``batch`` the rows of deployments or users not in those that exist.

        Returns:
            How many rows were removed (their requests count in ``dropped``).
        """
        gone = [k for k in batch if k.deployment_id not in deployments or k.user_id not in users]
        for key in gone:
            self.dropped += batch.pop(key).requests
        return len(gone)

    async def write(self, conn: AsyncConnection, batch: UsageBatch) -> None:
        """Add ``batch`` to its days' and hours' rows (created where missing), in ``conn``'s
        transaction."""
        if batch:
            await conn.execute(_upsert(conn.dialect.name), usage_rows(batch))
            await conn.execute(_upsert_hours(conn.dialect.name), hour_rows(batch))


def usage_rows(batch: Mapping[UsageKey, DailyUsage]) -> list[dict[str, Any]]:
    """``service_usage`` rows of ``batch``, in key order (so concurrent writers never deadlock)."""
    return [_row(key, batch[key]) for key in sorted(batch)]


def hour_rows(batch: Mapping[UsageKey, DailyUsage]) -> list[dict[str, Any]]:
    """``service_usage_hours`` rows of ``batch``, in key order (as ``usage_rows``)."""
    return [
        {
            "deployment_id": key.deployment_id,
            "user_id": key.user_id,
            "hour": datetime.fromtimestamp(call.hour * SECONDS_PER_HOUR, UTC),
            "method": call.method,
            "tool": call.tool or ALL_TOOLS,
            "key_id": call.key,
            "request_count": requests,
            "error_count": errors,
        }
        for key in sorted(batch)
        for call, (requests, errors) in sorted(batch[key].calls.items())
    ]


def _row(key: UsageKey, u: DailyUsage) -> dict[str, Any]:
    return {
        "deployment_id": key.deployment_id,
        "user_id": key.user_id,
        "date": key.utc_date,
        "request_count": u.requests,
        "error_count": u.errors,
        "response_time_total_us": u.latency_us,
        "response_time_avg": u.latency_us / u.requests / 1000 if u.requests else 0.0,
        "data_transfer_bytes": u.transfer_bytes,
        "data_transfer_mb": u.transfer_bytes / BYTES_PER_MB,
        "cost": u.cost,
    }


@functools.cache  # built once per dialect: building one costs more than executing it
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


@functools.cache
def _upsert_hours(dialect: str) -> Any:
    """INSERT … ON CONFLICT (deployment, user, hour, method, tool, key) DO UPDATE adding
    counts."""
    table = _HOURS
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    new, col = stmt.excluded, table.c
    return stmt.on_conflict_do_update(
        index_elements=[
            col.deployment_id,
            col.user_id,
            col.hour,
            col.method,
            col.tool,
            col.key_id,
        ],
        set_={
            "request_count": col.request_count + new.request_count,
            "error_count": col.error_count + new.error_count,
        },
    )

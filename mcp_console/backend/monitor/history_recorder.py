"""HistoryRecorder: every gateway request counted into 10-second buckets in memory."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mcp_console.backend.db.models_history import TRAFFIC_SUMS, Grain
from mcp_console.backend.gateway.records import TOOLS_CALL, RequestRecord
from mcp_console.backend.monitor.latency_histogram import bucket_of
from mcp_console.backend.monitor.request_outcome import ErrorKind, error_kind

# The finest tier: the width (seconds) of the buckets the recorder counts into.
RAW_TIER = 10
TOOL_LENGTH = 200  # as the column holds it

# Positions in a traffic row (the order of TRAFFIC_SUMS).
_REQUESTS, _LATENCY, _BYTES_IN, _BYTES_OUT, _HISTOGRAM = 0, 4, 5, 6, 7
_ERROR_INDEX = {ErrorKind.RPC: 1, ErrorKind.HTTP: 2, ErrorKind.REFUSED: 3}

TrafficKey = tuple[int, int, Grain, str, str, int]
"""(deployment id, bucket start, grain, instance, tool, user id): '' and 0 where there is
none, or where the grain does not split by it."""
GaugeKey = tuple[int, int, str]
"""(deployment id, bucket start, instance)."""


def bucket_start(at: float, width: int = RAW_TIER) -> int:
    """The start (epoch seconds) of the ``width``-second bucket holding ``at``."""
    return int(at // width) * width


@dataclass(slots=True)
class InstanceGauges:
    """What one instance held and used within one bucket (merged as the tiers merge them)."""

    in_flight_max: int = 0
    sessions_max: int = 0
    restarts: int = 0
    cpu_sum: float = 0.0
    cpu_n: int = 0
    cpu_max: float | None = None
    memory_sum: float = 0.0
    memory_n: int = 0
    memory_max: float | None = None

    def read(self, cpu_percent: float | None, memory_mb: float | None) -> None:
        """Add one reading of CPU and memory (``None``: the runtime could not tell)."""
        if cpu_percent is not None:
            self.cpu_sum += cpu_percent
            self.cpu_n += 1
            self.cpu_max = _larger(self.cpu_max, cpu_percent)
        if memory_mb is not None:
            self.memory_sum += memory_mb
            self.memory_n += 1
            self.memory_max = _larger(self.memory_max, memory_mb)

    def merge(self, other: InstanceGauges) -> None:
        """Take in ``other`` (of the same instance and bucket)."""
        self.in_flight_max = max(self.in_flight_max, other.in_flight_max)
        self.sessions_max = max(self.sessions_max, other.sessions_max)
        self.restarts += other.restarts
        self.cpu_sum += other.cpu_sum
        self.cpu_n += other.cpu_n
        self.cpu_max = _larger(self.cpu_max, other.cpu_max)
        self.memory_sum += other.memory_sum
        self.memory_n += other.memory_n
        self.memory_max = _larger(self.memory_max, other.memory_max)


def _larger(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


@dataclass
class HistoryBatch:
    """Counts taken from the recorder for one write: traffic rows and instance gauges."""

    traffic: dict[TrafficKey, list[int]] = field(default_factory=dict)
    gauges: dict[GaugeKey, InstanceGauges] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.traffic or self.gauges)

    def oldest(self) -> int | None:
        """The start of the oldest bucket held, or ``None`` when empty."""
        starts = [k[1] for k in self.traffic] + [k[1] for k in self.gauges]
        return min(starts, default=None)


class HistoryRecorder:
    """The gateway tap of the metrics history (a ``Meter``): counts, never writes.

    Each request is counted in the 10-second bucket in which it finished, under its
    deployment, instance, tool (``tools/call`` only) and user together, and in the sums of
    each of those alone and of the whole deployment (see ``Grain``): requests, errors by
    kind, latency (a sum and a histogram) and bytes. In-flight changes keep the highest
    count of each instance per bucket. O(1) per call (five rows), no I/O; ``take()`` hands
    the counts to a writer, which gives them back with ``restore()`` when its write fails.

    Args:
        clock: epoch seconds (for in-flight changes, which carry no time).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._batch = HistoryBatch()
        self._in_flight: dict[tuple[int, str], int] = {}

    # -- the request path ------------------------------------------------------------------

    def record(self, record: RequestRecord) -> None:
        """Count one finished request."""
        bucket = bucket_start(record.at + record.latency_ms / 1000)
        tool = ((record.tool_name or "") if record.method == TOOLS_CALL else "")[:TOOL_LENGTH]
        deployment, instance, user = (
            record.deployment_id,
            record.instance_id or "",
            record.user_id or 0,
        )
        kind = error_kind(record)
        error_at = _ERROR_INDEX[kind] if kind is not None else 0
        latency_us = round(record.latency_ms * 1000)
        histogram_at = _HISTOGRAM + bucket_of(record.latency_ms)
        traffic = self._batch.traffic
        for key in (
            (deployment, bucket, Grain.EACH, instance, tool, user),
            (deployment, bucket, Grain.TOTAL, "", "", 0),
            (deployment, bucket, Grain.INSTANCE, instance, "", 0),
            (deployment, bucket, Grain.TOOL, "", tool, 0),
            (deployment, bucket, Grain.USER, "", "", user),
        ):
            row = traffic.get(key)
            if row is None:
                row = traffic[key] = [0] * len(TRAFFIC_SUMS)
            row[_REQUESTS] += 1
            if error_at:
                row[error_at] += 1
            row[_LATENCY] += latency_us
            row[_BYTES_IN] += record.bytes_in
            row[_BYTES_OUT] += record.bytes_out
            row[histogram_at] += 1

    def inflight_changed(self, deployment_id: int, instance_id: str, delta: int) -> None:
        """Follow an instance's requests in flight; keep the bucket's highest count."""
        key = (deployment_id, instance_id)
        count = self._in_flight.get(key, 0) + delta
        if count > 0:
            self._in_flight[key] = count
            self._gauges(deployment_id, bucket_start(self._clock()), instance_id, count)
        else:
            self._in_flight.pop(key, None)

    # -- for the writer ------------------------------------------------------------------------

    def in_flight(self) -> dict[tuple[int, str], int]:
        """Requests in flight now, per (deployment id, instance)."""
        return dict(self._in_flight)

    def add_gauges(self, gauges: dict[GaugeKey, InstanceGauges]) -> None:
        """Merge sampled gauges into what is pending."""
        pending = self._batch.gauges
        for key, value in gauges.items():
            if key in pending:
                pending[key].merge(value)
            else:
                pending[key] = value

    def take(self) -> HistoryBatch:
        """Everything counted so far; the recorder starts again from nothing.

        Requests now in flight count in the current bucket's highest figure, so a bucket in
        which none started or ended still shows them.
        """
        now = bucket_start(self._clock())
        for (deployment_id, instance), count in self._in_flight.items():
            self._gauges(deployment_id, now, instance, count)
        batch, self._batch = self._batch, HistoryBatch()
        return batch

    def restore(self, batch: HistoryBatch) -> None:
        """Put back a batch that could not be written (merged with what came since)."""
        traffic = self._batch.traffic
        for key, row in batch.traffic.items():
            mine = traffic.get(key)
            if mine is None:
                traffic[key] = row
            else:
                for i, value in enumerate(row):
                    mine[i] += value
        self.add_gauges(batch.gauges)

    def oldest_pending(self) -> int | None:
        """The start of the oldest bucket not yet written, or ``None``."""
        return self._batch.oldest()

    def _gauges(self, deployment_id: int, bucket: int, instance: str, in_flight: int) -> None:
        key = (deployment_id, bucket, instance)
        gauges = self._batch.gauges.get(key)
        if gauges is None:
            gauges = self._batch.gauges[key] = InstanceGauges()
        if in_flight > gauges.in_flight_max:
            gauges.in_flight_max = in_flight

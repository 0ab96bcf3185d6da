"""DTOs of a deployment seen live and over time: traffic, resource use, sessions, inspection."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from mcp_console.schemas.base import Dto
from mcp_console.schemas.errors import Invalid


class TrafficPoint(Dto):
    """One second of a deployment's gateway traffic (all instances together)."""

    at: datetime
    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None


class InstanceUsage(Dto):
    """One instance now: its share of the traffic and what it costs the machine."""

    instance: str
    in_flight: int
    requests_per_s: float
    error_rate: float
    # None where the runtime cannot tell (e.g. the engine's statistics are not ready yet).
    # CPU is a percentage of one core (200 = two cores busy), as `docker stats` shows it;
    # memory is resident MiB.
    cpu_percent: float | None
    memory_mb: float | None


class DeploymentMetrics(Dto):
    """A deployment's live figures: the last minute second by second, and each instance."""

    deployment: str
    window_s: int
    requests_per_s: float
    error_rate: float = Field(description="Errors per request over the window, 0..1.")
    p50_ms: float | None
    p95_ms: float | None
    in_flight: int
    points: list[TrafficPoint]
    instances: list[InstanceUsage]


class SessionState(StrEnum):
    """Where a gateway session is in its life."""

    ACTIVE = "active"
    DRAINING = "draining"


class SessionView(Dto):
    """One client session the gateway holds for a deployment."""

    id: str
    deployment: str
    instance: str | None
    state: SessionState
    protocol: str | None
    client: str | None = Field(description="The client's name and version, if it said.")
    user: str | None
    created_at: datetime
    last_seen: datetime
    requests: int
    in_flight: int


class RpcDirection(StrEnum):
    """Which way a JSON-RPC message went, seen from the inspector."""

    SENT = "sent"
    RECEIVED = "received"


class RpcMessage(Dto):
    """One JSON-RPC message of an inspector exchange, as it went over the wire."""

    direction: RpcDirection
    at: datetime
    payload: dict[str, Any]


class ToolInfo(Dto):
    """A tool a server offers."""

    name: str
    title: str | None = None
    description: str | None = None
    input_schema: dict[str, Any] = Field(default_factory=dict)


class ResourceInfo(Dto):
    """A resource a server offers."""

    uri: str
    name: str
    description: str | None = None
    mime_type: str | None = None


class PromptInfo(Dto):
    """A prompt a server offers, with its arguments' names."""

    name: str
    description: str | None = None
    arguments: list[str] = Field(default_factory=list)


class InspectReport(Dto):
    """What a deployment's server says about itself, asked through the gateway."""

    deployment: str
    server_name: str | None
    server_version: str | None
    protocol_version: str | None
    tools: list[ToolInfo]
    resources: list[ResourceInfo]
    prompts: list[PromptInfo]
    exchange: list[RpcMessage]


class ToolCallOutcome(Dto):
    """The answer to one tool call: its result, whether the tool failed, the raw exchange."""

    deployment: str
    tool: str
    is_error: bool
    content: list[dict[str, Any]]
    structured: dict[str, Any] | None
    elapsed_ms: float
    exchange: list[RpcMessage]


# -- metrics history -------------------------------------------------------------------------


class HistoryRange(StrEnum):
    """How far back a history chart reaches."""

    MINUTES_15 = "15m"
    HOUR = "1h"
    DAY = "24h"
    WEEK = "7d"
    MONTH = "30d"


# Per range: its span and the step between two points, in seconds (90 to 240 points).
HISTORY_STEPS: dict[HistoryRange, tuple[int, int]] = {
    HistoryRange.MINUTES_15: (15 * 60, 10),
    HistoryRange.HOUR: (3600, 30),
    HistoryRange.DAY: (86400, 600),
    HistoryRange.WEEK: (7 * 86400, 3600),
    HistoryRange.MONTH: (30 * 86400, 3 * 3600),
}


class Breakdown(StrEnum):
    """What a history is split by, beside its total."""

    INSTANCE = "instance"
    TOOL = "tool"
    USER = "user"


def history_range(value: str) -> HistoryRange:
    """The range ``value`` names.

    Raises:
        Invalid: it names none (field ``range``).
    """
    try:
        return HistoryRange(value)
    except ValueError:
        known = ", ".join(r.value for r in HistoryRange)
        raise Invalid(f"unknown range {value!r}: use one of {known}", field="range") from None


def breakdown_of(value: str | None) -> Breakdown | None:
    """The breakdown ``value`` names (``None``: none).

    Raises:
        Invalid: it names none (field ``by``).
    """
    if value is None:
        return None
    try:
        return Breakdown(value)
    except ValueError:
        known = ", ".join(b.value for b in Breakdown)
        raise Invalid(f"unknown breakdown {value!r}: use one of {known}", field="by") from None


class HistoryPoint(Dto):
    """One step of a history: the requests that ended in it, and what instances held.

    The instance figures are ``None`` in a series by tool or user, and where no instance
    was read: CPU is % of one core and memory MiB, each the mean of its readings (summed
    over instances in a total); in flight and sessions the highest seen.
    """

    at: datetime
    requests: int
    errors: int
    errors_rpc: int = Field(description="JSON-RPC error replies.")
    errors_http: int = Field(description="HTTP or transport failures.")
    errors_refused: int = Field(description="Requests the gateway refused itself.")
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    bytes_in: int
    bytes_out: int
    in_flight_max: int | None = None
    sessions_max: int | None = None
    restarts: int | None = None
    cpu_percent: float | None = None
    memory_mb: float | None = None


class HistorySeries(Dto):
    """A history over a range: the total or one instance, tool or user of a breakdown."""

    key: str
    requests: int
    errors: int
    p95_ms: float | None
    points: list[HistoryPoint]


class ToolFigures(Dto):
    """One tool's calls over a range."""

    tool: str
    calls: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class MetricsHistory(Dto):
    """A deployment's kept metrics over a range: the total, a breakdown and each tool."""

    deployment: str
    period: HistoryRange
    step_s: int
    start: datetime
    end: datetime
    by: Breakdown | None
    total: HistorySeries
    breakdown: list[HistorySeries]
    tools: list[ToolFigures]

"""DTOs of a running deployment seen live: traffic figures, resource use, sessions, inspection."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from mcp_console.schemas.base import Dto


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

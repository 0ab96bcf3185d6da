"""Value types and narrow interfaces shared by two backend layers; each consumer owns its own.

The deployment controller and the gateway never import each other: what one needs of the
other is written here, and the bridge (or the runtime) hands over an object that fits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from mcp_console.backend.stdio.channel import LineHook, StdioChannel


@dataclass(frozen=True, slots=True)
class LoadSample:
    """The load on a whole deployment at ``at`` (seconds on the caller's clock).

    ``inflight`` and ``rps`` are totals over its instances, not per instance.
    """

    at: float
    inflight: float
    rps: float
    healthy_instances: int


class LoadSource(Protocol):
    """Where the autoscaler reads the current load of a deployment (the gateway's figures)."""

    def sample(self, deployment_id: int) -> LoadSample | None:
        """The latest load, or ``None`` when nothing is known."""
        ...


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One health probe: whether MCP answered, and what it said or why not."""

    ok: bool
    error: str | None = None
    protocol: str | None = None
    tools: int | None = None
    seconds: float = 0.0


# (driver name, instance ref) -> the instance's stdio channel, held exclusively for the block.
StdioLease = Callable[[str, str], AbstractAsyncContextManager[StdioChannel]]


class RouteSink(Protocol):
    """What the controller tells the gateway's side about instances (the route feed)."""

    async def sync(self, deployment_id: int) -> None:
        """Make one deployment's route match the database."""
        ...

    async def sync_all(self) -> None:
        """Make every route match the database."""
        ...

    def holds(self, ref: str) -> bool:
        """Whether the gateway owns the stdio channel of instance ``ref``."""
        ...

    async def probe(self, ref: str, timeout: float) -> ProbeResult:  # noqa: ASYNC109
        """Probe an instance whose channel the gateway owns, over its connection."""
        ...


class SessionInstanceRegistry(Protocol):
    """The instances started for single gateway sessions: never replicas of the controller."""

    def holds(self, instance_id: str) -> bool:
        """Whether ``instance_id`` is a live session's own instance."""
        ...

    def died(self, ref: str) -> bool:
        """Handle the exit of ``ref`` if it is a session's instance; returns whether it was."""
        ...


@dataclass(frozen=True, slots=True)
class GatewayLink:
    """What a serving gateway gives the controller: routes to feed, session instances to
    leave alone, and the load the autoscaler reads."""

    routes: RouteSink
    session_instances: SessionInstanceRegistry
    load: LoadSource


class LogSink(Protocol):
    """Where the drivers hand every line an instance writes (monitoring's log collector).

    Called on the event loop as each line arrives: it must not block, do I/O or await.
    """

    def write(self, deployment_uid: str, instance: str, stream: str, text: str) -> None:
        """Take one line of ``stream`` (``stdout``, ``stderr`` or ``console``)."""
        ...


def line_hook(sink: LogSink | None, deployment_uid: str, instance: str) -> LineHook | None:
    """The hook a driver gives an instance's line buffer: its lines go to ``sink``."""
    if sink is None:
        return None
    return functools.partial(sink.write, deployment_uid, instance)

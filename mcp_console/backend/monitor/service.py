"""MonitorService: a deployment's live figures, its gateway sessions, and the inspector."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import User
from mcp_console.backend.deploy.deployment_record import DeploymentState
from mcp_console.backend.deploy.driver_registry import Drivers
from mcp_console.backend.deploy.lookup import address, find
from mcp_console.backend.monitor.usage import ResourceSampler
from mcp_console.backend.security.internal_keys import InternalKeys
from mcp_console.schemas.deploy import DeploymentView, InstanceStatus
from mcp_console.schemas.errors import Forbidden, NotFound, Unavailable
from mcp_console.schemas.monitor import (
    DeploymentMetrics,
    InspectReport,
    InstanceUsage,
    SessionState,
    SessionView,
    ToolCallOutcome,
    TrafficPoint,
)
from mcp_console.schemas.users import Principal

if TYPE_CHECKING:
    from mcp_console.backend.gateway.core import Gateway
    from mcp_console.backend.gateway.server import GatewayServer
    from mcp_console.backend.gateway.sessions import SessionInfo
    from mcp_console.backend.gateway.stats import LiveStats

V = TypeVar("V", bound=DeploymentView)

# The span of the live figures: a minute, second by second.
LIVE_HISTORY_S = 60
# Instances that have (or are about to have) a container or process to measure.
_MEASURED = frozenset({InstanceStatus.STARTING, InstanceStatus.RUNNING, InstanceStatus.DRAINING})


class MonitorService:
    """Reads what the running gateway knows about a deployment and acts on its sessions.

    Users see only their own deployments (an admin everyone's, as ``owner/name``). Where
    no gateway serves (a short-lived backend), figures are empty and sessions none; the
    inspector then cannot connect.

    Args:
        sessions: the database.
        drivers: the backend's drivers (for CPU and memory of instances).
        gateway: the gateway server while one serves, else ``None``.
        live: the gateway's live figures while it serves, else ``None``.
        keys: short-lived keys the gateway accepts, for the inspector's own session.
        inspect_timeout: seconds the inspector waits for each answer while listing.
        call_timeout: seconds it waits for a tool call's answer (with the listing before it,
            within the API clients' 60 s).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        drivers: Drivers,
        gateway: Callable[[], GatewayServer | None],
        live: Callable[[], LiveStats | None],
        keys: InternalKeys,
        *,
        inspect_timeout: float = 15.0,
        call_timeout: float = 40.0,
    ) -> None:
        self._sessions = sessions
        self._gateway = gateway
        self._live = live
        self._keys = keys
        self._sampler = ResourceSampler(drivers)
        self.inspect_timeout = inspect_timeout
        self.call_timeout = call_timeout

    # -- figures -------------------------------------------------------------------------------

    async def deployment_metrics(self, actor: Principal, name: str) -> DeploymentMetrics:
        """The last minute of a deployment's gateway traffic and each running instance now.

        Returns:
            Per-second requests, errors and latency percentiles over the window, its totals,
            what is in flight, and per instance its share of the traffic, CPU % (of one
            core) and resident memory. Empty figures where no gateway serves.

        Raises:
            NotFound: the actor has no deployment of that name.
        """
        async with self._sessions() as session:
            state = await find(session, actor, name)
        label = address(actor, state)
        stats = self._live()
        if stats is None or self._gateway() is None:
            return DeploymentMetrics(
                deployment=label,
                window_s=LIVE_HISTORY_S,
                requests_per_s=0.0,
                error_rate=0.0,
                p50_ms=None,
                p95_ms=None,
                in_flight=0,
                points=[],
                instances=[],
            )
        window = stats.history_s
        figures = stats.deployment(state.id, window)
        # The stats count on a monotonic clock; a point's time is shown on the wall clock.
        offset = time.time() - stats.now()
        points = [
            TrafficPoint(
                at=datetime.fromtimestamp(s.second + offset, UTC),
                requests=s.requests,
                errors=s.errors,
                p50_ms=s.p50_ms,
                p95_ms=s.p95_ms,
            )
            for s in stats.seconds(state.id)
        ]
        return DeploymentMetrics(
            deployment=label,
            window_s=window,
            requests_per_s=figures.rps if figures else 0.0,
            error_rate=figures.error_rate if figures else 0.0,
            p50_ms=figures.p50_ms if figures else None,
            p95_ms=figures.p95_ms if figures else None,
            in_flight=figures.inflight if figures else 0,
            points=points,
            instances=await self._instances(state, stats, window),
        )

    async def _instances(
        self, state: DeploymentState, stats: LiveStats, window: int
    ) -> list[InstanceUsage]:
        measured = [
            (row, (row.driver, row.container_id))
            for row in state.instances
            if row.status in _MEASURED and row.driver and row.container_id
        ]
        usage = await self._sampler.usage([target for _, target in measured])
        traffic = stats.instances(state.id, window)
        out = []
        for row, target in measured:
            figures = traffic.get(row.name)
            used = usage[target]
            out.append(
                InstanceUsage(
                    instance=row.name,
                    in_flight=figures.inflight if figures else 0,
                    requests_per_s=figures.rps if figures else 0.0,
                    error_rate=figures.error_rate if figures else 0.0,
                    cpu_percent=used.cpu_percent,
                    memory_mb=used.memory_mb,
                )
            )
        return out

    def live_view(self, view: V) -> V:
        """``view`` with the last minute's requests/s and error rate where a gateway serves
        (no database access: cheap for every row of a list)."""
        stats = self._live()
        if stats is None:
            return view
        figures = stats.rates(view.id, stats.history_s)
        return view.model_copy(
            update={
                "requests_per_s": figures.rps if figures else 0.0,
                "error_rate": figures.error_rate if figures else 0.0,
            }
        )

    def live_views(self, views: Sequence[V]) -> list[V]:
        """Each of ``views`` with its live figures (see ``live_view``)."""
        return [self.live_view(view) for view in views]

    # -- sessions ------------------------------------------------------------------------------

    async def list_sessions(self, actor: Principal, name: str) -> list[SessionView]:
        """The handshake-era client sessions the gateway holds for a deployment, newest first.

        Raises:
            NotFound: the actor has no deployment of that name.
        """
        async with self._sessions() as session:
            state = await find(session, actor, name)
            server = self._gateway()
            infos = server.gateway.list_sessions(state.id) if server is not None else []
            users = await _user_names(session, {i.user_id for i in infos})
        label = address(actor, state)
        return [_session_view(info, label, users) for info in reversed(infos)]

    async def drain_session(self, actor: Principal, name: str, session_id: str) -> SessionView:
        """Take no new work in a session once it is idle, then end it.

        Returns:
            The session, now draining.

        Raises:
            NotFound: no such deployment, or it has no session of that id.
        """
        state, gateway, info = await self._session(actor, name, session_id)
        await gateway.drain_session(info.id)
        now = next((i for i in gateway.list_sessions(state.id) if i.id == info.id), info)
        async with self._sessions() as session:
            users = await _user_names(session, {now.user_id})
        view = _session_view(now, address(actor, state), users)
        return view.model_copy(update={"state": SessionState.DRAINING})

    async def kill_session(self, actor: Principal, name: str, session_id: str) -> None:
        """End a session now: its requests in flight are cancelled, its client gets 404.

        Raises:
            NotFound: no such deployment, or it has no session of that id.
        """
        _, gateway, info = await self._session(actor, name, session_id)
        await gateway.kill_session(info.id)

    async def _session(
        self, actor: Principal, name: str, session_id: str
    ) -> tuple[DeploymentState, Gateway, SessionInfo]:
        async with self._sessions() as session:
            state = await find(session, actor, name)
        server = self._gateway()
        if server is not None:
            for info in server.gateway.list_sessions(state.id):
                if info.id == session_id:
                    return state, server.gateway, info
        raise NotFound(f"{state.name} has no session {session_id!r}", field="session")

    # -- inspection ----------------------------------------------------------------------------

    async def _endpoint(self, actor: Principal, name: str) -> tuple[str, str, Gateway, bool]:
        """The deployment's label, endpoint URL, gateway, and whether it needs the handshake.

        Raises:
            NotFound: the actor has no deployment of that name.
            Forbidden: the gateway would refuse the actor (an admin looking at someone
                else's deployment that is not shared with them).
            Unavailable: no gateway serves, or nothing healthy would answer.
        """
        async with self._sessions() as session:
            state = await find(session, actor, name)
        label = address(actor, state)
        server = self._gateway()
        if server is None:
            raise Unavailable(
                f"no gateway serves {label} here: start the daemon "
                "('mcp-console daemon start') or use the console, then try again"
            )
        route = server.gateway.routes.get(state.id)
        if route is None:
            raise Unavailable(f"{label} is not served by the gateway (is it running?)")
        if not route.may_call(actor.user_id):
            raise Forbidden(
                f"{label} is not shared with {actor.name}; only those it is shared with "
                "may call its endpoint"
            )
        per_session = route.session_mode == "per-session"
        if not per_session and not route.candidates:
            raise Unavailable(f"{label} has no healthy instance to answer right now")
        return label, f"{server.url}{route.path}", server.gateway, per_session

    @asynccontextmanager
    async def _as_caller(
        self, actor: Principal, name: str
    ) -> AsyncIterator[tuple[str, str, str, bool]]:
        """The deployment's label, endpoint URL, a short-lived key of ``actor``'s, and whether
        it needs the handshake; the key is forgotten everywhere afterwards (see _endpoint)."""
        label, url, gateway, legacy = await self._endpoint(actor, name)
        async with self._keys.issued(actor) as key:
            try:
                yield label, url, key, legacy
            finally:
                gateway.auth.forget(key)

    async def inspect(self, actor: Principal, name: str) -> InspectReport:
        """Connect through the deployment's endpoint as ``actor``; list what it offers.

        Returns:
            Server name and version, protocol, tools, resources and prompts, and every
            JSON-RPC message of the session.

        Raises:
            NotFound: the actor has no deployment of that name.
            Forbidden: the deployment's endpoint would refuse the actor.
            Unavailable: nothing healthy answers, or the server did not answer in time.
        """
        # The MCP SDK loads with the first inspection, not with the backend.
        from mcp_console.backend.monitor.inspect import run_inspect

        async with self._as_caller(actor, name) as (label, url, key, legacy):
            return await run_inspect(
                label, url, key, legacy=legacy, read_timeout=self.inspect_timeout
            )

    async def call_tool(
        self, actor: Principal, name: str, tool: str, arguments: dict[str, Any]
    ) -> ToolCallOutcome:
        """Call one tool through the deployment's endpoint as ``actor``.

        ``arguments`` are checked against the tool's input schema first. A tool that fails
        answers with ``is_error`` set.

        Returns:
            The result, how long the call took, and the session's JSON-RPC messages.

        Raises:
            NotFound: the actor has no deployment of that name.
            Invalid: no such tool (``field="tool"``), or an argument does not fit its
                schema (``field`` names the argument).
            Forbidden: the deployment's endpoint would refuse the actor.
            Unavailable: nothing healthy answers, or the server did not answer in time.
        """
        from mcp_console.backend.monitor.inspect import run_call

        async with self._as_caller(actor, name) as (label, url, key, legacy):
            return await run_call(
                label,
                url,
                key,
                tool,
                arguments,
                legacy=legacy,
                read_timeout=self.inspect_timeout,
                call_timeout=self.call_timeout,
            )


async def _user_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {row.id: row.name for row in rows}


def _client_label(client_info: Any) -> str | None:
    if not isinstance(client_info, dict) or not client_info.get("name"):
        return None
    version = client_info.get("version")
    return f"{client_info['name']} {version}" if version else str(client_info["name"])


def _session_view(info: SessionInfo, deployment: str, users: dict[int, str]) -> SessionView:
    return SessionView(
        id=info.id,
        deployment=deployment,
        instance=info.instance_id or None,
        state=SessionState.DRAINING if info.state == "draining" else SessionState.ACTIVE,
        protocol=info.protocol_version or None,
        client=_client_label(info.client_info),
        user=users.get(info.user_id),
        created_at=info.created_at,
        last_seen=info.last_activity,
        requests=info.request_count,
        in_flight=info.inflight,
    )

"""Keeps the gateway's routing table in step with the deployments and their instances."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.bridge.session_instances import SessionInstances
from mcp_console.backend.db.drift_holds import blocked_tools
from mcp_console.backend.db.models import (
    DeploymentShare,
    McpService,
    ServiceDeployment,
    ServiceInstance,
)
from mcp_console.backend.deploy.deployment_record import (
    DeploymentState,
    load_state,
    load_states,
)
from mcp_console.backend.deploy.remote import REMOTE, Endpoint
from mcp_console.backend.gateway.pricing import PriceBook
from mcp_console.backend.gateway.routing import DeploymentRoute, RoutingTable, UpstreamInstance
from mcp_console.backend.ports import ProbeResult, StdioLease
from mcp_console.backend.stdio.channel import StdioChannel
from mcp_console.schemas.deploy import DesiredState, HealthState, InstanceStatus
from mcp_console.schemas.errors import ConsoleError

logger = logging.getLogger(__name__)

# Probe a routed stdio instance through the gateway's own connection to it.
MuxProbe = Callable[[UpstreamInstance, float], Awaitable[ProbeResult]]
# The URL and headers a remote instance is attached to (``None`` once detached).
RemoteLookup = Callable[[str], Endpoint | None]

_ROUTED = frozenset({InstanceStatus.STARTING, InstanceStatus.RUNNING, InstanceStatus.DRAINING})


@dataclass(frozen=True, slots=True)
class _Surroundings:
    """What a route needs besides the deployment's record: the users and teams it is shared
    with, the prices of its service, and the tools held back from its clients."""

    users: dict[int, frozenset[int]]
    teams: dict[int, frozenset[int]]
    prices: dict[int, tuple[str, Decimal]]
    blocked: dict[int, frozenset[str]]

    @classmethod
    async def load(cls, session: AsyncSession, states: list[DeploymentState]) -> _Surroundings:
        """Three statements, whatever the number of deployments."""
        if not states:
            return cls({}, {}, {}, {})
        ids = [state.id for state in states]
        users: dict[int, set[int]] = {}
        teams: dict[int, set[int]] = {}
        for deployment_id, user_id, team_id in await session.execute(
            select(
                DeploymentShare.deployment_id, DeploymentShare.user_id, DeploymentShare.team_id
            ).where(DeploymentShare.deployment_id.in_(ids))
        ):
            if user_id is not None:
                users.setdefault(deployment_id, set()).add(user_id)
            if team_id is not None:
                teams.setdefault(deployment_id, set()).add(team_id)
        service_ids = {state.deployment.service_id for state in states}
        prices = {
            service_id: (model, price)
            for service_id, model, price in await session.execute(
                select(McpService.id, McpService.price_model, McpService.price_per_request).where(
                    McpService.id.in_(service_ids)
                )
            )
        }
        return cls(
            {k: frozenset(v) for k, v in users.items()},
            {k: frozenset(v) for k, v in teams.items()},
            prices,
            await blocked_tools(session, ids),
        )


@dataclass(slots=True)
class _Held:
    """A stdio channel the gateway owns, and the lease on it."""

    deployment_id: int
    name: str
    ref: str
    channel: StdioChannel
    stack: AsyncExitStack


class RouteFeed:
    """Reads a deployment from the database and makes its route say the same.

    The controller calls ``sync`` after each pass, on each health change and when an
    instance is removed; ``sync_all`` rebuilds everything (after a restart, on the tick).
    Each call reads the database afresh, so a missed call is healed by the next one.

    A stdio instance is routed once its first MCP probe passed; from then on the gateway
    is the only reader of its channel (this feed holds the controller's lease on it) and
    health checks go through the gateway's connection (``probe``).

    Args:
        sessions: the database.
        table: the gateway's routing table.
        base_url: the gateway's URL; endpoints are ``{base_url}/mcp/{owner}/{name}``.
        stdio: the controller's exclusive lease on a stdio channel.
        mux_probe: an MCP probe over the gateway's connection to a stdio instance.
        session_instances: the instances of per-session deployments, removed when their
            deployment stops or goes.
        prices: the meter's request prices, set from each deployment's service.
        remote: where a remote deployment's instance is attached; its URL and headers
            (credentials) go to the gateway from memory, never from the database.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        table: RoutingTable,
        base_url: str,
        stdio: StdioLease,
        mux_probe: MuxProbe,
        session_instances: SessionInstances,
        prices: PriceBook,
        remote: RemoteLookup,
    ) -> None:
        self._sessions = sessions
        self.table = table
        self.base_url = base_url.rstrip("/")
        self._stdio = stdio
        self._mux_probe = mux_probe
        self._session_instances = session_instances
        self._prices = prices
        self._remote = remote
        self._locks: dict[int, asyncio.Lock] = {}
        # Bumped by each single sync, so a whole pass never overwrites a fresher one.
        self._generation: dict[int, int] = {}
        self._held: dict[int, dict[str, _Held]] = {}
        self._by_ref: dict[str, _Held] = {}

    def endpoint(self, owner: str, name: str) -> str:
        """The gateway URL of ``owner``'s deployment ``name``."""
        return f"{self.base_url}/mcp/{quote(owner, safe='')}/{quote(name, safe='')}"

    # -- health --------------------------------------------------------------------------------

    def healthy_instances(self, deployment_id: int) -> int:
        """How many instances of a deployment take new work now: its healthy replicas that
        are not draining, plus the session instances serving (the live figures' count)."""
        route = self.table.get(deployment_id)
        shared = len(route.candidates) if route is not None else 0
        return shared + self._session_instances.count(deployment_id)

    def holds(self, ref: str) -> bool:
        """Whether the gateway owns the stdio channel of ``ref``."""
        return ref in self._by_ref

    async def probe(self, ref: str, timeout: float) -> ProbeResult:  # noqa: ASYNC109
        """Probe a stdio instance the gateway owns, over the gateway's connection to it."""
        held = self._by_ref.get(ref)
        route = self.table.get(held.deployment_id) if held is not None else None
        # The table's own instance object: the gateway keeps its connection per instance.
        instance = route.instances.get(held.name) if route is not None and held else None
        if held is None or instance is None or instance.channel is not held.channel:
            return ProbeResult(ok=False, error="no longer routed")
        return await self._mux_probe(instance, timeout)

    # -- syncing -------------------------------------------------------------------------------

    async def sync_all(self) -> None:
        """Rebuild every route from the database (deployments gone are removed).

        The database is read once for all of them, so a pass costs the same few statements
        however many deployments there are; a deployment synced on its own meanwhile (from
        fresher rows) is left as that sync made it.
        """
        seen = dict(self._generation)
        async with self._sessions() as session:
            states = await load_states(session, with_secrets=False)
            around = await _Surroundings.load(session, states)
        by_id = {state.id: state for state in states}
        ids = set(by_id) | {route.deployment_id for route in self.table.routes()}
        for deployment_id in sorted(ids):
            lock = self._locks.setdefault(deployment_id, asyncio.Lock())
            async with lock:
                if self._generation.get(deployment_id) != seen.get(deployment_id):
                    continue
                await self._guarded(deployment_id, by_id.get(deployment_id), around)

    async def sync(self, deployment_id: int) -> None:
        """Make one deployment's route match the database (errors are logged, not raised)."""
        lock = self._locks.setdefault(deployment_id, asyncio.Lock())
        async with lock:
            self._generation[deployment_id] = self._generation.get(deployment_id, 0) + 1
            async with self._sessions() as session:
                state = await load_state(session, deployment_id)
                around = await _Surroundings.load(session, [state] if state else [])
            await self._guarded(deployment_id, state, around)

    async def close(self) -> None:
        """Give every stdio channel back (call after the gateway has stopped)."""
        for deployment_id in list(self._held):
            await self._release(deployment_id, set(self._held[deployment_id]))

    async def _guarded(
        self, deployment_id: int, state: DeploymentState | None, around: _Surroundings
    ) -> None:
        try:
            await self._apply(deployment_id, state, around)
        except ConsoleError as exc:
            logger.warning("routing deployment %s failed: %s", deployment_id, exc.message)

    async def _apply(
        self, deployment_id: int, state: DeploymentState | None, around: _Surroundings
    ) -> None:
        if state is None or state.deployment.desired_state == DesiredState.DELETED:
            self.table.remove_deployment(deployment_id)
            await self._release(deployment_id, set(self._held.get(deployment_id, {})))
            await self._session_instances.close_deployment(deployment_id)
            self._prices.forget(deployment_id)
            self._locks.pop(deployment_id, None)
            self._generation.pop(deployment_id, None)
            return
        price = around.prices.get(state.deployment.service_id)
        d = state.deployment
        if price is not None:
            self._prices.set(d.id, *price)
        endpoint = self.endpoint(state.owner, d.deployment_name)
        if d.endpoint_url != endpoint:
            async with self._sessions.begin() as session:
                await session.execute(
                    update(ServiceDeployment)
                    .where(ServiceDeployment.id == d.id)
                    .values(endpoint_url=endpoint)
                )
        route = self.table.upsert_deployment(
            DeploymentRoute(
                deployment_id=d.id,
                owner_id=d.user_id,
                owner_name=state.owner,
                name=d.deployment_name,
                session_mode="per-session" if d.session_mode == "per-session" else "shared",
                allowed_user_ids=around.users.get(d.id, frozenset()),
                allowed_team_ids=around.teams.get(d.id, frozenset()),
                blocked_tools=around.blocked.get(d.id, frozenset()),
            )
        )
        wanted: dict[str, UpstreamInstance] = {}
        # A stopped deployment keeps its endpoint (503: nothing serves) but no instances.
        rows = state.instances if d.desired_state == DesiredState.RUNNING else []
        for row in rows:
            instance = await self._instance(state, row)
            if instance is not None:
                wanted[instance.instance_id] = instance
        for instance_id in set(route.instances) - set(wanted):
            self.table.remove_instance(d.id, instance_id)
        await self._release(d.id, set(self._held.get(d.id, {})) - set(wanted))
        for instance in wanted.values():
            self.table.set_instance(d.id, instance)
        if d.desired_state != DesiredState.RUNNING:
            await self._session_instances.close_deployment(d.id)
        elif route.session_mode == "per-session":
            self._session_instances.keep_warm(d.id, d)

    async def _instance(
        self, state: DeploymentState, row: ServiceInstance
    ) -> UpstreamInstance | None:
        ref = row.container_id
        if not ref or not row.driver or row.status not in _ROUTED:
            return None
        healthy = row.health == HealthState.HEALTHY
        draining = row.status == InstanceStatus.DRAINING
        if row.driver == REMOTE:
            endpoint = self._remote(ref)
            if endpoint is None:
                return None
            return UpstreamInstance(
                row.name,
                "streamable-http",
                url=endpoint.url,
                remote=True,
                headers=endpoint.headers,
                healthy=healthy,
                draining=draining,
            )
        if row.health_check_url is not None:
            return UpstreamInstance(
                row.name,
                "streamable-http",
                url=row.health_check_url,
                healthy=healthy,
                draining=draining,
            )
        held = self._held.get(state.id, {}).get(row.name)
        if held is not None and held.ref != ref:
            await self._release(state.id, {row.name})  # restarted: a new process, a new channel
            held = None
        if held is None:
            # Only a server that answered MCP once is handed over; a draining one never is.
            if not healthy or draining:
                return None
            held = await self._take(state.id, row.name, row.driver, ref)
            if held is None:
                return None
        return UpstreamInstance(
            row.name, "stdio", channel=held.channel, healthy=healthy, draining=draining
        )

    async def _take(self, deployment_id: int, name: str, driver: str, ref: str) -> _Held | None:
        stack = AsyncExitStack()
        try:
            channel = await stack.enter_async_context(self._stdio(driver, ref))
        except ConsoleError as exc:
            await stack.aclose()
            logger.info("not routing %s: %s", ref, exc.message)
            return None
        held = _Held(deployment_id, name, ref, channel, stack)
        self._held.setdefault(deployment_id, {})[name] = held
        self._by_ref[ref] = held
        return held

    async def _release(self, deployment_id: int, names: set[str]) -> None:
        held = self._held.get(deployment_id, {})
        for name in names:
            entry = held.pop(name, None)
            if entry is None:
                continue
            if self._by_ref.get(entry.ref) is entry:
                del self._by_ref[entry.ref]
            with contextlib.suppress(Exception):
                await entry.stack.aclose()
        if not held:
            self._held.pop(deployment_id, None)

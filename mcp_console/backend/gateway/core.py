"""The Gateway: routing table, balancer, sessions, auth, upstream connections, and their life."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from mcp_console.backend.gateway import upstream_stdio
from mcp_console.backend.gateway.allow_list import AllowList
from mcp_console.backend.gateway.auth import Authenticate, KeyAuthenticator
from mcp_console.backend.gateway.balancer import LoadBalancer
from mcp_console.backend.gateway.exchange import Exchange, Settle
from mcp_console.backend.gateway.httpclient import UpstreamError
from mcp_console.backend.gateway.httppool import UpstreamPool
from mcp_console.backend.gateway.quota import NoQuota, QuotaCheck
from mcp_console.backend.gateway.records import Meter, NullMeter
from mcp_console.backend.gateway.routing import (
    DeploymentRoute,
    InstanceProvider,
    RoutingTable,
    UpstreamInstance,
)
from mcp_console.backend.gateway.sessions import (
    GatewaySession,
    Outbox,
    SessionInfo,
    SessionTable,
    mint_session_id,
)
from mcp_console.backend.gateway.stdio_mux import MuxClosed, StdioMux
from mcp_console.schemas.errors import Unavailable
from mcp_console.settings import LOOPBACK_HOSTS, LOOPBACK_ORIGINS

logger = logging.getLogger(__name__)

# Reads a client may safely repeat on another instance; never tools/call.
IDEMPOTENT_METHODS = frozenset(
    {
        "initialize",
        "ping",
        "server/discover",
        "tools/list",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "prompts/list",
        "prompts/get",
        "completion/complete",
    }
)


@dataclass(frozen=True)
class GatewayConfig:
    """How the gateway behaves; the defaults suit a console on one machine.

    Attributes:
        max_body_bytes: the largest request body accepted (413 beyond).
        allowed_hosts: the ``Host`` values the gateway answers for (``host``, ``host:port``
            or ``host:*`` for any port); any other gets 403, so a page on a rebinding DNS
            name cannot reach a gateway on loopback.
        allowed_origins: browser origins allowed to call (``scheme://host`` or
            ``scheme://host:*`` for any port); requests without ``Origin`` always pass.
        rate_limit: requests per second per API key (``None``: no limit).
        rate_burst: the burst a key may use at once (defaults to ``rate_limit``).
        auth_ttl: seconds a verified key is trusted without asking the database.
        session_idle_timeout: seconds after which an idle session is ended.
        max_sessions: live sessions at most (503 for new ones beyond).
        eject_seconds: how long an instance that refused a connection is passed over.
        connect_timeout: seconds to connect to an HTTP instance.
        stdio_start_timeout: seconds a stdio server has to answer its first request.
        reap_interval: seconds between sweeps for idle sessions.
        drain_grace: seconds a draining session must stay idle before it is ended (so a
            client finishing a sequence of calls is not cut off between two of them).
    """

    max_body_bytes: int = 4 * 1024 * 1024
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    allowed_origins: tuple[str, ...] = LOOPBACK_ORIGINS
    rate_limit: float | None = None
    rate_burst: float | None = None
    auth_ttl: float = 30.0
    session_idle_timeout: float = 1800.0
    max_sessions: int = 10_000
    eject_seconds: float = 2.0
    connect_timeout: float = 5.0
    stdio_start_timeout: float = 60.0
    reap_interval: float = 30.0
    drain_grace: float = 2.0


class Gateway:
    """Everything the gateway's request path needs, owned in one place.

    Create it on the running loop, ``start`` it, serve ``create_app(gateway)``, and
    ``aclose`` it at shutdown. The deployment controller feeds ``routes``; billing may
    swap in a ``QuotaCheck``, metering a ``Meter``, the controller an
    ``InstanceProvider`` for per-session deployments.

    Args:
        authenticate: API key to principal (``UserService.authenticate``).
        config: limits and timeouts.
        meter: receives a record per request.
        quota: reserves what each billable call may use before it goes upstream.
        instance_provider: starts instances for per-session deployments.
        settle: durable metering: each request's record before its reply ends, returning
            once its usage is written (``None``: the meter is told afterwards).
    """

    def __init__(
        self,
        authenticate: Authenticate,
        *,
        config: GatewayConfig | None = None,
        meter: Meter | None = None,
        quota: QuotaCheck | None = None,
        instance_provider: InstanceProvider | None = None,
        settle: Settle | None = None,
    ) -> None:
        self.config = config or GatewayConfig()
        self.settle = settle
        self.meter: Meter = meter or NullMeter()
        self.quota: QuotaCheck = quota or NoQuota()
        self.instance_provider = instance_provider
        self.routes = RoutingTable()
        self.routes.add_listener(self._instance_gone)
        self.balancer = LoadBalancer(
            self.routes, self.meter, eject_seconds=self.config.eject_seconds
        )
        self.sessions = SessionTable(on_drained=self._end_when_idle)
        self.auth = KeyAuthenticator(
            authenticate,
            ttl=self.config.auth_ttl,
            rate=self.config.rate_limit,
            burst=self.config.rate_burst,
        )
        self.pool = UpstreamPool(connect_timeout=self.config.connect_timeout)
        self.idempotent_methods = IDEMPOTENT_METHODS
        # Keys whose callers see a deployment's tools as its server lists them, held back
        # or not, and whose requests are not metered: the console's own check for changed
        # definitions.
        self.unfiltered_keys: set[str] = set()
        self._muxes: dict[UpstreamInstance, StdioMux] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reaper: asyncio.Task[None] | None = None
        # Asked on every request: both cache their verdicts.
        self.host_allowed = AllowList(self.config.allowed_hosts)
        self.origin_allowed = AllowList(self.config.allowed_origins)

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Begin sweeping idle sessions."""
        if self._reaper is None:
            self._reaper = asyncio.ensure_future(self._reap())

    async def aclose(self) -> None:
        """End every session, stop every stdio connection and close upstream connections."""
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
            self._reaper = None
        for session in self.sessions.all():
            self.end_session(session, upstream=True)
        for mux in list(self._muxes.values()):
            await mux.aclose()
        self._muxes.clear()
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.pool.aclose()

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(self.config.reap_interval)
            self.reap_idle()

    def reap_idle(self) -> int:
        """End the sessions idle for longer than the timeout; returns how many."""
        idle = self.sessions.idle(time.time() - self.config.session_idle_timeout)
        for session in idle:
            self.end_session(session, upstream=True)
        return len(idle)

    def background(self, coro: Awaitable[Any]) -> None:
        """Run ``coro`` to completion in the background (kept until done; errors logged)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("gateway background task failed: %r", task.exception())

    # --- sessions ---------------------------------------------------------------------

    def open_session(self, session: GatewaySession) -> None:
        """Start tracking a session (minting its id if it has none)."""
        if not session.id:
            session.id = mint_session_id()
        self.sessions.add(session)

    def at_capacity(self) -> bool:
        """Whether no new session may open."""
        return len(self.sessions) >= self.config.max_sessions

    def end_session(self, session: GatewaySession, *, upstream: bool) -> None:
        """End a session now: later requests get 404, requests in flight are cancelled.

        Args:
            session: the session.
            upstream: also tell an HTTP instance to end its side (DELETE); ``False`` when
                the instance is gone or has already ended it.
        """
        if session.state == "closed":
            return
        self.sessions.remove(session.id)  # absent when it never opened
        session.state = "closed"
        if session.outbox is not None:
            session.outbox.close()
        for request in list(session.requests):
            request.abort()
        instance = session.instance
        if upstream and instance.transport == "streamable-http" and session.upstream_id:
            self.background(self._delete_upstream(instance, session.upstream_id))
        if session.dedicated:
            mux = self._muxes.pop(instance, None)
            if mux is not None:
                self.background(mux.aclose())
            if self.instance_provider is not None:
                self.background(
                    self.instance_provider.release(session.deployment_id, session.id, instance)
                )

    async def _delete_upstream(self, instance: UpstreamInstance, upstream_id: bytes) -> None:
        data = (
            f"DELETE {instance.path} HTTP/1.1\r\nhost: ".encode()
            + instance.authority
            + b"\r\ncontent-length: 0\r\n"
            + instance.extra_head
            + b"mcp-session-id: "
            + upstream_id
            + b"\r\n\r\n"
        )
        with contextlib.suppress(UpstreamError):
            conn = await self.pool.request(instance.host, instance.port, data, tls=instance.tls)
            await conn.read_all(1 << 20)
            conn.release()

    async def kill_session(self, session_id: str) -> bool:
        """End a session at once (its client gets 404 and may initialize again).

        Returns:
            Whether the session existed.
        """
        session = self.sessions.get(session_id)
        if session is None:
            return False
        self.end_session(session, upstream=True)
        return True

    def end_sessions_of_keys(self, key_ids: set[int]) -> int:
        """End every session opened with one of these (revoked) keys; returns how many."""
        ended = [s for s in self.sessions.all() if s.key_id is not None and s.key_id in key_ids]
        for session in ended:
            self.end_session(session, upstream=True)
        return len(ended)

    async def drain_session(self, session_id: str) -> bool:
        """End a session once it is idle: what it is doing (and any follow-up call made
        within ``drain_grace``) finishes, then its client must initialize again.

        Returns:
            Whether the session existed.
        """
        session = self.sessions.get(session_id)
        if session is None:
            return False
        session.state = "draining"
        if session.calls <= 0:
            self._end_when_idle(session)
        return True

    def _end_when_idle(self, session: GatewaySession) -> None:
        grace = self.config.drain_grace
        asyncio.get_running_loop().call_later(grace, self._end_if_idle, session, grace)

    def _end_if_idle(self, session: GatewaySession, grace: float) -> None:
        if session.state != "draining" or session.calls > 0:
            return
        idle_for = time.time() - session.last_activity
        if idle_for >= grace:
            self.end_session(session, upstream=True)
        else:
            asyncio.get_running_loop().call_later(
                grace - idle_for, self._end_if_idle, session, grace
            )

    def list_sessions(self, deployment_id: int | None = None) -> list[SessionInfo]:
        """The live sessions (of one deployment), oldest first."""
        return self.sessions.describe(deployment_id)

    async def open_dedicated(
        self, route: DeploymentRoute, user_id: int, key_id: int | None = None
    ) -> GatewaySession:
        """A session of a per-session deployment, with an instance of its own (not yet open).

        Raises:
            Unavailable: there is no instance provider, or it could not start an instance.
        """
        provider = self.instance_provider
        if provider is None:
            raise Unavailable(f"{route.path} runs an instance per session, but none can start")
        session_id = mint_session_id()
        instance = await provider.acquire(
            route, session_id, functools.partial(self.kill_session, session_id)
        )
        return GatewaySession(
            id=session_id,
            deployment_id=route.deployment_id,
            user_id=user_id,
            key_id=key_id,
            instance=instance,
            dedicated=True,
        )

    # --- stdio ------------------------------------------------------------------------

    async def mux_ready(self, instance: UpstreamInstance) -> StdioMux:
        """The open mux of a stdio instance, started on first use.

        Raises:
            MuxClosed: the server has ended or never answered.
        """
        mux = self._muxes.get(instance)
        if mux is None:
            if instance.channel is None:
                raise MuxClosed(f"instance {instance.instance_id} has no stdio channel")
            mux = StdioMux(instance.channel, name=instance.instance_id, on_closed=self._mux_closed)
            self._muxes[instance] = mux
            mux.start(self.config.stdio_start_timeout)
        try:
            await mux.ready()
        except MuxClosed:
            # Never opened: forget it, so a later request tries the server afresh.
            if self._muxes.get(instance) is mux:
                del self._muxes[instance]
                self.balancer.eject(instance)
                self.background(mux.aclose())
            raise
        return mux

    def own_mux(self, session: GatewaySession) -> StdioMux:
        """A connection to the session's own stdio instance, for this client alone.

        Nothing is said to the server yet: the client's ``initialize`` opens it. What the
        server says on its own goes to the session's new outbox.

        Raises:
            MuxClosed: the instance has no stdio channel.
        """
        instance = session.instance
        if instance.channel is None:
            raise MuxClosed(f"instance {instance.instance_id} has no stdio channel")
        outbox = session.outbox = Outbox()
        mux = StdioMux(
            instance.channel,
            name=instance.instance_id,
            on_closed=self._mux_closed,
            sink=outbox.put,
        )
        self._muxes[instance] = mux
        mux.start_owned()
        return mux

    def owned_mux(self, instance: UpstreamInstance) -> StdioMux | None:
        """The open connection to a session's own stdio instance (``None`` once it ended)."""
        mux = self._muxes.get(instance)
        return None if mux is None or mux.closed else mux

    def _mux_closed(self, mux: StdioMux) -> None:
        for instance, known in list(self._muxes.items()):
            if known is mux:
                self.balancer.eject(instance)
                for session in self.sessions.on_instance(instance):
                    self.end_session(session, upstream=False)

    async def serve_stdio_unpinned(
        self, ex: Exchange, route: DeploymentRoute, instance: UpstreamInstance
    ) -> None:
        """Hand a sessionless request to a stdio instance (see ``upstream_stdio``)."""
        await upstream_stdio.serve_unpinned(self, ex, route, instance)

    # --- routing events ---------------------------------------------------------------

    def _instance_gone(self, deployment_id: int, instance: UpstreamInstance) -> None:
        for session in self.sessions.on_instance(instance):
            self.end_session(session, upstream=False)
        mux = self._muxes.pop(instance, None)
        if mux is not None:
            self.background(mux.aclose())
        if instance.transport == "streamable-http":
            self.pool.close_target(instance.host, instance.port, tls=instance.tls)

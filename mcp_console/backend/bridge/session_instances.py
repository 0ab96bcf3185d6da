"""Per-session deployments: an instance of its own for each gateway session, removed after."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.base import utcnow
from mcp_console.backend.db.models import ServiceDeployment, ServiceInstance
from mcp_console.backend.deploy.autoscaler import AutoscalePolicy
from mcp_console.backend.deploy.deployment_record import (
    DEDICATED_PREFIX,
    DeploymentState,
    load_state,
)
from mcp_console.backend.deploy.driver_registry import Drivers
from mcp_console.backend.deploy.drivers.base import InstanceHandle
from mcp_console.backend.deploy.health import STARTING_PROBE_INTERVAL, probe
from mcp_console.backend.deploy.instances import InstanceOps, alive
from mcp_console.backend.gateway.routing import (
    DeploymentRoute,
    EndSession,
    InstanceLimit,
    UpstreamInstance,
)
from mcp_console.backend.ports import ProbeResult, StdioLease
from mcp_console.backend.stdio.sdk_transport import stdio_transport
from mcp_console.schemas.deploy import DesiredState, HealthState, InstanceStatus
from mcp_console.schemas.errors import ConsoleError, Invalid, Unavailable
from mcp_console.settings import DeploySettings

logger = logging.getLogger(__name__)

# What a client refused for the limit is told to wait: sessions end all the time.
RETRY_AFTER_SECONDS = 5


def new_dedicated_name() -> str:
    """A fresh instance id marked as one session's own (see ``DEDICATED_PREFIX``)."""
    return DEDICATED_PREFIX + secrets.token_hex(5)


def session_limit(d: ServiceDeployment) -> int:
    """How many session instances a per-session deployment may run at once: the autoscale
    policy's maximum when it has one, else its replica count."""
    if d.autoscale:
        with contextlib.suppress(Invalid):
            return AutoscalePolicy.from_dict(dict(d.autoscale)).max_replicas
    return d.replicas


@dataclass(slots=True, eq=False)
class _Dedicated:
    """One session's instance, from the moment its place is taken until it is removed."""

    deployment_id: int
    session_id: str
    name: str
    driver: str
    # Ends the gateway session when its instance dies or its deployment stops.
    end_session: EndSession
    row_id: int | None = None
    ref: str | None = None
    instance: UpstreamInstance | None = None
    # Set when its deployment stops or the backend closes while it is being started.
    cancelled: bool = False
    lease: AsyncExitStack = field(default_factory=AsyncExitStack)
    removal: asyncio.Task[None] | None = None


class SessionInstances:
    """The gateway's ``InstanceProvider``: starts an instance for each session of a
    per-session deployment and removes it when the session ends.

    An instance is started as the controller starts replicas (``InstanceOps.launch``: same
    driver, recipe, configuration, secrets, limits and hardening), of the deployment's
    current version, and handed over once it answers MCP. Its row's name carries
    ``DEDICATED_PREFIX``, so the controller neither counts it as a replica nor restarts,
    adopts or (while it is held here) removes it; after a backend restart no session is
    left, so ``clean`` deletes the rows and the controller's first pass removes the
    containers as orphans. A deployment runs at most ``session_limit`` of them.

    Args:
        sessions: the database.
        ops: the controller's instance operations.
        drivers: the runtime drivers.
        stdio: the controller's exclusive lease on a stdio instance's channel.
        settings: the controller's timing (``start_grace`` bounds the wait for MCP).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ops: InstanceOps,
        drivers: Drivers,
        stdio: StdioLease,
        settings: DeploySettings,
    ) -> None:
        self._sessions = sessions
        self._ops = ops
        self._drivers = drivers
        self._stdio = stdio
        self.settings = settings
        self._by_session: dict[str, _Dedicated] = {}
        self._by_deployment: dict[int, dict[str, _Dedicated]] = {}
        self._by_name: dict[str, _Dedicated] = {}
        self._by_ref: dict[str, _Dedicated] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- what the controller asks --------------------------------------------------------------

    def holds(self, instance_id: str) -> bool:
        """Whether the instance with this id (its name) is one of a live session's."""
        return instance_id in self._by_name

    def count(self, deployment_id: int) -> int:
        """The deployment's session instances that serve now."""
        return sum(
            1
            for entry in self._by_deployment.get(deployment_id, {}).values()
            if entry.instance is not None and entry.removal is None
        )

    def died(self, ref: str) -> bool:
        """A container or process exited by itself: if it was a session's, end that session
        and remove the instance. Returns whether it was a session's."""
        entry = self._by_ref.get(ref)
        if entry is None:
            return False
        if entry.instance is not None and entry.removal is None:
            self._background(self._end(entry))
        return True

    async def clean(self) -> int:
        """Delete the rows of session instances a previous run left (its sessions are gone);
        returns how many. Their containers are the controller's orphans."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ServiceInstance).where(ServiceInstance.name.like(f"{DEDICATED_PREFIX}%"))
            )
        count = int(getattr(result, "rowcount", 0) or 0)
        if count:
            logger.info("removed %d session instances left by the previous run", count)
        return count

    async def close_deployment(self, deployment_id: int) -> None:
        """The deployment stopped or is going: end its sessions and remove their instances
        (waits until they are gone). Instances still starting are removed as they finish."""
        entries = list(self._by_deployment.get(deployment_id, {}).values())
        for entry in entries:
            entry.cancelled = True
        ready = [entry for entry in entries if entry.instance is not None]
        await asyncio.gather(*(self._end(entry) for entry in ready))

    async def aclose(self) -> None:
        """Remove every session instance (call once the gateway has stopped)."""
        entries = list(self._by_session.values())
        for entry in entries:
            entry.cancelled = True
        await asyncio.gather(
            *(self._dispose(entry) for entry in entries if entry.instance is not None)
        )
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- InstanceProvider ----------------------------------------------------------------------

    async def acquire(
        self, route: DeploymentRoute, session_id: str, end_session: EndSession
    ) -> UpstreamInstance:
        """Start an instance for the session and return it once it answers MCP.

        ``end_session`` is called when the instance dies or the deployment stops; the
        gateway then gives the instance back through ``release``.

        Raises:
            InstanceLimit: the deployment already runs ``session_limit`` session instances.
            Unavailable: the deployment is stopped or gone, or the instance could not start
                or did not answer in time (nothing of it is left).
        """
        async with self._sessions() as session:
            state = await load_state(session, route.deployment_id)
        if state is None or state.deployment.desired_state != DesiredState.RUNNING:
            raise Unavailable(f"{route.path} is stopped: start it to open sessions")
        d = state.deployment
        assert d.driver is not None  # chosen when the deployment was created
        limit = session_limit(d)
        taken = len(self._by_deployment.get(d.id, {}))
        if taken >= limit:
            cap = "autoscale max_replicas" if d.autoscale else "replicas"
            raise InstanceLimit(
                f"{route.path} runs an instance per session, at most {limit} at once (its "
                f"{cap}), and {taken} are running; try again in {RETRY_AFTER_SECONDS} s",
                limit=limit,
                retry_after=RETRY_AFTER_SECONDS,
            )
        entry = _Dedicated(d.id, session_id, new_dedicated_name(), d.driver, end_session)
        self._by_session[session_id] = entry
        self._by_deployment.setdefault(d.id, {})[session_id] = entry
        self._by_name[entry.name] = entry
        try:
            instance = await self._start(route, state, entry)
        except BaseException:
            await self._dispose(entry)
            raise
        entry.instance = instance
        return instance

    async def release(
        self, deployment_id: int, session_id: str, instance: UpstreamInstance
    ) -> None:
        """The session is over: stop and remove its instance and row (once, however often
        this is called)."""
        entry = self._by_session.get(session_id)
        if entry is not None and entry.instance is not None:
            await self._dispose(entry)

    # -- starting ------------------------------------------------------------------------------

    async def _start(
        self, route: DeploymentRoute, state: DeploymentState, entry: _Dedicated
    ) -> UpstreamInstance:
        d = state.deployment
        row = ServiceInstance(
            deployment_id=d.id,
            version_id=d.version_id,
            name=entry.name,
            driver=d.driver,
            status=InstanceStatus.STARTING.value,
            health=HealthState.UNKNOWN.value,
        )
        try:
            # The row first, as for replicas: no container is ever without one.
            async with self._sessions.begin() as session:
                session.add(row)
            entry.row_id = row.id
            self._check(route, entry)
            try:
                handle = await self._ops.launch(state, row)
            except ConsoleError as exc:
                reason = self._ops.mask(state, exc.message)
                raise Unavailable(
                    f"{route.path} could not start a session instance: {reason}"
                ) from None
            entry.ref = handle.ref
            self._by_ref[handle.ref] = entry
            await self._save(
                entry,
                container_id=handle.ref,
                host=handle.host,
                port=handle.port,
                health_check_url=handle.url,
            )
            self._check(route, entry)
            instance = await self._ready(route, state, entry, handle)
            await self._save(
                entry,
                status=InstanceStatus.RUNNING.value,
                health=HealthState.HEALTHY.value,
                last_health_check=utcnow(),
            )
        except SQLAlchemyError as exc:
            # The deployment was deleted meanwhile, or the database is away.
            raise Unavailable(f"{route.path} could not record a session instance: {exc}") from None
        self._check(route, entry)
        logger.info("started %s for a session of %s", entry.name, route.path)
        return instance

    def _check(self, route: DeploymentRoute, entry: _Dedicated) -> None:
        if entry.cancelled:
            raise Unavailable(f"{route.path} was stopped while its session instance started")

    async def _ready(
        self,
        route: DeploymentRoute,
        state: DeploymentState,
        entry: _Dedicated,
        handle: InstanceHandle,
    ) -> UpstreamInstance:
        """Probe the new instance until it answers MCP (within ``start_grace``)."""
        driver = await self._drivers.get(entry.driver)
        instance: UpstreamInstance
        if handle.url is not None:
            url = handle.url
            instance = UpstreamInstance(entry.name, "streamable-http", url=url)

            async def once() -> ProbeResult:
                return await probe(url, self.settings.health_timeout)
        else:
            # Held until the instance is removed: nobody else reads its stdout meanwhile.
            channel = await entry.lease.enter_async_context(self._stdio(entry.driver, handle.ref))
            instance = UpstreamInstance(entry.name, "stdio", channel=channel)

            async def once() -> ProbeResult:
                return await probe(stdio_transport(channel), self.settings.health_timeout)

        deadline = time.monotonic() + max(self.settings.start_grace, self.settings.health_timeout)
        while True:
            result = await once()
            if result.ok:
                return instance
            self._check(route, entry)
            if not await alive(driver, handle.ref):
                tail = await self._ops.tail(state, driver, handle.ref)
                last = f": {tail.splitlines()[-1]}" if tail else ""
                raise Unavailable(
                    f"{route.path}: the session instance exited before answering MCP{last}"
                )
            if time.monotonic() >= deadline:
                raise Unavailable(
                    f"{route.path}: the session instance did not answer MCP within "
                    f"{self.settings.start_grace:g} s ({result.error})"
                )
            await asyncio.sleep(STARTING_PROBE_INTERVAL)

    # -- removing ------------------------------------------------------------------------------

    async def _end(self, entry: _Dedicated) -> None:
        """End the session in the gateway (it asks for ``release``), and remove the instance."""
        try:
            await entry.end_session()
        finally:
            await self._dispose(entry)

    async def _dispose(self, entry: _Dedicated) -> None:
        """Remove an instance once, whoever asks and however often; wait until it is gone."""
        if entry.removal is None:
            entry.removal = asyncio.ensure_future(self._remove(entry))
            self._tasks.add(entry.removal)
            entry.removal.add_done_callback(self._tasks.discard)
        await asyncio.shield(entry.removal)

    async def _remove(self, entry: _Dedicated) -> None:
        try:
            with contextlib.suppress(Exception):
                await entry.lease.aclose()
            if entry.ref is not None:
                await self._ops.stop_and_remove(entry.driver, entry.ref)
        finally:
            # Its place is free as soon as the instance is gone, not once its row is.
            self._forget(entry)
        if entry.row_id is not None:
            try:
                async with self._sessions.begin() as session:
                    await session.execute(
                        delete(ServiceInstance).where(ServiceInstance.id == entry.row_id)
                    )
            except SQLAlchemyError as exc:
                # A leftover row is deleted at the next start (``clean``).
                logger.warning("could not delete the row of %s: %s", entry.name, exc)

    def _forget(self, entry: _Dedicated) -> None:
        if self._by_session.get(entry.session_id) is entry:
            del self._by_session[entry.session_id]
        held = self._by_deployment.get(entry.deployment_id, {})
        if held.get(entry.session_id) is entry:
            del held[entry.session_id]
            if not held:
                del self._by_deployment[entry.deployment_id]
        if self._by_name.get(entry.name) is entry:
            del self._by_name[entry.name]
        if entry.ref is not None and self._by_ref.get(entry.ref) is entry:
            del self._by_ref[entry.ref]

    # -- helpers -------------------------------------------------------------------------------

    async def _save(self, entry: _Dedicated, **values: Any) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(ServiceInstance).where(ServiceInstance.id == entry.row_id).values(**values)
            )

    def _background(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("removing a session instance failed: %r", task.exception())

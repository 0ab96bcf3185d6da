"""Starting and removing one instance of a per-session deployment: its row, its process, its
readiness, and nothing left behind."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.base import utcnow
from mcp_console.backend.db.models import ServiceInstance
from mcp_console.backend.deploy.deployment_record import DEDICATED_PREFIX, DeploymentState
from mcp_console.backend.deploy.driver_registry import Drivers
from mcp_console.backend.deploy.drivers.base import InstanceHandle
from mcp_console.backend.deploy.health import STARTING_PROBE_INTERVAL, probe
from mcp_console.backend.deploy.instances import InstanceOps, alive
from mcp_console.backend.gateway.routing import EndSession, UpstreamInstance
from mcp_console.backend.gateway.stdio_mux import answers_ping
from mcp_console.backend.ports import ProbeResult, StdioLease
from mcp_console.backend.stdio.channel import ChannelClosed
from mcp_console.schemas.deploy import HealthState, InstanceStatus
from mcp_console.schemas.errors import ConsoleError, Unavailable
from mcp_console.settings import DeploySettings

logger = logging.getLogger(__name__)


def new_dedicated_name() -> str:
    """A fresh instance id marked as one session's own (see ``DEDICATED_PREFIX``)."""
    return DEDICATED_PREFIX + secrets.token_hex(5)


@dataclass(slots=True, eq=False)
class Dedicated:
    """One instance for one session, from the moment its place is taken until it is removed.

    A warm one waits in its deployment's pool with no session yet (``session_id`` is
    ``None``); a session claims it, or one still starting, and ``ready`` yields it.
    """

    deployment_id: int
    name: str
    driver: str
    # What it was started from: a pool entry of another fingerprint is stale.
    fingerprint: tuple[Any, ...]
    session_id: str | None = None
    # Ends the gateway session when its instance dies or its deployment stops.
    end_session: EndSession | None = None
    row_id: int | None = None
    ref: str | None = None
    instance: UpstreamInstance | None = None
    # Set when its deployment stops or the backend closes while it is being started.
    cancelled: bool = False
    lease: AsyncExitStack = field(default_factory=AsyncExitStack)
    starting: asyncio.Task[UpstreamInstance] | None = None
    removal: asyncio.Task[None] | None = None

    @property
    def claimed(self) -> bool:
        """Whether a session holds it."""
        return self.session_id is not None


class SessionLauncher:
    """Starts one dedicated instance as the controller starts replicas, and removes it.

    An instance is started by ``InstanceOps.launch`` (same driver, recipe, configuration,
    secrets, limits and hardening) and handed over once it answers: an HTTP server an MCP
    probe, a stdio server a ``ping`` (a handshake of the gateway's own would take the
    place of the client's, whose capabilities the server must see). Its row's name carries
    ``DEDICATED_PREFIX``, so the controller neither counts it as a replica nor restarts,
    adopts or (while it is held) removes it.

    Args:
        sessions: the database.
        ops: the controller's instance operations.
        drivers: the runtime drivers.
        stdio: the controller's exclusive lease on a stdio instance's channel.
        settings: the controller's timing (``start_grace`` bounds the wait).
        on_launched: told of each entry once its instance exists (``ref`` is set).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ops: InstanceOps,
        drivers: Drivers,
        stdio: StdioLease,
        settings: DeploySettings,
        on_launched: Callable[[Dedicated], None],
    ) -> None:
        self._sessions = sessions
        self._ops = ops
        self._drivers = drivers
        self._stdio = stdio
        self.settings = settings
        self._on_launched = on_launched

    async def start(self, path: str, state: DeploymentState, entry: Dedicated) -> UpstreamInstance:
        """Start ``entry``'s instance of ``state``'s current version; return it once ready.

        Raises:
            Unavailable: the instance could not start, did not answer in time, or its
                deployment stopped meanwhile (what was started is left for ``remove``).
        """
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
            _check(path, entry)
            try:
                handle = await self._ops.launch(state, row)
            except ConsoleError as exc:
                reason = self._ops.mask(state, exc.message)
                raise Unavailable(f"{path} could not start a session instance: {reason}") from None
            entry.ref = handle.ref
            self._on_launched(entry)
            await self._save(
                entry,
                container_id=handle.ref,
                host=handle.host,
                port=handle.port,
                health_check_url=handle.url,
            )
            _check(path, entry)
            instance = await self._ready(path, state, entry, handle)
            await self._save(
                entry,
                status=InstanceStatus.RUNNING.value,
                health=HealthState.HEALTHY.value,
                last_health_check=utcnow(),
            )
        except SQLAlchemyError as exc:
            # The deployment was deleted meanwhile, or the database is away.
            raise Unavailable(f"{path} could not record a session instance: {exc}") from None
        _check(path, entry)
        logger.info("started %s for %s", entry.name, path)
        return instance

    async def _ready(
        self, path: str, state: DeploymentState, entry: Dedicated, handle: InstanceHandle
    ) -> UpstreamInstance:
        """Wait until the new instance answers (within ``start_grace``)."""
        driver = await self._drivers.get(entry.driver)
        timeout = self.settings.health_timeout
        instance: UpstreamInstance
        if handle.url is not None:
            url = handle.url
            instance = UpstreamInstance(entry.name, "streamable-http", url=url)

            async def once() -> ProbeResult:
                return await probe(url, timeout)
        else:
            # Held until the instance is removed: nobody else reads its stdout meanwhile.
            channel = await entry.lease.enter_async_context(self._stdio(entry.driver, handle.ref))
            instance = UpstreamInstance(entry.name, "stdio", channel=channel)

            async def once() -> ProbeResult:
                try:
                    if await answers_ping(channel, timeout):
                        return ProbeResult(ok=True)
                except ChannelClosed as exc:
                    return ProbeResult(ok=False, error=str(exc))
                return ProbeResult(ok=False, error=f"no answer to ping within {timeout:g} s")

        deadline = time.monotonic() + max(self.settings.start_grace, timeout)
        while True:
            result = await once()
            if result.ok:
                return instance
            _check(path, entry)
            if not await alive(driver, handle.ref):
                tail = await self._ops.tail(state, driver, handle.ref)
                last = f": {tail.splitlines()[-1]}" if tail else ""
                raise Unavailable(f"{path}: the session instance exited before answering{last}")
            if time.monotonic() >= deadline:
                raise Unavailable(
                    f"{path}: the session instance did not answer MCP within "
                    f"{self.settings.start_grace:g} s ({result.error})"
                )
            await asyncio.sleep(STARTING_PROBE_INTERVAL)

    async def remove(self, entry: Dedicated) -> None:
        """Stop and remove the instance, then its row (a leftover row goes at the next start)."""
        with contextlib.suppress(Exception):
            await entry.lease.aclose()
        if entry.ref is not None:
            await self._ops.stop_and_remove(entry.driver, entry.ref)

    async def delete_row(self, entry: Dedicated) -> None:
        """Delete the instance's row (logged, not raised, when the database is away)."""
        if entry.row_id is None:
            return
        try:
            async with self._sessions.begin() as session:
                await session.execute(
                    delete(ServiceInstance).where(ServiceInstance.id == entry.row_id)
                )
        except SQLAlchemyError as exc:
            logger.warning("could not delete the row of %s: %s", entry.name, exc)

    async def _save(self, entry: Dedicated, **values: Any) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(ServiceInstance).where(ServiceInstance.id == entry.row_id).values(**values)
            )


def _check(path: str, entry: Dedicated) -> None:
    if entry.cancelled:
        raise Unavailable(f"{path} was stopped while its session instance started")

"""Per-session deployments: an instance of its own for each gateway session, from a warm pool."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Awaitable
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.bridge.session_launch import (
    Dedicated,
    SessionLauncher,
    new_dedicated_name,
)
from mcp_console.backend.db.models import ServiceDeployment, ServiceInstance
from mcp_console.backend.deploy.autoscaler import AutoscalePolicy
from mcp_console.backend.deploy.deployment_record import (
    DEDICATED_PREFIX,
    DeploymentState,
    load_state,
)
from mcp_console.backend.deploy.driver_registry import Drivers
from mcp_console.backend.deploy.instances import InstanceOps
from mcp_console.backend.gateway.routing import (
    DeploymentRoute,
    EndSession,
    InstanceLimit,
    UpstreamInstance,
)
from mcp_console.backend.ports import StdioLease
from mcp_console.schemas.deploy import DesiredState
from mcp_console.schemas.errors import Invalid, Unavailable
from mcp_console.settings import DeploySettings

logger = logging.getLogger(__name__)

# What a client refused for the limit is told to wait: sessions end all the time.
RETRY_AFTER_SECONDS = 5
# After a warm instance failed to start, the pool waits this long (doubling, capped) before
# trying again, so a server that cannot start is not started over and over.
WARM_BACKOFF_SECONDS = 2.0
WARM_BACKOFF_MAX = 120.0
# A session that took a warm instance has the pool refilled this much later: starting a
# process at once would take the loop and the CPU from that session's own handshake.
REFILL_DELAY_SECONDS = 0.25


def capacity_replicas(d: ServiceDeployment) -> tuple[int, str]:
    """The replicas a per-session deployment's session limit is counted from, and what they
    are: the autoscale policy's maximum when it has one, else its replica count."""
    if d.autoscale:
        with contextlib.suppress(Invalid):
            return AutoscalePolicy.from_dict(dict(d.autoscale)).max_replicas, "autoscale maximum"
    return d.replicas, "replicas"


def fingerprint(d: ServiceDeployment) -> tuple[Any, ...]:
    """What a session instance is started from: any change makes warm ones stale."""
    config = json.dumps(d.config, sort_keys=True, default=str)
    # ``settings_changed_at`` moves with every change of settings, secrets included.
    changed = d.settings_changed_at
    return (d.version_id, d.driver, config, d.cpu_limit, d.memory_limit_mb, changed)


def _path(state: DeploymentState) -> str:
    return f"/mcp/{state.owner}/{state.name}"


class SessionInstances:
    """The gateway's ``InstanceProvider``: an instance for each session of a per-session
    deployment, removed when the session ends.

    Each running per-session deployment keeps ``settings.warm_sessions`` instances started
    and answering, ready for the next session (``keep_warm``), so opening a session costs
    no start-up; a session taking one has the pool refilled in the background. Warm and
    claimed instances together stay within ``_limit``. Instances are of the
    deployment's current version and settings: warm ones started before a change are
    replaced. After a backend restart no session is left, so ``clean`` deletes the rows
    and the controller's first pass removes the containers as orphans.

    Args:
        sessions: the database.
        ops: the controller's instance operations.
        drivers: the runtime drivers.
        stdio: the controller's exclusive lease on a stdio instance's channel.
        settings: the controller's timing and the warm pool's size.
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
        self._launcher = SessionLauncher(
            sessions, ops, drivers, stdio, settings, on_launched=self._launched
        )
        self.settings = settings
        self._by_session: dict[str, Dedicated] = {}
        # Every live entry of a deployment, warm or claimed, in the order started.
        self._by_deployment: dict[int, list[Dedicated]] = {}
        self._by_name: dict[str, Dedicated] = {}
        self._by_ref: dict[str, Dedicated] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # deployment id -> (consecutive failed warm starts, monotonic time to try again)
        self._backoff: dict[int, tuple[int, float]] = {}
        self._warming: set[int] = set()
        self._refills: dict[int, asyncio.TimerHandle] = {}
        self._closed = False

    # -- what the controller asks --------------------------------------------------------------

    def holds(self, instance_id: str) -> bool:
        """Whether the instance with this id (its name) is one of a session's or the pool's."""
        return instance_id in self._by_name

    def count(self, deployment_id: int) -> int:
        """The deployment's session instances that serve a session now."""
        return sum(
            1
            for entry in self._by_deployment.get(deployment_id, ())
            if entry.claimed and entry.instance is not None and entry.removal is None
        )

    def warm(self, deployment_id: int) -> int:
        """The deployment's instances ready for the next session."""
        return sum(1 for entry in self._spares(deployment_id) if entry.instance is not None)

    def died(self, ref: str) -> bool:
        """A container or process exited by itself: if it was a session's, end that session
        and remove the instance (a warm one is just removed). Returns whether it was ours."""
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
        and its warm ones (waits until they are gone)."""
        entries = list(self._by_deployment.get(deployment_id, ()))
        for entry in entries:
            entry.cancelled = True
        await asyncio.gather(*(self._end(entry) for entry in entries), return_exceptions=True)
        self._backoff.pop(deployment_id, None)

    async def aclose(self) -> None:
        """Remove every session instance (call once the gateway has stopped)."""
        self._closed = True
        for handle in self._refills.values():
            handle.cancel()
        entries = [e for group in self._by_deployment.values() for e in group]
        for entry in entries:
            entry.cancelled = True
        await asyncio.gather(*(self._dispose(entry) for entry in entries))
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- the warm pool -------------------------------------------------------------------------

    def keep_warm(self, deployment_id: int, current: ServiceDeployment | None = None) -> None:
        """Start warm instances for a running per-session deployment, up to the pool size
        (in the background; called on every sync of its route, so it is cheap when full).

        ``current`` is the deployment as just read: warm instances started from another
        version or settings are replaced.
        """
        if current is not None:
            self._drop_stale(current)
        if self._closed or self.settings.warm_sessions <= 0 or deployment_id in self._warming:
            return
        failures, not_before = self._backoff.get(deployment_id, (0, 0.0))
        if failures and time.monotonic() < not_before:
            return
        if len(self._spares(deployment_id)) >= self.settings.warm_sessions:
            return
        self._warming.add(deployment_id)
        self._background(self._warm_up(deployment_id))

    async def _warm_up(self, deployment_id: int) -> None:
        try:
            async with self._sessions() as session:
                state = await load_state(session, deployment_id)
            if state is not None and state.deployment.desired_state == DesiredState.RUNNING:
                self._refill(state)
        finally:
            self._warming.discard(deployment_id)

    def _refill(self, state: DeploymentState) -> None:
        """Top the pool up: spares of the current fingerprint, within the limit."""
        d = state.deployment
        self._drop_stale(d)
        taken = self._taken(d.id)
        claimed = sum(1 for e in taken if e.claimed)
        limit = self._limit(d)
        want = min(self.settings.warm_sessions, limit - claimed)
        spares = len(self._spares(d.id))
        while spares < want and len(taken) < limit:
            entry = self._new(state)
            assert entry.starting is not None
            entry.starting.add_done_callback(functools.partial(self._warm_done, entry))
            spares += 1
            taken.append(entry)

    def _warm_done(self, entry: Dedicated, task: asyncio.Task[UpstreamInstance]) -> None:
        if task.cancelled() or task.exception() is None:
            self._backoff.pop(entry.deployment_id, None)
            return
        if entry.claimed or entry.cancelled:
            return  # the session that claimed it was told; a stale one was stopped on purpose
        failures, _ = self._backoff.get(entry.deployment_id, (0, 0.0))
        wait = min(WARM_BACKOFF_MAX, WARM_BACKOFF_SECONDS * 2**failures)
        self._backoff[entry.deployment_id] = (failures + 1, time.monotonic() + wait)
        logger.warning("a warm session instance failed to start: %s", task.exception())
        self._retire(entry)

    def _taken(self, deployment_id: int) -> list[Dedicated]:
        """The entries that hold a place within the limit: all but those being removed (a
        session that just ended frees its place for the next at once)."""
        return [e for e in self._by_deployment.get(deployment_id, ()) if e.removal is None]

    def _limit(self, d: ServiceDeployment) -> int:
        """How many session instances ``d`` may run at once: ``sessions_per_replica`` for
        each of its ``capacity_replicas``."""
        return capacity_replicas(d)[0] * self.settings.sessions_per_replica

    def _spares(self, deployment_id: int) -> list[Dedicated]:
        return [
            e
            for e in self._by_deployment.get(deployment_id, ())
            if not e.claimed and e.removal is None and not e.cancelled
        ]

    def _drop_stale(self, d: ServiceDeployment) -> None:
        """Retire the spares started from other settings, and those beyond what the
        deployment may run now (it was scaled down): the pool never exceeds the limit."""
        current = fingerprint(d)
        room = self._limit(d) - sum(1 for e in self._taken(d.id) if e.claimed)
        for entry in self._spares(d.id):
            if entry.fingerprint != current or room <= 0:
                entry.cancelled = True
                self._retire(entry)
            else:
                room -= 1

    # -- InstanceProvider ----------------------------------------------------------------------

    async def acquire(
        self, route: DeploymentRoute, session_id: str, end_session: EndSession
    ) -> UpstreamInstance:
        """An instance for the session: a warm one when there is one, else one started now
        (or one the pool is starting); the pool is refilled in the background.

        ``end_session`` is called when the instance dies or the deployment stops; the
        gateway then gives the instance back through ``release``.

        Raises:
            InstanceLimit: the deployment already runs ``_limit`` session instances.
            Unavailable: the deployment is stopped or gone, or the instance could not start
                or did not answer in time (nothing of it is left).
        """
        # A warm instance is current: every sync of the route drops the stale ones, and
        # stopping the deployment removes them. Taking one asks the database nothing.
        ready = [e for e in self._spares(route.deployment_id) if e.instance is not None]
        if ready:
            self._claim(ready[0], session_id, end_session)
            self._refill_soon(route.deployment_id)
            return await self._started(ready[0])
        async with self._sessions() as session:
            state = await load_state(session, route.deployment_id)
        if state is None or state.deployment.desired_state != DesiredState.RUNNING:
            raise Unavailable(f"{route.path} is stopped: start it to open sessions")
        d = state.deployment
        self._drop_stale(d)
        spares = self._spares(d.id)
        entry = spares[0] if spares else None
        limit = self._limit(d)
        if limit == 0:
            raise Unavailable(
                f"{route.path} has no healthy instance to answer right now: it is scaled to 0 "
                "replicas, so no session may start one"
            )
        if entry is None:
            taken = len(self._taken(d.id))
            if taken >= limit:
                replicas, counted = capacity_replicas(d)
                per_replica = self.settings.sessions_per_replica
                raise InstanceLimit(
                    f"{route.path} runs an instance per session, at most {limit} at once "
                    f"({per_replica} for each of its {replicas} {counted}), and {taken} are "
                    f"running; try again in {RETRY_AFTER_SECONDS} s",
                    limit=limit,
                    retry_after=RETRY_AFTER_SECONDS,
                )
            entry = self._new(state)
        self._claim(entry, session_id, end_session)
        self._refill(state)
        return await self._started(entry)

    def _refill_soon(self, deployment_id: int) -> None:
        if deployment_id not in self._refills:
            self._refills[deployment_id] = asyncio.get_running_loop().call_later(
                REFILL_DELAY_SECONDS, self._refill_now, deployment_id
            )

    def _refill_now(self, deployment_id: int) -> None:
        self._refills.pop(deployment_id, None)
        self.keep_warm(deployment_id)

    def _claim(self, entry: Dedicated, session_id: str, end_session: EndSession) -> None:
        entry.session_id = session_id
        entry.end_session = end_session
        self._by_session[session_id] = entry

    async def _started(self, entry: Dedicated) -> UpstreamInstance:
        """The claimed entry's instance once it answers (removed if it never does)."""
        assert entry.starting is not None
        try:
            return await asyncio.shield(entry.starting)
        except BaseException:
            await self._dispose(entry)
            raise

    async def release(
        self, deployment_id: int, session_id: str, instance: UpstreamInstance
    ) -> None:
        """The session is over: stop and remove its instance and row (once, however often
        this is called); the pool is refilled."""
        entry = self._by_session.get(session_id)
        if entry is not None and entry.instance is not None:
            await self._dispose(entry)
            self.keep_warm(deployment_id)

    # -- starting and removing -----------------------------------------------------------------

    def _new(self, state: DeploymentState) -> Dedicated:
        d = state.deployment
        assert d.driver is not None  # chosen when the deployment was created
        entry = Dedicated(d.id, new_dedicated_name(), d.driver, fingerprint(d))
        self._by_deployment.setdefault(d.id, []).append(entry)
        self._by_name[entry.name] = entry
        entry.starting = asyncio.ensure_future(self._start(state, entry))
        self._tasks.add(entry.starting)
        entry.starting.add_done_callback(self._tasks.discard)
        return entry

    async def _start(self, state: DeploymentState, entry: Dedicated) -> UpstreamInstance:
        instance = await self._launcher.start(_path(state), state, entry)
        entry.instance = instance
        return instance

    def _launched(self, entry: Dedicated) -> None:
        # Known by its ref from now on: its exit is its session's end, not a crash.
        if entry.ref is not None and entry.removal is None:
            self._by_ref[entry.ref] = entry

    async def _end(self, entry: Dedicated) -> None:
        """End the session in the gateway (it asks for ``release``), and remove the instance."""
        try:
            if entry.end_session is not None:
                await entry.end_session()
        finally:
            await self._dispose(entry)

    async def _dispose(self, entry: Dedicated) -> None:
        """Remove an instance once, whoever asks and however often; wait until it is gone."""
        await asyncio.shield(self._retire(entry))

    def _retire(self, entry: Dedicated) -> asyncio.Task[None]:
        """Start removing an instance (once): from now on it holds no place in the limit."""
        if entry.removal is None:
            entry.removal = asyncio.ensure_future(self._remove(entry))
            self._tasks.add(entry.removal)
            entry.removal.add_done_callback(self._tasks.discard)
        return entry.removal

    async def _remove(self, entry: Dedicated) -> None:
        starting = entry.starting
        if starting is not None and not starting.done():
            entry.cancelled = True
            with contextlib.suppress(BaseException):
                await asyncio.shield(starting)  # its own checks stop it soon
        try:
            await self._launcher.remove(entry)
        finally:
            # Its place is free as soon as the instance is gone, not once its row is.
            self._forget(entry)
        await self._launcher.delete_row(entry)

    def _forget(self, entry: Dedicated) -> None:
        if entry.session_id is not None and self._by_session.get(entry.session_id) is entry:
            del self._by_session[entry.session_id]
        held = self._by_deployment.get(entry.deployment_id)
        if held is not None and entry in held:
            held.remove(entry)
            if not held:
                del self._by_deployment[entry.deployment_id]
        if self._by_name.get(entry.name) is entry:
            del self._by_name[entry.name]
        if entry.ref is not None and self._by_ref.get(entry.ref) is entry:
            del self._by_ref[entry.ref]

    def _background(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("a session instance task failed: %r", task.exception())

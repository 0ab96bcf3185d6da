"""The controller: desired state in the database, reality in the drivers, converged on events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.base import utcnow
from mcp_console.backend.db.models import ServiceDeployment, ServiceInstance
from mcp_console.backend.deploy.autoscaler import Autoscaler
from mcp_console.backend.deploy.converge import Converger
from mcp_console.backend.deploy.deployment_record import DeploymentState, live, load_states
from mcp_console.backend.deploy.driver_registry import Drivers
from mcp_console.backend.deploy.drivers.base import ManagedInstance, RuntimeDriver
from mcp_console.backend.deploy.health import HealthMonitor, StdioLeases, probe_instance
from mcp_console.backend.deploy.instances import STDERR_TAIL_LINES
from mcp_console.backend.deploy.remote import REMOTE
from mcp_console.backend.deploy.scaling import autoscale_pass
from mcp_console.backend.deploy.secretstore import DeploymentSecrets, redact_lines
from mcp_console.backend.deploy.status_rollup import compute_status
from mcp_console.backend.events import EventBus
from mcp_console.backend.ports import GatewayLink, LoadSource, ProbeResult
from mcp_console.backend.stdio.channel import StdioChannel
from mcp_console.schemas.deploy import DesiredState, HealthState, InstanceStatus
from mcp_console.schemas.errors import ConsoleError
from mcp_console.settings import DeploySettings

logger = logging.getLogger(__name__)


class Controller:
    """Reconciles every deployment: on driver events, health changes, requests and a tick.

    It does nothing until ``start`` (a daemon or an interactive console starts it; a
    short-lived CLI backend only writes desired state). On start it adopts the labelled
    containers that match instance rows, removes the ones that match nothing (orphans) and
    recreates what is missing. Passes over one deployment never overlap.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        events: EventBus,
        drivers: Drivers,
        secrets_store: DeploymentSecrets,
        settings: DeploySettings,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self.drivers = drivers
        self._secrets = secrets_store
        self.settings = settings
        self.leases = StdioLeases()
        self.health = HealthMonitor(settings, self._probe, self._report)
        self.converger = Converger(
            sessions,
            events,
            drivers,
            secrets_store,
            settings,
            self.health,
            self.schedule,
            self.sync_routes,
        )
        # While a gateway serves: the routes kept in step with the instances, the instances
        # it starts for single sessions (never this controller's to touch), and the load.
        self._gateway: GatewayLink | None = None
        self.autoscaler = Autoscaler(window_s=settings.autoscale_window)
        self.running = False
        self._locks: dict[int, asyncio.Lock] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._dirty: set[int] = set()
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._watchers: dict[str, asyncio.Task[None]] = {}

    # -- life ----------------------------------------------------------------------------------

    def connect_gateway(self, link: GatewayLink) -> None:
        """Feed a gateway that now serves (the runtime's one wiring step)."""
        self._gateway = link

    def disconnect_gateway(self) -> None:
        """The gateway stopped: keep reconciling without routes, session instances or load."""
        self._gateway = None

    async def start(self) -> None:
        """Watch the drivers, adopt what runs, remove orphans, converge every deployment."""
        self.running = True
        self.drivers.follow_connections(self._watch_driver)
        self._watch_driver(self.drivers.process)
        # Containers of any deployment may be running: look whatever the default runtime.
        if await self.drivers.docker_available():
            self._watch_driver(await self.drivers.docker())
        try:
            await self.adopt()
            await self.reconcile_all()
        except ConsoleError as exc:
            # The engine may be down for a moment; the scheduled tick tries again.
            logger.warning("the first reconcile pass failed: %s", exc.message)

    async def close(self) -> None:
        """Stop reconciling and probing (containers keep running; processes stop with the
        drivers)."""
        self.running = False
        self.drivers.follow_connections(None)
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in [*self._watchers.values(), *self._tasks.values()]:
            task.cancel()
        for task in [*self._watchers.values(), *self._tasks.values()]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._watchers.clear()
        self._tasks.clear()
        await self.health.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.stop_timeout + 5):
                await self.converger.drain_retiring()

    # -- scheduling ----------------------------------------------------------------------------

    def poke(self, deployment_id: int) -> None:
        """Converge a deployment soon (coalesced; a no-op until the controller runs)."""
        if not self.running:
            return
        self._dirty.add(deployment_id)
        if deployment_id not in self._tasks:
            self._tasks[deployment_id] = asyncio.create_task(
                self._drive(deployment_id), name=f"converge {deployment_id}"
            )

    def schedule(self, deployment_id: int, delay: float) -> None:
        """Converge a deployment after ``delay`` seconds (the earliest request wins)."""
        if not self.running:
            return
        loop = asyncio.get_running_loop()
        when = loop.time() + delay
        timer = self._timers.get(deployment_id)
        if timer is not None and not timer.cancelled() and timer.when() <= when:
            return
        if timer is not None:
            timer.cancel()
        self._timers[deployment_id] = loop.call_at(when, self._fire, deployment_id)

    def _fire(self, deployment_id: int) -> None:
        self._timers.pop(deployment_id, None)
        self.poke(deployment_id)

    async def _drive(self, deployment_id: int) -> None:
        try:
            while deployment_id in self._dirty:
                self._dirty.discard(deployment_id)
                try:
                    await self.converge(deployment_id)
                except Exception:
                    logger.exception("converging deployment %s failed; retrying", deployment_id)
                    self.schedule(deployment_id, self.settings.backoff_max)
        finally:
            self._tasks.pop(deployment_id, None)

    async def converge(self, deployment_id: int) -> None:
        """Converge one deployment now (waits for a pass already running on it)."""
        lock = self._locks.setdefault(deployment_id, asyncio.Lock())
        async with lock:
            await self.converger.run(deployment_id)

    async def settle(self, deployment_id: int) -> None:
        """Wait until the passes queued for a deployment are done."""
        while (task := self._tasks.get(deployment_id)) is not None:
            await asyncio.shield(task)

    # -- reconciling ---------------------------------------------------------------------------

    async def _snapshot(self) -> dict[str, ManagedInstance]:
        return {managed.ref: managed for managed in await self.drivers.snapshot()}

    async def adopt(self) -> None:
        """After a (re)start: take over matching instances, recreate missing ones."""
        snapshot = await self._snapshot()
        by_instance = {(m.deployment_id, m.instance_id): m for m in snapshot.values()}
        async with self._sessions() as session:
            states = await load_states(session, with_secrets=False)
        now = utcnow()
        for state in states:
            for row in live(state.instances):
                managed = snapshot.get(row.container_id or "")
                if managed is None and not row.container_id:
                    # Started just before the backend died, its row never got the reference.
                    managed = by_instance.get((state.deployment.uid, row.name))
                    if managed is not None and managed.running:
                        await self.converger.adopted(row, managed)
                if managed is not None and managed.running:
                    self.converger.watch(state.id, row)
                    await self.drivers.resume_output(managed)
                    continue
                if managed is not None:
                    continue  # it exited while we were away: converge restarts it
                # Nothing of it runs (processes do not outlive a backend): recreate, no penalty.
                async with self._sessions.begin() as session:
                    await session.execute(
                        update(ServiceInstance)
                        .where(ServiceInstance.id == row.id)
                        .values(status=InstanceStatus.RESTARTING.value, next_restart_at=now)
                    )
                row.status, row.next_restart_at = InstanceStatus.RESTARTING.value, now
        await self._remove_orphans(snapshot, states)

    async def reconcile_all(self) -> int:
        """One pass over every deployment; returns how many needed work.

        Unchanged deployments cost no write: the instances are compared with one listing per
        driver, and only deployments that differ are converged.
        """
        snapshot = await self._snapshot()
        async with self._sessions() as session:
            states = await load_states(session, with_secrets=False)
        await self._remove_orphans(snapshot, states)
        for state in states:
            for row in live(state.instances):
                managed = snapshot.get(row.container_id or "")
                # Running but unwatched: adopted while a listing failed, say.
                if (
                    managed is not None
                    and managed.running
                    and not self.health.watching(managed.ref)
                ):
                    self.converger.watch(state.id, row)
        busy = [state.id for state in states if _needs_work(state, snapshot)]
        for deployment_id in busy:
            self.poke(deployment_id)
        for deployment_id in busy:
            await self.settle(deployment_id)
        if self._gateway is not None:
            await self._gateway.routes.sync_all()
        return len(busy)

    async def _remove_orphans(
        self, snapshot: dict[str, ManagedInstance], states: list[DeploymentState]
    ) -> None:
        """Remove what no instance row claims.

        Rows are written before their containers start, so a container is matched by its
        labels too: one being started right now has a row but not yet its reference.
        """
        rows = [(state.deployment.uid, row) for state in states for row in state.instances]
        refs = {row.container_id for _, row in rows}
        instances = {(uid, row.name) for uid, row in rows}
        for ref, managed in snapshot.items():
            claimed = ref in refs or (managed.deployment_id, managed.instance_id) in instances
            if claimed or ref in self.converger.stopping:
                continue
            gateway = self._gateway
            if gateway is not None and gateway.session_instances.holds(managed.instance_id):
                continue  # a live session's own instance (its row is not among the replicas)
            with contextlib.suppress(ConsoleError):
                driver = await self.drivers.get(managed.driver)
                await driver.remove(ref)
                logger.info("removed orphan %s (deployment %s)", ref, managed.deployment_id)
                self._events.publish(
                    {"type": "instance.orphan-removed", "ref": ref, "version": managed.version}
                )

    # -- driver events -------------------------------------------------------------------------

    def _watch_driver(self, driver: RuntimeDriver) -> None:
        if driver.name not in self._watchers:
            self._watchers[driver.name] = asyncio.create_task(
                self._follow(driver), name=f"events {driver.name}"
            )

    async def _follow(self, driver: RuntimeDriver) -> None:
        async for event in driver.events():
            if event.kind == "start" or event.ref in self.converger.stopping:
                continue
            gateway = self._gateway
            if gateway is not None and gateway.session_instances.died(event.ref):
                continue  # a session's instance: its session ends, nothing is restarted
            self.converger.exit_codes[event.ref] = event.exit_code
            deployment_id = await self._deployment_of(event.deployment_id)
            if deployment_id is not None:
                self.poke(deployment_id)

    async def _deployment_of(self, uid: str) -> int | None:
        async with self._sessions() as session:
            result: int | None = await session.scalar(
                select(ServiceDeployment.id).where(ServiceDeployment.uid == uid)
            )
            return result

    # -- health --------------------------------------------------------------------------------

    async def _probe(self, ref: str) -> ProbeResult:
        watched = self.converger.watched.get(ref)
        if watched is None:
            return ProbeResult(ok=False, error="no longer managed")
        gateway = self._gateway
        if gateway is not None and gateway.routes.holds(ref):
            # The gateway reads this stdio channel now: ask through its connection.
            return await gateway.routes.probe(ref, self.settings.health_timeout)
        if watched.driver == REMOTE:
            # With the deployment's headers, at the URL it fronts (not the one shown).
            return await self.drivers.remote.probe(ref, self.settings.health_timeout)
        driver = await self.drivers.get(watched.driver)
        return await probe_instance(
            driver, ref, watched.url, self.leases, self.settings.health_timeout
        )

    async def _report(
        self, ref: str, result: ProbeResult, state: HealthState, changed: bool, counted: bool
    ) -> None:
        watched = self.converger.watched.get(ref)
        if watched is None or not self.health.is_current(ref):
            return  # a probe of an instance replaced meanwhile (same name, new container)
        values: dict[str, Any] = {"last_health_check": utcnow(), "health": state.value}
        masked = self._secrets.cached(watched.deployment_id)
        # A server still loading fails its first probes; that is no error worth showing.
        if not result.ok and result.error and counted:
            values["last_error"] = redact_lines([result.error], masked)[0]
        with contextlib.suppress(ConsoleError):
            driver = await self.drivers.get(watched.driver)
            tail = await driver.logs(ref, STDERR_TAIL_LINES)
            values["stderr_tail"] = "\n".join(redact_lines(tail, masked)) or None
        if changed and state is HealthState.HEALTHY:
            values.update(status=InstanceStatus.RUNNING.value, restart_count=0)
        async with self._sessions.begin() as session:
            await session.execute(
                update(ServiceInstance)
                .where(ServiceInstance.id == watched.instance_id)
                .where(ServiceInstance.container_id == ref)
                .where(ServiceInstance.status != InstanceStatus.DRAINING.value)
                .values(**values)
            )
        if changed:
            self._events.publish(
                {
                    "type": "instance.health",
                    "deployment_id": watched.deployment_id,
                    "ref": ref,
                    "health": state.value,
                    "error": values.get("last_error"),
                }
            )
            await self.sync_routes(watched.deployment_id)
            self.poke(watched.deployment_id)

    # -- routes --------------------------------------------------------------------------------

    async def sync_routes(self, deployment_id: int) -> None:
        """Bring the gateway's route of a deployment in line (a no-op without a gateway)."""
        if self._gateway is not None:
            await self._gateway.routes.sync(deployment_id)

    @asynccontextmanager
    async def stdio(self, driver_name: str, ref: str) -> AsyncIterator[StdioChannel]:
        """A stdio instance's channel, held exclusively (health probes wait meanwhile).

        While the gateway routes the instance it holds the channel, so this waits until
        the instance is no longer routed.
        """
        driver = await self.drivers.get(driver_name)
        async with self.leases.lease(driver, ref) as channel:
            yield channel

    # -- autoscaling ---------------------------------------------------------------------------

    async def autoscale(self, load: LoadSource | None = None) -> int:
        """Ask the autoscaler about every autoscaled deployment; returns how many changed.

        Args:
            load: where the load is read; the serving gateway's figures by default (with
                no gateway and no ``load``, nothing is scaled).
        """
        source = load if load is not None else (self._gateway.load if self._gateway else None)
        if source is None:
            return 0
        return await autoscale_pass(
            self._sessions, self._events, self.autoscaler, source, self.poke
        )

    # -- logs ----------------------------------------------------------------------------------

    async def logs(self, state: DeploymentState, tail: int) -> dict[int, list[str]]:
        """The last lines of each instance: live from its driver, else what was kept."""
        async with self._sessions() as session:
            masked = await self._secrets.known(session, state.id)
        out: dict[int, list[str]] = {}
        for row in state.instances:
            lines = (row.stderr_tail or "").splitlines()
            if row.container_id and row.driver and row.status in live_statuses():
                with contextlib.suppress(ConsoleError):
                    driver = await self.drivers.get(row.driver)
                    lines = await driver.logs(row.container_id, tail)
            out[row.id] = redact_lines(lines[-tail:] if tail > 0 else [], masked)
        return out


def live_statuses() -> frozenset[str]:
    """Statuses in which an instance's driver still has its logs."""
    return frozenset({InstanceStatus.STARTING, InstanceStatus.RUNNING, InstanceStatus.DRAINING})


def _needs_work(state: DeploymentState, snapshot: dict[str, ManagedInstance]) -> bool:
    d = state.deployment
    if d.desired_state != DesiredState.RUNNING:
        return (
            bool(state.instances)
            or d.desired_state == DesiredState.DELETED
            or (compute_status(state)[0].value != d.status)
        )
    if d.target_version_id is not None:
        return True
    for row in state.instances:
        if row.version_id != d.version_id or not state.current(row):
            return True
        if row.status in (InstanceStatus.RESTARTING, InstanceStatus.DRAINING):
            return True
        if row.status in (InstanceStatus.STARTING, InstanceStatus.RUNNING):
            managed = snapshot.get(row.container_id or "")
            if managed is None or not managed.running:
                return True
            if row.health == HealthState.UNHEALTHY and row.driver != REMOTE:
                return True
    if len(state.slots(d.version_id)) != d.replicas:
        return True
    return compute_status(state)[0].value != d.status

"""What the controller does to one instance: start, watch, restart with back-off, retire."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.base import utcnow
from mcp_console.backend.db.models import ServiceDeployment, ServiceInstance
from mcp_console.backend.deploy import history
from mcp_console.backend.deploy.arguments import with_arguments
from mcp_console.backend.deploy.config import ResolvedConfig, resolve_config
from mcp_console.backend.deploy.deployment_record import DeploymentState
from mcp_console.backend.deploy.driver_registry import Drivers
from mcp_console.backend.deploy.drivers.base import (
    InstanceHandle,
    ManagedInstance,
    ResourceLimits,
    RuntimeDriver,
)
from mcp_console.backend.deploy.health import HealthMonitor
from mcp_console.backend.deploy.host_env import files_named, host_values
from mcp_console.backend.deploy.image_pins import ImagePins, pulls_image
from mcp_console.backend.deploy.plan import DOCKER, label_safe, launch_for
from mcp_console.backend.deploy.prepare_steps import PrepareSteps, build_step, install_step
from mcp_console.backend.deploy.remote import REMOTE, endpoints
from mcp_console.backend.deploy.secretstore import DeploymentSecrets, redact, redact_lines
from mcp_console.backend.events import EventBus
from mcp_console.schemas.deploy import HealthState, InstanceStatus
from mcp_console.schemas.errors import Conflict, ConsoleError, NotFound, Unavailable
from mcp_console.settings import DeploySettings

logger = logging.getLogger(__name__)

STDERR_TAIL_LINES = 20
# How many of the server's last lines a failure's reason quotes (a traceback's last frame and
# its exception); the whole tail is kept beside it.
REASON_TAIL_LINES = 3
# Lines the console itself added to a server's log (its exit code, a stray stdout line).
_OWN_NOTE = "[mcp-console] "


def new_instance_name() -> str:
    """A fresh instance id (part of the container or process name)."""
    return "i" + secrets.token_hex(5)


@dataclass(frozen=True, slots=True)
class Watched:
    """What the health monitor needs to probe one instance and file its result."""

    deployment_id: int
    instance_id: int
    driver: str
    url: str | None


class InstanceOps:
    """Instance operations and the bookkeeping around them (rows, history, events)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        events: EventBus,
        drivers: Drivers,
        secrets_store: DeploymentSecrets,
        settings: DeploySettings,
        health: HealthMonitor,
        schedule: Callable[[int, float], None],
        routes_changed: Callable[[int], Awaitable[None]],
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._drivers = drivers
        self._secrets = secrets_store
        self.settings = settings
        self._health = health
        self._schedule = schedule
        self.watched: dict[str, Watched] = {}
        self.stopping: set[str] = set()
        self.exit_codes: dict[str, int | None] = {}
        self._retiring: set[asyncio.Task[None]] = set()
        # Told which deployment's instances changed, so the gateway's routes follow.
        self.routes_changed = routes_changed
        self.pins = ImagePins(sessions, events, drivers.pulls, secrets_store.box)
        self.steps = PrepareSteps(sessions, events)

    # -- one instance --------------------------------------------------------------------------

    async def launch(self, state: DeploymentState, row: ServiceInstance) -> InstanceHandle:
        """Create and start ``row``'s container or process: the deployment's driver, the
        version's recipe, its configuration and secrets, its limits and hardening.

        Returns:
            How to reach the instance (it may still be loading).

        Raises:
            ConsoleError: as the driver raised it (``Unavailable`` when the runtime is away,
                ``Conflict`` while an old instance of that name is still being removed).
        """
        d = state.deployment
        assert row.version_id is not None
        assert d.driver is not None
        if d.driver == REMOTE:
            return await self._attach(state, row.version_id, row.name)
        driver = await self._drivers.get(d.driver)
        recipe = state.recipe(row.version_id)
        planned = launch_for(recipe, d.driver)
        async with self.steps.reported(state, build_step(planned)):
            launch = await self._drivers.prepared(planned, recipe)
        if pulls_image(launch, recipe):
            # The digest this version ran first, pulled now if missing (with progress).
            assert launch.image is not None
            image = await self.pins.image(state, row.version_id, launch.image)
            launch = dataclasses.replace(launch, image=image)
            await self._save(row, image_digest=image)
        config = await self._config(state, row.version_id)
        schema = state.versions[row.version_id].config_schema
        launch = with_arguments(launch, schema, config)
        env, secret_env = config.env, config.secret_env
        passed = self._host_env(state, row.version_id)
        if passed and d.driver == DOCKER:
            # A CA bundle's path means something in the container only if it is there too.
            files = await asyncio.to_thread(files_named, passed)
            launch = dataclasses.replace(launch, mounts=(*launch.mounts, *files))
        # What the deployment configures wins over what the host passes.
        env = {**passed, **env}
        spec = launch.spec(
            deployment_uid=d.uid,
            deployment_name=d.deployment_name,
            instance=row.name,
            version=recipe.version,
            env=env,
            secrets=secret_env,
            limits=_limits(d),
        )
        spec.validate()
        await self.discard(driver, spec.name)
        async with self.steps.reported(state, install_step(launch)):
            return await driver.start(spec)

    async def _attach(self, state: DeploymentState, version_id: int, name: str) -> InstanceHandle:
        """A remote deployment's instance: one of its URLs, with the headers sent there."""
        recipe = state.recipe(version_id)
        async with self._sessions() as session:
            stored = await self._secrets.load_all(session, state.id)
        found = endpoints(
            recipe.service,
            recipe.version,
            recipe.remotes,
            state.versions[version_id].config_schema,
            state.deployment.config,
            stored,
        )
        uid = state.deployment.uid
        return self._drivers.remote.attach(uid, name, label_safe(recipe.version), found)

    async def start(self, state: DeploymentState, row: ServiceInstance) -> None:
        """Start (or start again) one instance; a failure is recorded on its row."""
        d = state.deployment
        assert row.version_id is not None
        try:
            handle = await self.launch(state, row)
        except Unavailable as exc:
            # The runtime itself is away (an engine restarting): retry, never give up.
            reason = f"could not start: {exc.message}"
            await self.failed(state, row, None, reason, None, crash=False)
            return
        except Conflict as exc:
            # The engine is still busy with an old container of that name: try again later.
            await self.failed(state, row, None, f"could not start: {exc.message}", None)
            return
        except ConsoleError as exc:
            # A bad image, package or spec will not start however often it is retried.
            await self.give_up(state, row, f"cannot start: {self.mask(state, exc.message)}")
            return
        await self._save(
            row,
            status=InstanceStatus.STARTING.value,
            health=HealthState.UNKNOWN.value,
            container_id=handle.ref,
            host=handle.host,
            port=handle.port,
            health_check_url=handle.url,
            driver=d.driver,
            next_restart_at=None,
            exit_code=None,
        )
        self.watch(state.id, row)
        version = state.versions[row.version_id].version
        self._publish("instance.started", state, instance=row.name, version=version)

    async def adopted(self, row: ServiceInstance, managed: ManagedInstance) -> None:
        """Record a running container or process found for ``row`` as its instance."""
        await self._save(
            row,
            container_id=managed.ref,
            host=managed.host,
            port=managed.port,
            health_check_url=managed.url,
            driver=managed.driver,
        )

    def watch(self, deployment_id: int, row: ServiceInstance) -> None:
        """Have the health monitor probe ``row``'s container or process."""
        assert row.container_id is not None
        assert row.driver is not None
        self.watched[row.container_id] = Watched(
            deployment_id, row.id, row.driver, row.health_check_url
        )
        self._health.watch(row.container_id)

    async def failed(
        self,
        state: DeploymentState,
        row: ServiceInstance,
        driver: RuntimeDriver | None,
        reason: str,
        code: int | None,
        *,
        crash: bool = True,
    ) -> None:
        """An instance died or turned unhealthy: restart it after a back-off, or give up
        once it has crash-looped (``crash=False``: keep retrying at the longest back-off)."""
        tail = row.stderr_tail
        if driver is not None and row.container_id:
            tail = await self.tail(state, driver, row.container_id) or tail
            await self.discard(driver, row.container_id)
        reason = with_last_lines(reason, tail)
        restarts = row.restart_count + 1
        if crash and restarts > self.settings.crash_loop_restarts:
            await self.give_up(
                state,
                row,
                f"crash loop: {reason} after {row.restart_count} restarts without becoming "
                "healthy; not restarting it again",
                code=code,
                tail=tail,
            )
            return
        delay = min(self.settings.backoff_base * 2 ** (restarts - 1), self.settings.backoff_max)
        await self._save(
            row,
            status=InstanceStatus.RESTARTING.value,
            health=HealthState.UNKNOWN.value,
            restart_count=restarts,
            next_restart_at=utcnow() + timedelta(seconds=delay),
            last_error=reason,
            exit_code=code,
            stderr_tail=tail,
        )
        why = f"{row.name} {reason}; restart {restarts} in {delay:.1f} s"
        await self._record(state, "restart", {"instance": row.name, "restarts": restarts}, why)
        self._publish("instance.restarting", state, instance=row.name, reason=why, delay=delay)
        self._schedule(state.id, delay)

    async def give_up(
        self,
        state: DeploymentState,
        row: ServiceInstance,
        reason: str,
        *,
        code: int | None = None,
        tail: str | None = None,
    ) -> None:
        """Mark an instance FAILED for good (until a user starts the deployment again)."""
        await self._save(
            row,
            status=InstanceStatus.FAILED.value,
            health=HealthState.UNKNOWN.value,
            last_error=reason,
            exit_code=code,
            stderr_tail=tail if tail is not None else row.stderr_tail,
            next_restart_at=None,
        )
        await self._record(state, "instance-failed", {"instance": row.name}, reason)
        self._publish("instance.failed", state, instance=row.name, reason=reason)

    async def retire(
        self, state: DeploymentState, row: ServiceInstance, *, wait: bool = False
    ) -> None:
        """Drain an instance, then stop and remove it and its row (in the background)."""
        if row.status != InstanceStatus.DRAINING:
            await self._save(row, status=InstanceStatus.DRAINING.value)
        ref = row.container_id
        if ref:
            self._health.unwatch(ref)
        if row in state.instances:
            state.instances.remove(row)

        async def finish() -> None:
            if ref and row.driver:
                await self.stop_and_remove(row.driver, ref)
            async with self._sessions.begin() as session:
                await session.execute(delete(ServiceInstance).where(ServiceInstance.id == row.id))
            if not wait:
                await self.routes_changed(state.id)

        if wait:
            await finish()
            return
        task = asyncio.create_task(finish(), name=f"retire {row.name}")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def teardown(self, state: DeploymentState) -> None:
        """Stop and remove every instance of a deployment, and wait until they are gone."""
        rows = [row for row in state.instances if row.status != InstanceStatus.DRAINING]
        await asyncio.gather(*(self.retire(state, row, wait=True) for row in rows))
        await self.drain_retiring()

    async def drain_retiring(self) -> None:
        """Wait for instances being retired in the background."""
        if self._retiring:
            await asyncio.gather(*list(self._retiring), return_exceptions=True)

    async def stop_and_remove(self, driver_name: str, ref: str) -> None:
        """Stop an instance gracefully (killed after the stop timeout), then remove it; its
        exit is not taken for a crash. Errors of a runtime that is away are ignored."""
        with contextlib.suppress(ConsoleError):
            driver = await self._drivers.get(driver_name)
            self.stopping.add(ref)
            try:
                with contextlib.suppress(NotFound):
                    await driver.stop(ref, timeout=self.settings.stop_timeout)
                await self.discard(driver, ref)
            finally:
                self.stopping.discard(ref)

    async def discard(self, driver: RuntimeDriver, ref: str) -> None:
        """Stop watching and remove a container or process if it exists."""
        self._health.unwatch(ref)
        self.watched.pop(ref, None)
        self.stopping.add(ref)
        try:
            with contextlib.suppress(NotFound):
                await driver.remove(ref)
        finally:
            self.stopping.discard(ref)

    # -- helpers -------------------------------------------------------------------------------

    async def _driver(self, state: DeploymentState, row: ServiceInstance) -> RuntimeDriver | None:
        try:
            return await self._drivers.get(row.driver or state.deployment.driver or "process")
        except Unavailable as exc:
            await self._save_deployment(state.deployment, status_reason=exc.message)
            return None

    async def _config(self, state: DeploymentState, version_id: int) -> ResolvedConfig:
        async with self._sessions() as session:
            secrets_ = await self._secrets.load(session, state.id)
        schema = dict(state.versions[version_id].config_schema)
        return resolve_config(schema, dict(state.deployment.config), secrets_)

    def _host_env(self, state: DeploymentState, version_id: int) -> dict[str, str]:
        """The host variables the version and the deployment ask for by name, as far as the
        console passes them and the host has them; nothing else of its environment."""
        names = [*state.versions[version_id].pass_env, *state.deployment.pass_env]
        return host_values(names, self.settings.passable_env, os.environ)

    async def tail(self, state: DeploymentState, driver: RuntimeDriver, ref: str) -> str | None:
        """The last lines an instance wrote to stderr, secret values masked."""
        try:
            lines = await driver.logs(ref, STDERR_TAIL_LINES)
        except ConsoleError:
            return None
        return "\n".join(redact_lines(lines, self._secrets.cached(state.id))) or None

    def mask(self, state: DeploymentState, text: str) -> str:
        """``text`` with the deployment's secret values masked."""
        return redact(text, self._secrets.cached(state.id))

    async def _save(self, row: ServiceInstance, **values: Any) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(ServiceInstance).where(ServiceInstance.id == row.id).values(**values)
            )
        for key, value in values.items():
            setattr(row, key, value)

    async def _save_deployment(self, d: ServiceDeployment, **values: Any) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(ServiceDeployment).where(ServiceDeployment.id == d.id).values(**values)
            )
        for key, value in values.items():
            setattr(d, key, value)

    async def _record(
        self, state: DeploymentState, action: str, changes: dict[str, Any], reason: str
    ) -> None:
        async with self._sessions.begin() as session:
            history.record(session, state.deployment, action, changes=changes, reason=reason)

    def _publish(self, kind: str, state: DeploymentState, **fields: Any) -> None:
        event = {"type": kind, "deployment": state.name, "deployment_id": state.id, **fields}
        masked = self._secrets.cached(state.id)
        for key, value in fields.items():
            if isinstance(value, str):
                event[key] = redact(value, masked)
        self._events.publish(event)


def with_last_lines(reason: str, tail: str | None) -> str:
    """``reason`` followed by the last lines the server wrote (secrets already masked), so
    the error a person reads says why, not only that, it failed."""
    lines = [line.strip() for line in (tail or "").splitlines()]
    said = [line for line in lines if line and not line.startswith(_OWN_NOTE)]
    if not said:
        return reason
    return f"{reason}; it wrote last: {' / '.join(said[-REASON_TAIL_LINES:])}"


async def alive(driver: RuntimeDriver, ref: str) -> bool:
    """Whether the instance runs (a missing one does not)."""
    try:
        return await driver.is_running(ref)
    except NotFound:
        return False


def _limits(d: ServiceDeployment) -> ResourceLimits:
    defaults = ResourceLimits()
    return ResourceLimits(
        cpus=d.cpu_limit if d.cpu_limit is not None else defaults.cpus,
        memory_mb=d.memory_limit_mb if d.memory_limit_mb is not None else defaults.memory_mb,
        pids=defaults.pids,
    )

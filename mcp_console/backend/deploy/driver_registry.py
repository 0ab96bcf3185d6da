"""The drivers one backend uses: processes always, Docker when an engine answers, and the
remote driver for servers running elsewhere."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Callable

from mcp_console.backend.deploy.drivers.base import (
    LABEL_DEPLOYMENT,
    LABEL_INSTANCE,
    LABEL_MANAGED,
    LABEL_TRANSPORT,
    LABEL_VERSION,
    ManagedInstance,
    PackageSource,
    RuntimeDriver,
)
from mcp_console.backend.deploy.drivers.docker import DockerManager
from mcp_console.backend.deploy.drivers.engine import Engine
from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.deploy.drivers.remote import RemoteDriver
from mcp_console.backend.deploy.drivers.venvs import VenvCache
from mcp_console.backend.deploy.images import ImageBuilder
from mcp_console.backend.deploy.local_packages import LocalPackages, local_packages_dir
from mcp_console.backend.deploy.node import NodeToolchain
from mcp_console.backend.deploy.plan import (
    DOCKER,
    PROCESS,
    Launch,
    Recipe,
    image_repository,
    with_built_image,
)
from mcp_console.backend.deploy.pull import ImagePuller
from mcp_console.backend.deploy.pypi_release import PypiIndex
from mcp_console.backend.deploy.remote import REMOTE, why_not_remote
from mcp_console.backend.ports import LogSink
from mcp_console.schemas.deploy import RuntimeChoice
from mcp_console.schemas.errors import ConsoleError, Invalid, Unavailable
from mcp_console.settings import Settings

logger = logging.getLogger(__name__)

SCOPE_LABEL = "io.mcp-console.scope"
# How long "no engine" is believed before the engine is asked again.
_RETRY_SECONDS = 30.0
_PROBE_TIMEOUT = 5.0
_EXITED_RE = re.compile(r"^Exited \((-?\d+)\)")


def console_scope(settings: Settings) -> str:
    """The label value separating this console's containers from other consoles' on one engine."""
    if settings.deploy.scope:
        return settings.deploy.scope
    return hashlib.sha256(settings.resolved_database_url.encode()).hexdigest()[:16]


class Drivers:
    """Creates the drivers lazily: a CLI command that deploys nothing never touches Docker.

    ``settings.runtime`` picks the default for deployments asking for ``auto``: ``docker``,
    ``process``, or ``auto`` (Docker when an engine answers, else processes).
    """

    def __init__(self, settings: Settings, *, log_sink: LogSink | None = None) -> None:
        self.settings = settings
        # Told every line an instance writes (monitoring's log store).
        self._log_sink = log_sink
        self.scope = console_scope(settings)
        # One npm install cache and Node.js finder for processes and images alike.
        # Packages published to the console itself (dev publish), found before the registries.
        local = LocalPackages(
            local_packages_dir(settings), max_bytes=settings.deploy.package_max_bytes
        )
        self.packages = local
        self.node = NodeToolchain(settings.node, local=local)
        # One lookup of PyPI releases (Requires-Python, upload time) for venvs and images.
        self.pypi = PypiIndex(settings.pypi, local=local)
        venvs = VenvCache(settings.data_dir / "venvs", settings.pypi, index=self.pypi)
        self.process = ProcessManager(
            settings.data_dir, venvs=venvs, node=self.node, log_sink=log_sink
        )
        self.remote = RemoteDriver()
        self.engine = Engine()
        self.images = ImageBuilder(settings.images, self.engine, node=self.node, pypi=self.pypi)
        self.pulls = ImagePuller(self.engine, mirror=settings.images.registry_mirror)
        self._docker: DockerManager | None = None
        self._docker_error: str | None = None
        self._checked_at = 0.0
        self._lock = asyncio.Lock()
        # Told when the Docker driver appears (the controller follows its events).
        self._on_connect: Callable[[RuntimeDriver], None] | None = None

    def follow_connections(self, on_connect: Callable[[RuntimeDriver], None] | None) -> None:
        """Call ``on_connect`` with each driver that appears from now on (``None``: stop)."""
        self._on_connect = on_connect

    async def docker(self) -> DockerManager:
        """The Docker driver.

        Raises:
            Unavailable: no engine answers (the message says how to fix it).
        """
        if self._docker is not None:
            return self._docker
        async with self._lock:
            if self._docker is None:
                if self._docker_error and time.monotonic() - self._checked_at < _RETRY_SECONDS:
                    raise Unavailable(self._docker_error)
                self._checked_at = time.monotonic()
                try:
                    async with asyncio.timeout(_PROBE_TIMEOUT):
                        await self.engine.client()
                except (Unavailable, TimeoutError) as exc:
                    self._docker_error = (
                        str(exc) or f"the Docker engine at {self.engine.where} did not answer"
                    )
                    raise Unavailable(self._docker_error) from None
                self._docker_error = None
                self._docker = DockerManager(
                    self.engine, scope_labels={SCOPE_LABEL: self.scope}, log_sink=self._log_sink
                )
                if self._on_connect is not None:
                    self._on_connect(self._docker)
        return self._docker

    async def resume_output(self, managed: ManagedInstance) -> None:
        """Collect a running instance's output again after a restart of the backend (Docker
        HTTP containers; processes do not outlive it, stdio channels reattach by themselves)."""
        if managed.driver == DOCKER and self._docker is not None:
            try:
                await self._docker.resume_output(managed)
            except ConsoleError as exc:
                # Its output stays in the engine's log; the instance itself is fine.
                logger.warning("cannot read the output of %s again: %s", managed.ref, exc)

    async def docker_available(self) -> bool:
        """Whether an engine answers (asked again at most every 30 s while it does not)."""
        try:
            await self.docker()
        except Unavailable:
            return False
        return True

    async def get(self, name: str) -> RuntimeDriver:
        """The driver called ``name`` (``docker``, ``process`` or ``remote``)."""
        if name == DOCKER:
            return await self.docker()
        if name == PROCESS:
            return self.process
        if name == REMOTE:
            return self.remote
        raise Invalid(f"unknown runtime {name!r}; use docker or process", field="runtime")

    def started(self) -> list[RuntimeDriver]:
        """The drivers in use now (Docker only once connected)."""
        drivers: list[RuntimeDriver] = [self.process]
        if self._docker is not None:
            drivers.append(self._docker)
        return drivers

    async def snapshot(self) -> list[ManagedInstance]:
        """What every started driver runs now, in one cheap listing per driver.

        For Docker this reads the engine's container list (one API call) rather than
        ``list_managed``, which inspects each container: a reconcile pass over hundreds of
        unchanged deployments must stay in the tens of milliseconds. Ports and URLs are not
        filled in; the controller only compares names and states.
        """
        found = await self.process.list_managed() + await self.remote.list_managed()
        if self._docker is not None:
            client = await self.engine.client()
            filters = {"label": [f"{LABEL_MANAGED}=true", f"{SCOPE_LABEL}={self.scope}"]}
            rows = await self.engine.call(client.api.containers, all=True, filters=filters)
            found += [_summary(DOCKER, row) for row in rows]
        return found

    async def choose(self, requested: RuntimeChoice, recipe: Recipe, *, urls: bool = False) -> str:
        """The driver a new deployment of ``recipe`` runs on; with ``urls`` (given by hand)
        it fronts them (``remote``). Left to choose, a version that runs here runs here, and
        one that only has remote endpoints fronts them.

        Raises:
            Invalid: the version cannot run on the requested runtime.
            Unavailable: Docker was asked for (or is the only way to run it) and no engine answers.
        """
        wanted = requested.value
        if urls or wanted == REMOTE:
            if wanted not in (REMOTE, RuntimeChoice.AUTO.value):
                raise Invalid(
                    f"URLs are fronted where their server runs; they cannot run on {wanted}: "
                    "leave the runtime out (or choose remote)",
                    field="runtime",
                )
            if not urls and not recipe.runs_on(REMOTE):
                raise Invalid(
                    why_not_remote(recipe.service, recipe.version, recipe.remotes),
                    field="runtime",
                )
            return REMOTE
        local = recipe.runs_on(DOCKER) or recipe.runs_on(PROCESS)
        if wanted == RuntimeChoice.AUTO.value and not local and recipe.runs_on(REMOTE):
            return REMOTE
        if wanted == RuntimeChoice.AUTO.value and self.settings.runtime in (DOCKER, PROCESS):
            wanted = self.settings.runtime
        if wanted == DOCKER:
            if not recipe.runs_on(DOCKER):
                raise Invalid(recipe.why_not(DOCKER), field="runtime")
            await self.docker()
            return DOCKER
        if wanted == PROCESS:
            if not recipe.runs_on(PROCESS):
                raise Invalid(recipe.why_not(PROCESS), field="runtime")
            return await self._on_this_machine(recipe)
        if recipe.runs_on(DOCKER) and await self.docker_available():
            return DOCKER
        if recipe.runs_on(PROCESS):
            return await self._on_this_machine(recipe)
        if recipe.runs_on(DOCKER):
            raise Unavailable(
                f"{recipe.service} {recipe.version} runs only on Docker and "
                f"{self._docker_error or 'no Docker engine answers'}"
            )
        raise Invalid(recipe.why_not(PROCESS), field="version")

    async def _on_this_machine(self, recipe: Recipe) -> str:
        """``process``, once a PyPI release is known to have a Python here: one that needs
        another, or is not on the index, is refused now, naming why (an index that cannot be
        reached now is left for the instance's start to report)."""
        package = recipe.pypi
        version = package.get("version") if package is not None else None
        if package is not None and version:
            source = PackageSource(str(package.get("identifier")), str(version))
            with contextlib.suppress(Unavailable):
                source.validate()
                await self.process.venvs.interpreter_for(source)
        return PROCESS

    async def prepared(self, launch: Launch, recipe: Recipe) -> Launch:
        """``launch`` ready to start: on Docker, the image the console builds for it (once)."""
        return await with_built_image(launch, image_repository(recipe.service), self.images)

    async def close(self) -> None:
        """Release the drivers: processes stop, containers keep running."""
        await self.process.close()
        await self.remote.close()
        if self._docker is not None:
            await self._docker.close()
        await self.engine.close()


def _summary(driver: str, row: dict[str, object]) -> ManagedInstance:
    """A managed instance from one entry of the engine's container list."""
    labels = row.get("Labels")
    labels = dict(labels) if isinstance(labels, dict) else {}
    names = row.get("Names")
    name = str(names[0]).lstrip("/") if isinstance(names, list) and names else ""
    running = row.get("State") == "running"
    exited = _EXITED_RE.match(str(row.get("Status") or ""))
    return ManagedInstance(
        driver=driver,
        ref=name,
        name=name,
        deployment_id=labels.get(LABEL_DEPLOYMENT, ""),
        instance_id=labels.get(LABEL_INSTANCE, ""),
        version=labels.get(LABEL_VERSION, ""),
        transport="streamable-http"
        if labels.get(LABEL_TRANSPORT) == "streamable-http"
        else "stdio",
        running=running,
        exit_code=int(exited.group(1)) if exited and not running else None,
        labels=labels,
    )

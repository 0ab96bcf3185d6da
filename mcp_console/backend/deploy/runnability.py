"""Which versions of a service can run on this machine, on which runtime, and why not."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable

from mcp_console.backend.catalog.service import CatalogService
from mcp_console.backend.deploy.driver_registry import Drivers
from mcp_console.backend.deploy.drivers.base import PackageSource
from mcp_console.backend.deploy.plan import DOCKER, PROCESS, Launch, Recipe, launch_for
from mcp_console.backend.deploy.pypi_release import Release
from mcp_console.backend.deploy.remote import REMOTE
from mcp_console.schemas.catalog import VersionView
from mcp_console.schemas.errors import ConsoleError, Invalid, Unavailable
from mcp_console.schemas.runnability import RuntimeFit, VersionRunnability
from mcp_console.schemas.users import Principal
from mcp_console.schemas.version_source import PYTHON_PLACEHOLDER

# How long an answer is kept: an engine may come back, an image be pulled, a Python added.
CACHE_SECONDS = 60.0
# Versions looked at together (each may ask the package index once, then never again).
_CONCURRENT = 4


def recipe_of(service: str, version: VersionView) -> Recipe:
    """The recipe of a version as the catalog shows it."""
    return Recipe(
        service=service,
        version=version.version,
        transport=version.transport.value,
        docker_image=version.docker_image,
        packages=tuple(p.model_dump(mode="json") for p in version.packages),
        command=tuple(version.command),
        system_packages=tuple(version.system_packages),
        remotes=tuple(version.remotes),
    )


class Runnability:
    """Answers, per version, whether it can run here: on Docker (an engine answers; its
    image is there or will be pulled or built, on a base with a Python it accepts), as a
    process (a Python its release requires, a Node.js or one from the registry, the
    program and system packages it runs), or fronted remotely.

    Answers are cheap to ask for: nothing is installed or pulled, the package index is asked
    once per release (then read from its cache), and each answer is kept ``CACHE_SECONDS``.

    Args:
        catalog: whose services' versions are looked at (as the caller may see them).
        drivers: the machine's runtimes.
        clock: seconds, for the cache (monotonic).
    """

    def __init__(
        self,
        catalog: CatalogService,
        drivers: Drivers,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._catalog = catalog
        self._drivers = drivers
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, VersionRunnability]] = {}
        self._limit = asyncio.Semaphore(_CONCURRENT)

    async def of_service(self, actor: Principal | None, name: str) -> list[VersionRunnability]:
        """Each version of ``name`` the caller may see, newest first, with its fits.

        Raises:
            NotFound: no such service visible to the caller.
        """
        service = await self._catalog.get_service(actor, name)
        recipes = [recipe_of(service.name, v) for v in service.versions]
        return list(await asyncio.gather(*(self.of(r) for r in recipes)))

    async def of(self, recipe: Recipe) -> VersionRunnability:
        """Whether ``recipe`` runs here (answered from the cache when asked recently)."""
        key = (recipe.service, recipe.version)
        kept = self._cache.get(key)
        if kept is not None and self._clock() - kept[0] < CACHE_SECONDS:
            return kept[1]
        async with self._limit:
            found = await self._answer(recipe)
        self._cache[key] = (self._clock(), found)
        return found

    async def _answer(self, recipe: Recipe) -> VersionRunnability:
        release = await self._release(recipe)
        fits = [await self._docker(recipe, release), await self._process(recipe, release)]
        if recipe.remotes:
            fits.append(remote_fit(recipe))
        requires = None
        if isinstance(release, Release) and release.requires_python:
            requires = f"Python {release.requires_python}"
        elif recipe.npm is not None and not recipe.pypi:
            requires = f"Node.js >={self._drivers.node.settings.minimum_major}"
        return VersionRunnability.of(recipe.version, fits, requires)

    async def _release(self, recipe: Recipe) -> Release | ConsoleError | None:
        """The PyPI release the version installs (or why it cannot be looked up)."""
        package = recipe.pypi
        if package is None or recipe.docker_image or not package.get("version"):
            return None
        try:
            return await self._drivers.pypi.release(
                str(package.get("identifier")), str(package["version"])
            )
        except ConsoleError as exc:
            return exc

    # -- Docker ---------------------------------------------------------------------------

    async def _docker(self, recipe: Recipe, release: Release | ConsoleError | None) -> RuntimeFit:
        launch = _launch(recipe, DOCKER)
        if isinstance(launch, RuntimeFit):
            return launch
        if not await self._drivers.docker_available():
            return RuntimeFit(runtime=DOCKER, runs=False, note="no Docker engine answers")
        try:
            note = await self._docker_note(recipe, launch, release)
        except Invalid as exc:
            return RuntimeFit(runtime=DOCKER, runs=False, note=_short(recipe, exc.message))
        except ConsoleError as exc:
            return RuntimeFit(runtime=DOCKER, runs=True, note=_short(recipe, exc.message))
        return RuntimeFit(runtime=DOCKER, runs=True, note=note)

    async def _docker_note(
        self, recipe: Recipe, launch: Launch, release: Release | ConsoleError | None
    ) -> str:
        if launch.image is not None:
            if await self._drivers.pulls.present(launch.image):
                return ""
            return "image not on the engine: will pull"
        if launch.npm is not None:
            return "builds its image once, with the registry's Node.js"
        if launch.example:
            return ""
        if isinstance(release, ConsoleError):
            raise release
        assert release is not None
        if not release.has_wheel:
            raise Invalid("published as source only: images install wheels")
        python, _ = self._drivers.images.base_for(release)
        return f"builds its image once, on Python {python}"

    # -- processes ------------------------------------------------------------------------

    async def _process(self, recipe: Recipe, release: Release | ConsoleError | None) -> RuntimeFit:
        launch = _launch(recipe, PROCESS)
        if isinstance(launch, RuntimeFit):
            return launch
        try:
            if launch.package is not None:
                return await self._python(launch.package, release)
            if launch.npm is not None:
                return await self._node()
        except ConsoleError as exc:
            return RuntimeFit(runtime=PROCESS, runs=False, note=_short(recipe, exc.message))
        program = launch.command[0] if launch.command else ""
        if program and program != PYTHON_PLACEHOLDER and shutil.which(program) is None:
            # A PATH lookup: a few ``stat`` calls, cheap enough on the loop.
            return RuntimeFit(
                runtime=PROCESS, runs=False, note=f"program {program} not found on this machine"
            )
        return RuntimeFit(runtime=PROCESS, runs=True)

    async def _python(
        self, package: PackageSource, release: Release | ConsoleError | None
    ) -> RuntimeFit:
        if isinstance(release, Unavailable):
            return RuntimeFit(
                runtime=PROCESS,
                runs=True,
                note="the package index cannot be reached: its Python is not known yet",
            )
        if isinstance(release, ConsoleError):
            raise release
        assert release is not None
        interpreters = self._drivers.process.venvs.interpreters
        chosen = await interpreters.pick(release.requires_python)
        if chosen is None:
            have = ", ".join(sorted({i.minor for i in await interpreters.available()}))
            return RuntimeFit(
                runtime=PROCESS,
                runs=False,
                note=f"needs Python {release.requires_python}; this machine has {have}",
            )
        return RuntimeFit(runtime=PROCESS, runs=True, note=f"on Python {chosen.minor}")

    async def _node(self) -> RuntimeFit:
        node = self._drivers.node
        minimum = node.settings.minimum_major
        machine = await node.machine_node()
        if machine is not None and machine.version[0] >= minimum:
            return RuntimeFit(runtime=PROCESS, runs=True, note=f"on Node.js {machine.version_text}")
        have = f"Node.js {machine.version_text}" if machine is not None else "no Node.js"
        try:
            node.client.executable()
        except Invalid:
            return RuntimeFit(
                runtime=PROCESS,
                runs=False,
                note=f"needs Node.js {minimum} or newer; this machine has {have} and no npm",
            )
        return RuntimeFit(
            runtime=PROCESS,
            runs=True,
            note=f"needs Node.js {minimum}+ (this machine has {have}): will use the "
            f"registry's Node.js {node.settings.registry_node}",
        )


def _launch(recipe: Recipe, driver: str) -> Launch | RuntimeFit:
    """How ``driver`` would run ``recipe``, or its refusal as a fit."""
    if not recipe.runs_on(driver):
        return RuntimeFit(
            runtime=driver, runs=False, note=nothing_for(recipe, driver), offered=False
        )
    try:
        return launch_for(recipe, driver)
    except Invalid as exc:
        return RuntimeFit(runtime=driver, runs=False, note=_short(recipe, exc.message))


def nothing_for(recipe: Recipe, driver: str) -> str:
    """Why ``driver`` has no way at all to run ``recipe`` (it lacks what that would take)."""
    if not (recipe.docker_image or recipe.pypi or recipe.npm or recipe.command):
        if recipe.packages:
            kinds = ", ".join(sorted({str(p.get("registry_type")) for p in recipe.packages}))
            return f"packaged as {kinds}, which the console does not install"
        if recipe.remotes:
            return "runs elsewhere (remote endpoints only)"
        return "nothing to run"
    if driver == DOCKER:
        return "no image, and no PyPI or npm package to build one from"
    return "published as an image only"


def remote_fit(recipe: Recipe) -> RuntimeFit:
    """Whether the gateway can front ``recipe``'s remote endpoints."""
    if recipe.runs_on(REMOTE):
        return RuntimeFit(runtime=REMOTE, runs=True)
    return RuntimeFit(
        runtime=REMOTE,
        runs=False,
        note="its endpoints are not streamable-http, which the gateway fronts",
    )


def _short(recipe: Recipe, message: str) -> str:
    """``message`` without the ``service version`` it starts with (the page names them)."""
    for prefix in (f"{recipe.service} {recipe.version}: ", f"{recipe.service} {recipe.version} "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message

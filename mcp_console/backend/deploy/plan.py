"""A catalog version as what a driver runs: image, package (PyPI, npm), command, and transport
(or, for a remote deployment, the endpoints it fronts: see ``remote``)."""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp_console.backend.db.models import ServiceVersion
from mcp_console.backend.deploy.drivers.base import (
    TRANSPORTS,
    InstanceSpec,
    NpmPackage,
    PackageSource,
    ResourceLimits,
    Transport,
)
from mcp_console.backend.deploy.npm_plan import NPM, npm_package
from mcp_console.backend.deploy.remote import REMOTE, streamable_remotes, why_not_remote
from mcp_console.schemas.config_schema import not_a_value
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.version_source import PYTHON_PLACEHOLDER

if TYPE_CHECKING:
    from mcp_console.backend.deploy.images import ImageBuilder

logger = logging.getLogger(__name__)

DOCKER = "docker"
PROCESS = "process"
PYPI = "pypi"
# The console's own example server: a process on the console's Python, or its image on Docker.
EXAMPLE_COMMAND = (PYTHON_PLACEHOLDER, "-m", "mcp_console.devtools.example_server")
_IMAGE_NAME_RE = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Recipe:
    """The runnable parts of one catalog version, detached from the database."""

    service: str
    version: str
    transport: str
    docker_image: str | None = None
    packages: tuple[Mapping[str, Any], ...] = ()
    command: tuple[str, ...] = ()
    system_packages: tuple[str, ...] = ()
    remotes: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def of(cls, service: str, row: ServiceVersion) -> Recipe:
        """The recipe of a version row."""
        return cls(
            service=service,
            version=row.version,
            transport=row.transport,
            docker_image=row.docker_image,
            packages=tuple(dict(p) for p in row.packages),
            command=tuple(str(c) for c in row.command),
            system_packages=tuple(str(p) for p in row.system_packages),
            remotes=tuple(dict(r) for r in row.remotes),
        )

    @property
    def pypi(self) -> Mapping[str, Any] | None:
        """The first PyPI package, if the version has one."""
        return next((p for p in self.packages if p.get("registry_type") == PYPI), None)

    @property
    def npm(self) -> Mapping[str, Any] | None:
        """The first npm package, if the version has one."""
        return next((p for p in self.packages if p.get("registry_type") == NPM), None)

    @property
    def example_args(self) -> tuple[str, ...] | None:
        """The arguments given to the console's example server, if that is what runs."""
        if self.docker_image or self.command[: len(EXAMPLE_COMMAND)] != EXAMPLE_COMMAND:
            return None
        return self.command[len(EXAMPLE_COMMAND) :]

    def runs_on(self, driver: str) -> bool:
        """Whether this version can run on ``driver`` (``remote``: it has an endpoint the
        gateway can front)."""
        if driver == REMOTE:
            return bool(streamable_remotes(self.remotes))
        if driver == DOCKER:
            return bool(self.docker_image or self.pypi or self.npm or self.example_args is not None)
        # A command next to an image is the image's arguments, not a program of its own.
        return bool(self.pypi or self.npm or (self.command and not self.docker_image))

    def why_not(self, driver: str) -> str:
        """Why the version cannot run on ``driver`` (for error messages)."""
        if driver == REMOTE:
            return why_not_remote(self.service, self.version, self.remotes)
        if self.remotes and not self.runs_on(DOCKER) and not self.runs_on(PROCESS):
            if not self.runs_on(REMOTE):
                return why_not_remote(self.service, self.version, self.remotes)
            return (
                f"{self.service} {self.version} runs elsewhere (it has a remote endpoint only); "
                "choose the remote runtime"
            )
        if driver == DOCKER:
            return (
                f"{self.service} {self.version} has no Docker image and no PyPI or npm package; "
                "choose the process runtime"
            )
        if self.docker_image:
            return (
                f"{self.service} {self.version} is published as a Docker image only; "
                "choose the docker runtime"
            )
        kinds = sorted({str(p.get("registry_type")) for p in self.packages})
        if kinds:
            return (
                f"{self.service} {self.version} is packaged as {', '.join(kinds)}; "
                "only PyPI and npm packages, images and commands can be deployed"
            )
        return f"{self.service} {self.version} has nothing to run (no image, package or command)"


@dataclass(frozen=True, slots=True)
class Launch:
    """What one driver starts for a version; ``image`` is filled in once built for Docker."""

    driver: str
    transport: Transport
    image: str | None = None
    package: PackageSource | None = None
    npm: NpmPackage | None = None
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    # Paths of this machine a container sees read-only (what the arguments name).
    mounts: tuple[str, ...] = ()
    # For the image built on Docker: the Debian packages it installs, and whether it is the
    # console's example server rather than ``package``'s.
    system_packages: tuple[str, ...] = ()
    example: bool = False

    def spec(
        self,
        *,
        deployment_uid: str,
        deployment_name: str,
        instance: str,
        version: str,
        env: Mapping[str, str],
        secrets: Mapping[str, str],
        limits: ResourceLimits,
    ) -> InstanceSpec:
        """The driver's spec for one instance."""
        return InstanceSpec(
            deployment_id=deployment_uid,
            instance_id=instance,
            version=label_safe(version),
            transport=self.transport,
            deployment_name=deployment_name,
            image=self.image,
            package=self.package,
            npm=self.npm,
            command=self.command,
            args=self.args,
            env=dict(env),
            secrets=dict(secrets),
            mounts=self.mounts,
            limits=limits,
        )


def label_safe(version: str) -> str:
    """A version as the drivers' version label accepts it."""
    return re.sub(r"[^A-Za-z0-9.+!_-]", "_", version)[:64] or "0"


def image_repository(service: str) -> str:
    """A service name as one image repository component (``acme/weather`` → ``acme-weather``)."""
    return _IMAGE_NAME_RE.sub("-", service.lower()).strip("-._") or "service"


def transport_of(recipe: Recipe) -> Transport:
    """The version's transport, if a driver can serve it."""
    if recipe.transport not in TRANSPORTS:
        raise Invalid(
            f"{recipe.service} {recipe.version} speaks {recipe.transport}, which cannot be "
            f"deployed; supported: {', '.join(TRANSPORTS)}",
            field="version",
        )
    return recipe.transport


def _package_source(package: Mapping[str, Any]) -> PackageSource:
    version = package.get("version")
    if not version:
        raise Invalid(
            f"PyPI package {package.get('identifier')} has no exact version to install",
            field="version",
        )
    # Which of its programs runs, when the package has several (see ``choose_entry``).
    entrypoint = package.get("entrypoint")
    source = PackageSource(
        str(package.get("identifier")), str(version), str(entrypoint) if entrypoint else None
    )
    source.validate()
    return source


def _package_arguments(recipe: Recipe, package: Mapping[str, Any]) -> tuple[str, ...]:
    """A PyPI package's arguments; one the catalog holds as an instruction is never passed."""
    args = _strings(package.get("arguments"))
    for arg in args:
        why = not_a_value(arg)
        if why is not None:
            raise Invalid(
                f"{recipe.service} {recipe.version}: the catalog's argument {arg!r} is {why}; "
                "import the version again (such a value becomes a setting to give) or give "
                "the argument as a {name} placeholder",
                field="version",
            )
    return args


def _strings(values: Sequence[Any] | None) -> tuple[str, ...]:
    return tuple(str(v) for v in values or ())


def missing_on_host(packages: Sequence[str]) -> list[str]:
    """The system packages whose program this machine lacks (no executable of that name).

    A PATH lookup, a few ``stat`` calls: cheap enough to run on the loop.
    """
    return [name for name in packages if shutil.which(name) is None]


def launch_for(recipe: Recipe, driver: str) -> Launch:
    """How ``driver`` runs ``recipe``; a Docker launch of a package or of the example server
    still needs its image built (``with_built_image``).

    Raises:
        Invalid: the version cannot run on that driver (the message says what would), or
            needs system packages the process runtime finds missing on this machine.
    """
    if not recipe.runs_on(driver):
        raise Invalid(recipe.why_not(driver), field="runtime")
    transport = transport_of(recipe)
    package = recipe.pypi
    if driver == DOCKER:
        # A ready-made image brings its own system packages; the console installs them only
        # into the images it builds.
        if recipe.docker_image:
            return Launch(DOCKER, transport, image=recipe.docker_image, args=recipe.command)
        if package is None and recipe.npm is not None:
            if recipe.system_packages:
                raise Invalid(
                    f"{recipe.service} {recipe.version} needs system packages, which the "
                    "console installs into images of PyPI packages only; choose the process "
                    "runtime",
                    field="runtime",
                )
            return _npm_launch(DOCKER, transport, recipe.npm)
        if package is None:
            assert recipe.example_args is not None
            return Launch(
                DOCKER,
                transport,
                args=recipe.example_args,
                system_packages=recipe.system_packages,
                example=True,
            )
        return Launch(
            DOCKER,
            transport,
            package=_package_source(package),
            args=_package_arguments(recipe, package),
            system_packages=recipe.system_packages,
        )
    missing = missing_on_host(recipe.system_packages)
    if missing:
        names = " ".join(missing)
        raise Invalid(
            f"{recipe.service} {recipe.version} needs the system package"
            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}, missing on this machine "
            f"(no {names} program found); install {'them' if len(missing) > 1 else 'it'} "
            f"(e.g. apt-get install {names}) or choose the docker runtime, which installs "
            "system packages into the image",
            field="runtime",
        )
    if package is None and recipe.npm is not None:
        return _npm_launch(PROCESS, transport, recipe.npm)
    if package is not None:
        return Launch(
            PROCESS,
            transport,
            package=_package_source(package),
            args=_package_arguments(recipe, package),
        )
    return Launch(PROCESS, transport, command=recipe.command)


def _npm_launch(driver: str, transport: Transport, package: Mapping[str, Any]) -> Launch:
    return Launch(
        driver, transport, npm=npm_package(package), args=_strings(package.get("arguments"))
    )


async def with_built_image(launch: Launch, repository: str, images: ImageBuilder) -> Launch:
    """``launch`` ready to start: on Docker, the image the console builds for it (once).

    Raises:
        Invalid: the image cannot be built (an unknown system package, a failed download or
            build; the message says which).
        NotFound: the base image is missing.
        Unavailable: the engine cannot be reached.
    """
    if launch.driver != DOCKER or launch.image is not None:
        return launch
    if launch.package is not None:
        built = await images.ensure_package_image(
            repository, launch.package, system_packages=launch.system_packages
        )
    elif launch.npm is not None:
        built = await images.ensure_npm_image(repository, launch.npm)
    elif launch.example:
        built = await images.ensure_example_image(system_packages=launch.system_packages)
    else:
        return launch
    if not built.reused:
        logger.info("built %s in %.1f s", built.tag, built.seconds)
    return dataclasses.replace(launch, image=built.tag, package=None, npm=None, example=False)

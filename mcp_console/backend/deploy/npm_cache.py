"""One install per npm package version, kept on disk and reused: npm's counterpart of the venvs."""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from mcp_console.backend.deploy.drivers.base import NpmPackage
from mcp_console.backend.deploy.local_packages import LocalPackages, sha256_of
from mcp_console.backend.deploy.npm_client import NpmClient, NpmError
from mcp_console.schemas.errors import Invalid

logger = logging.getLogger(__name__)

MANIFEST = "mcp-console-install.json"
_SHOWN_VERSIONS = 5


@dataclass(frozen=True, slots=True)
class InstalledPackage:
    """An installed package version: its directory, executables and what it asks of Node.js.

    ``bins`` maps each executable to its script, relative to ``root``; ``engines`` holds the
    ``engines.node`` range of every package in the tree (``name@version``, range);
    ``skipped_scripts`` names the packages whose install scripts did not run.
    """

    root: Path
    name: str
    version: str
    bins: Mapping[str, str]
    engines: tuple[tuple[str, str], ...]
    skipped_scripts: tuple[str, ...] = ()

    @property
    def spec(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    def script(self, wanted: str | None = None) -> str:
        """The script to run, relative to ``root``: the executable ``wanted``, else the only
        one, else the one named like the package (npx's rule).

        Raises:
            Invalid: there is no such executable, none at all, or no way to choose.
        """
        if wanted is not None:
            if wanted not in self.bins:
                raise Invalid(
                    f"{self.spec} has no executable {wanted!r}; it has: "
                    f"{', '.join(sorted(self.bins)) or 'none'}",
                    field="package.bin",
                )
            return self.bins[wanted]
        if len(self.bins) == 1:
            return next(iter(self.bins.values()))
        unscoped = self.name.rsplit("/", 1)[-1]
        if unscoped in self.bins:
            return self.bins[unscoped]
        if not self.bins:
            raise Invalid(
                f'{self.spec} declares no executable (no "bin" in its package.json): '
                "there is nothing to run",
                field="package",
            )
        raise Invalid(
            f"{self.spec} has several executables ({', '.join(sorted(self.bins))}) and none "
            "is named like the package; the catalog entry must say which",
            field="package.bin",
        )


class NpmCache:
    """``<root>/<name>@<version>/``: a package version installed once with npm, then reused
    with no registry access (offline-safe).

    An install resolves dependencies as they were when the version was published (npm's
    ``--before``), so every machine gets the tree its author shipped, recorded in the
    directory's ``package-lock.json``. Install scripts never run: installing executes none
    of the package's code here, the server itself runs where its runtime confines it (a
    container on Docker). A directory is complete once renamed into place with its
    manifest; locks serialise installs within this process and between processes.

    A version published to the console itself (``local``: its ``npm pack`` tarball) is
    installed from that tarball, its dependencies from the registry as they are today; its
    install is kept by the tarball's digest, so other bytes never reuse it.

    Args:
        root: where the installs live.
        client: the npm client.
        local: the packages published to the console.
    """

    def __init__(
        self, root: Path, client: NpmClient, *, local: LocalPackages | None = None
    ) -> None:
        self.root = root
        self.client = client
        self.local = local
        self._locks: dict[str, asyncio.Lock] = {}

    def path_for(self, package: NpmPackage) -> Path:
        """Where ``package``'s install lives (``@scope/name`` → ``@scope+name@1.2.3``)."""
        return self.root / f"{package.name.replace('/', '+')}@{package.version}"

    def local_tarball(self, package: NpmPackage) -> Path | None:
        """The tarball of ``package`` published to the console, if it was."""
        return self.local.tarball(package.name, package.version) if self.local else None

    async def _target(self, package: NpmPackage) -> tuple[Path, Path | None]:
        """Where ``package``'s install lives, and the console's own tarball of it if any."""
        tarball = await asyncio.to_thread(self.local_tarball, package)
        if tarball is None:
            return self.path_for(package), None
        digest = await asyncio.to_thread(sha256_of, tarball)
        plain = self.path_for(package)
        return plain.with_name(f"{plain.name}+{digest[:16]}"), tarball

    async def cached(self, package: NpmPackage) -> InstalledPackage | None:
        """The install of ``package`` if it is complete, without asking the registry."""
        target, _ = await self._target(package)
        return await asyncio.to_thread(_read_manifest, target)

    async def check(self, package: NpmPackage) -> None:
        """That ``package`` can be installed: installed already, or known to the registry.

        Raises:
            Invalid: no such package or version (or npm is missing).
            Unavailable: the registry could not be reached.
        """
        package.validate()
        if await self.cached(package) is None and self.local_tarball(package) is None:
            await self._published(package)

    async def ensure(self, package: NpmPackage) -> InstalledPackage:
        """``package`` installed, installing it first if needed.

        Raises:
            Invalid: no such package or version, npm is missing, or the install failed
                (npm's reason in the message).
            Unavailable: the registry could not be reached.
        """
        package.validate()
        found = await self.cached(package)
        if found is not None:
            return found
        target, tarball = await self._target(package)

        async def build(work: Path) -> None:
            await self._install(package, work, tarball)

        await install_once(target, build, self._locks)
        found = await self.cached(package)
        assert found is not None, f"{target} was installed without its manifest"
        return found

    async def _install(self, package: NpmPackage, work: Path, tarball: Path | None) -> None:
        logger.info("installing %s with npm", package.spec)
        if tarball is None:
            published = await self._published(package)
            wanted = package.version
        else:
            published, wanted = None, f"file:{tarball}"
        await asyncio.to_thread(write_package_json, work, {package.name: wanted})
        try:
            await self.client.install(work, before=published)
        except NpmError as exc:
            raise exc.as_console_error(f"installing {package.spec}") from None
        record = await asyncio.to_thread(_describe_tree, work, package)
        if record["skipped_scripts"]:
            logger.warning(
                "%s: install scripts not run for %s",
                package.spec,
                ", ".join(record["skipped_scripts"]),
            )
        await asyncio.to_thread((work / MANIFEST).write_text, json.dumps(record, indent=1))

    async def _published(self, package: NpmPackage) -> str | None:
        """When the version was published (``None`` if the registry does not say).

        Raises:
            Invalid: the registry knows no such package, or no such version of it.
        """
        try:
            meta = await self.client.view(package.spec, "version", "time")
        except NpmError as exc:
            if exc.code != "E404":
                raise exc.as_console_error(f"looking up {package.spec}") from None
            if "version" not in exc.summary.lower():
                raise Invalid(
                    f"there is no npm package named {package.name} in the registry",
                    field="package.name",
                ) from None
            raise await self._no_such_version(package) from None
        if not isinstance(meta, dict) or meta.get("version") != package.version:
            # A version npm resolved to another (a tag, a range): not the exact one asked for.
            raise await self._no_such_version(package)
        times = meta.get("time")
        published = times.get(package.version) if isinstance(times, dict) else None
        return str(published) if published else None

    async def _no_such_version(self, package: NpmPackage) -> Invalid:
        try:
            versions = await self.client.view(package.name, "versions")
        except NpmError:
            versions = []
        if isinstance(versions, str):
            versions = [versions]
        known = [str(v) for v in versions or []][-_SHOWN_VERSIONS:]
        latest = f"; the latest are {', '.join(reversed(known))}" if known else ""
        return Invalid(
            f"npm package {package.name} has no version {package.version}{latest}",
            field="package.version",
        )


async def install_once(
    target: Path, build: Callable[[Path], Awaitable[None]], locks: dict[str, asyncio.Lock]
) -> None:
    """Build ``target`` with ``build(work_dir)`` unless it exists: in a fresh directory beside
    it, renamed into place only when complete (a failed or interrupted build leaves nothing).

    ``locks`` holds this process's lock per target; a file lock beside the target serialises
    processes sharing the directory.
    """
    lock = locks.setdefault(target.name, asyncio.Lock())
    async with lock:
        if await asyncio.to_thread(target.exists):
            return
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True, mode=0o700)
        fd = await asyncio.to_thread(os.open, f"{target}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
            if await asyncio.to_thread(target.exists):
                return
            work = Path(
                await asyncio.to_thread(
                    tempfile.mkdtemp, prefix=f".{target.name}.", dir=target.parent
                )
            )
            try:
                await build(work)
                await asyncio.to_thread(work.chmod, 0o755)
                await asyncio.to_thread(work.rename, target)
            finally:
                await asyncio.to_thread(shutil.rmtree, work, True)
        finally:
            os.close(fd)


def write_package_json(work: Path, dependencies: Mapping[str, str]) -> None:
    """The package.json of an install directory: exactly ``dependencies``, nothing to publish."""
    manifest = {"name": "mcp-console-install", "private": True, "dependencies": dict(dependencies)}
    (work / "package.json").write_text(json.dumps(manifest, indent=1))


def _read_manifest(root: Path) -> InstalledPackage | None:
    try:
        record = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return InstalledPackage(
        root=root,
        name=str(record["name"]),
        version=str(record["version"]),
        bins={str(k): str(v) for k, v in record["bins"].items()},
        engines=tuple((str(p), str(r)) for p, r in record["engines"]),
        skipped_scripts=tuple(str(s) for s in record["skipped_scripts"]),
    )


def _describe_tree(work: Path, package: NpmPackage) -> dict[str, Any]:
    """The manifest of a finished install: executables, Node.js ranges, skipped scripts."""
    home = PurePosixPath("node_modules", *package.name.split("/"))
    own = json.loads((work / home / "package.json").read_text())
    bins = own.get("bin")
    if isinstance(bins, str):
        bins = {package.name.rsplit("/", 1)[-1]: bins}
    scripts = {
        str(name): str(home / PurePosixPath(str(path)))
        for name, path in (bins or {}).items()
        if isinstance(path, str)
    }
    lock = json.loads((work / "package-lock.json").read_text())
    engines: list[tuple[str, str]] = []
    skipped: list[str] = []
    for where, entry in (lock.get("packages") or {}).items():
        if not where or not isinstance(entry, dict):
            continue  # "" is the install itself
        label = f"{where.rsplit('node_modules/', 1)[-1]}@{entry.get('version', '?')}"
        wanted = entry.get("engines")
        if isinstance(wanted, dict) and isinstance(wanted.get("node"), str):
            engines.append((label, wanted["node"]))
        if entry.get("hasInstallScript"):
            skipped.append(label)
    return {
        "name": package.name,
        "version": package.version,
        "bins": scripts,
        "engines": engines,
        "skipped_scripts": skipped,
    }

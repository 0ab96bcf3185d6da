"""A cache of one virtualenv per PyPI package version, built once like ``uvx`` does."""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from mcp_console.backend.deploy.drivers.base import PackageSource
from mcp_console.backend.deploy.interpreters import Interpreter, Interpreters
from mcp_console.backend.deploy.pypi_entry import Entry, choose_entry, installed
from mcp_console.backend.deploy.pypi_release import PypiIndex, Release
from mcp_console.backend.deploy.uv_runner import UvFailed, run_uv
from mcp_console.schemas.errors import Invalid
from mcp_console.settings import PypiSettings

logger = logging.getLogger(__name__)

_COMPLETE = ".mcp-console-complete"
_CONSTRAINTS = ".mcp-console-constraints.txt"


@dataclass(frozen=True, slots=True)
class _Built:
    """What the completion marker records: how the venv was made and what runs in it."""

    requirement: str
    python: str
    entry: Entry


class VenvCache:
    """``<root>/<name>-<version>/`` virtualenvs holding one package each.

    The venv is built on an interpreter that satisfies the release's ``Requires-Python``
    (the console's own when it does), and ``uv`` installs the package with its dependencies
    as of the release's upload (``--exclude-newer``; see ``Release.resolution`` for the MCP
    SDK and the build tools): a server published before a breaking release of a dependency
    gets what it was built with, and the same every time.

    A venv is usable only once its completion marker exists; a half-built one (a crash, a
    failed install) is wiped and rebuilt. An asyncio lock per key serialises builds in this
    process and a file lock serialises them between processes sharing the data dir.

    Args:
        root: where the venvs live.
        settings: the index and the interpreters (defaults: pip's index, all found here).
        index: the release lookups (shared with the image builder).
        interpreters: the machine's Pythons.
    """

    def __init__(
        self,
        root: Path,
        settings: PypiSettings | None = None,
        *,
        index: PypiIndex | None = None,
        interpreters: Interpreters | None = None,
    ) -> None:
        self.root = root
        settings = settings or PypiSettings()
        self.index = index or PypiIndex(settings)
        self.interpreters = interpreters or Interpreters(settings)
        self._locks: dict[str, asyncio.Lock] = {}
        self._entries: dict[str, Entry] = {}

    def path_for(self, package: PackageSource) -> Path:
        """Where the venv for this package version lives."""
        key = f"{package.name.lower().replace('_', '-')}-{package.version}"
        return self.root / key

    async def ensure(self, package: PackageSource) -> Path:
        """The venv for ``package``, building it if needed; returns the venv directory.

        Raises:
            Invalid: the release does not exist, needs a Python this machine lacks (the
                message names the requirement and offers the Docker runtime), cannot be
                installed (uv's reason), or has nothing to run (its scripts are named).
            Unavailable: the package index cannot be reached.
        """
        package.validate()
        venv = self.path_for(package)
        built = await asyncio.to_thread(_built, venv, package)
        if built is None:
            lock = self._locks.setdefault(venv.name, asyncio.Lock())
            async with lock:
                await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True, mode=0o700)
                fd = await asyncio.to_thread(os.open, f"{venv}.lock", os.O_RDWR | os.O_CREAT)
                try:
                    await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
                    built = await asyncio.to_thread(_built, venv, package)
                    if built is None:
                        built = await self._build(package, venv)
                finally:
                    os.close(fd)
        self._entries[venv.name] = built.entry
        return venv

    def entry(self, venv: Path, package: PackageSource) -> list[str]:
        """The command that runs ``package``'s server in ``venv`` (once ``ensure`` built it):
        its console script, or its Python with ``-m`` and the module."""
        entry = self._entries.get(venv.name) or Entry(script=package.script)
        return entry.argv(str(venv / "bin"))

    async def interpreter_for(self, package: PackageSource) -> tuple[Release, Interpreter]:
        """The release and the interpreter of this machine its venv is built on.

        Raises:
            Invalid: no interpreter here satisfies the release's ``Requires-Python`` (the
                message names both and offers the Docker runtime), or no such release.
            Unavailable: the package index cannot be reached.
        """
        release = await self.index.release(package.name, package.version)
        interpreter = await self.interpreters.pick(release.requires_python)
        if interpreter is None:
            have = sorted({i.version for i in await self.interpreters.available()})
            raise Invalid(
                f"{package.requirement} requires Python {release.requires_python}; this "
                f"machine has Python {', '.join(have)}: choose the docker runtime (its images "
                "bring a Python that fits), or make a fitting Python known to the console "
                "(MCP_CONSOLE_PYPI__INTERPRETERS)",
                field="runtime",
            )
        return release, interpreter

    async def _build(self, package: PackageSource, venv: Path) -> _Built:
        release, interpreter = await self.interpreter_for(package)
        # Console scripts hold the venv's absolute path, so it is built in place, not moved.
        await asyncio.to_thread(shutil.rmtree, venv, True)
        as_of = release.exclude_newer
        resolution = release.resolution()
        logger.info(
            "creating a virtualenv for %s on Python %s%s",
            package.requirement,
            interpreter.version,
            f", dependencies as of {as_of}" if as_of else "",
        )
        index = await self.index.index_url()
        install = ["pip", "install", "--no-config", "--quiet", "--default-index", index]
        install += self.index.find_links()
        install += ["--python", str(venv / "bin" / "python")]
        try:
            await run_uv(
                "venv", "--no-config", "--quiet", "--python", str(interpreter.path), str(venv)
            )
            install += await asyncio.to_thread(resolution.uv_args, venv / _CONSTRAINTS)
            await run_uv(*install, package.requirement)
        except UvFailed as exc:
            await asyncio.to_thread(shutil.rmtree, venv, True)
            raise Invalid(
                f"could not install {package.requirement} on Python {interpreter.version}: "
                f"{exc.reason}",
                field="package",
            ) from None
        site = venv / "lib" / f"python{interpreter.minor}" / "site-packages"
        offered = await asyncio.to_thread(installed, site, package.name)
        try:
            entry = choose_entry(package, offered)
        except Invalid:
            await asyncio.to_thread(shutil.rmtree, venv, True)
            raise
        marker = _Built(package.requirement, interpreter.version, entry)
        await asyncio.to_thread(_write_marker, venv, marker)
        return marker


def _built(venv: Path, package: PackageSource) -> _Built | None:
    """The completion marker of ``venv``, if it is complete and holds ``package``."""
    try:
        data = json.loads((venv / _COMPLETE).read_text())
        built = _Built(str(data["requirement"]), str(data["python"]), Entry.parse(data["entry"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if built.requirement != package.requirement:
        return None
    named = package.entrypoint
    if named is not None and named not in (built.entry.script, built.entry.module):
        return None  # another program of the package was asked for: choose again
    return built


def _write_marker(venv: Path, built: _Built) -> None:
    data = {"requirement": built.requirement, "python": built.python, "entry": built.entry.text()}
    (venv / _COMPLETE).write_text(json.dumps(data) + "\n")

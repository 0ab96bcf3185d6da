"""DebCache: the Debian packages an image needs, downloaded on the host and kept per set."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from mcp_console.schemas.catalog import system_package_names
from mcp_console.schemas.errors import Invalid, Unavailable

logger = logging.getLogger(__name__)

_COMPLETE = ".mcp-console-complete"
_APT_TAIL_LINES = 8
_BLOCK_RE = re.compile(r"^(\S+):$")
_NONE = "(none)"
# Lists fetched this recently are not fetched again when a package seems unknown.
_LISTS_FRESH_SECONDS = 600.0


def checked_names(packages: Sequence[str]) -> list[str]:
    """Debian package names without repeats, or ``Invalid`` naming the first bad one."""
    try:
        return system_package_names(packages)
    except ValueError as exc:
        raise Invalid(str(exc), field="system_packages") from None


class DebCache:
    """``<root>/sets/<key>/``: the ``.deb`` files a package set needs on one base image.

    Image builds have no network, so apt resolves and downloads on the host: against the
    base image's own dpkg database (only what the image lacks is fetched), with private
    lists, caches and state under ``<root>/apt``, so the host's apt state is never touched
    and no root is needed. The host's apt sources and keys are used as configured. A set is
    usable once its completion marker exists; a file lock serialises downloads between
    processes sharing the cache, an asyncio lock within this one.

    Args:
        root: the cache directory.
        apt_get: the ``apt-get`` program (``apt-cache`` is looked up beside it).
    """

    def __init__(self, root: Path, *, apt_get: str = "apt-get") -> None:
        self.root = root
        self._apt_get = apt_get
        self._apt_cache = str(Path(apt_get).with_name("apt-cache"))
        self._lock = asyncio.Lock()

    def path_for(self, packages: Sequence[str], base_id: str) -> Path:
        """Where the set of ``packages`` for the base image ``base_id`` is kept."""
        key = json.dumps([base_id, sorted(packages)])
        return self.root / "sets" / hashlib.sha256(key.encode()).hexdigest()[:24]

    async def ensure(
        self, packages: Sequence[str], base_id: str, read_status: Callable[[], Awaitable[bytes]]
    ) -> Path:
        """The folder of ``.deb`` files installing ``packages`` on the base image ``base_id``.

        Args:
            packages: Debian package names.
            base_id: the base image's id (a set is downloaded once per base image).
            read_status: reads the base image's ``/var/lib/dpkg/status`` (on a miss only).

        Raises:
            Invalid: a name is no Debian package name, apt knows no such package (the
                message names it), or this machine has no apt; ``field`` is
                ``system_packages``.
            Unavailable: the package lists or files could not be downloaded (worth a retry).
        """
        names = checked_names(packages)
        target = self.path_for(names, base_id)
        if (target / _COMPLETE).exists():
            return target
        async with self._lock:
            if (target / _COMPLETE).exists():
                return target
            await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
            lock_fd = await asyncio.to_thread(
                os.open, str(self.root / ".lock"), os.O_RDWR | os.O_CREAT, 0o600
            )
            try:
                await asyncio.to_thread(fcntl.flock, lock_fd, fcntl.LOCK_EX)
                if not (target / _COMPLETE).exists():
                    await self._download(names, target, await read_status())
            finally:
                os.close(lock_fd)
        return target

    async def _download(self, names: list[str], target: Path, status: bytes) -> None:
        work = target.with_name(target.name + ".partial")
        await asyncio.to_thread(_fresh_dir, work, status)
        logger.info("downloading system packages %s", " ".join(names))
        try:
            age = await asyncio.to_thread(_age, self._updated)
            if age is None:
                await self._update()
            refreshed = age is None or age < _LISTS_FRESH_SECONDS
            while True:
                unknown = await self._unknown(names, work)
                if not unknown:
                    code, output = await self._apt(
                        self._apt_get,
                        *("install", "--download-only", "--no-install-recommends", "-y"),
                        *names,
                        work=work,
                    )
                    if code == 0:
                        break
                if not refreshed:
                    # The lists may predate the package or the mirror's current files.
                    await self._update()
                    refreshed = True
                    continue
                if unknown:
                    raise Invalid(
                        f"unknown system package{'s' if len(unknown) > 1 else ''} "
                        f"{', '.join(unknown)}: apt finds no installable package of that name "
                        "for the base image",
                        field="system_packages",
                    )
                raise Unavailable(f"could not download {' '.join(names)}: {_errors(output)}")
            await asyncio.to_thread(_publish, work, target)
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

    @property
    def _lists(self) -> Path:
        return self.root / "apt" / "lists"

    @property
    def _updated(self) -> Path:
        """Touched after each successful ``apt-get update`` (apt dates lists by the mirror)."""
        return self.root / "apt" / "updated"

    async def _update(self) -> None:
        code, output = await self._apt(self._apt_get, "update")
        if code != 0:
            raise Unavailable(f"could not read the Debian package lists: {_errors(output)}")
        await asyncio.to_thread(self._updated.touch)

    async def _unknown(self, names: list[str], work: Path) -> list[str]:
        """The names apt has no installed or installable version of (no pattern matching)."""
        _, output = await self._apt(self._apt_cache, "policy", *names, work=work)
        found: dict[str, tuple[str, str]] = {}
        current: str | None = None
        for line in output.splitlines():
            block = _BLOCK_RE.match(line)
            if block is not None:
                current = block.group(1).split(":")[0]
                found.setdefault(current, (_NONE, _NONE))
            elif current is not None and ":" in line:
                key, _, value = line.strip().partition(":")
                installed, candidate = found[current]
                if key == "Installed":
                    found[current] = (value.strip(), candidate)
                elif key == "Candidate":
                    found[current] = (installed, value.strip())
        return [n for n in names if found.get(n, (_NONE, _NONE)) == (_NONE, _NONE)]

    async def _apt(self, program: str, *args: str, work: Path | None = None) -> tuple[int, str]:
        """Run apt with private state; ``work`` holds the base image's status and the downloads."""
        state = self.root / "apt"
        options = {
            "Dir::State": state / "state",
            "Dir::State::Lists": self._lists,
            "Dir::Cache": state / "cache",
            "Dir::Cache::pkgcache": "",
            "Dir::Cache::srcpkgcache": "",
            # An empty database when only the lists are read (``update``).
            "Dir::State::status": (work or state) / "status",
            "Dir::Cache::archives": (work or state / "archives"),
        }
        argv = [program, "-q"]
        for key, value in options.items():
            argv += ["-o", f"{key}={value}"]
        if os.geteuid() == 0:
            # apt drops to its _apt user to download, which cannot write our private folders.
            argv += ["-o", "APT::Sandbox::User=root"]
        await asyncio.to_thread(_apt_dirs, state, work)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"},
            )
        except FileNotFoundError:
            # Not worth retrying (unlike a failed download): say so at once.
            raise Invalid(
                f"system packages are downloaded with {program}, which this machine lacks; "
                "build on a Debian-based machine or deploy on the process runtime",
                field="system_packages",
            ) from None
        output, _ = await proc.communicate()
        return proc.returncode or 0, output.decode("utf-8", "replace")


def _apt_dirs(state: Path, work: Path | None) -> None:
    for folder in (state / "lists" / "partial", state / "cache", state / "state"):
        folder.mkdir(parents=True, exist_ok=True)
    (state / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    (state / "status").touch()
    if work is not None:
        (work / "partial").mkdir(exist_ok=True)


def _age(marker: Path) -> float | None:
    """Seconds since ``marker`` was touched, or ``None`` if it never was."""
    try:
        return max(0.0, time.time() - marker.stat().st_mtime)
    except FileNotFoundError:
        return None


def _fresh_dir(work: Path, status: bytes) -> None:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "status").write_bytes(status)


def _publish(work: Path, target: Path) -> None:
    """Keep only the downloaded files, mark the set complete, then move it into place."""
    for entry in work.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        elif entry.suffix != ".deb":
            entry.unlink()
    (work / _COMPLETE).touch()
    shutil.rmtree(target, ignore_errors=True)
    work.rename(target)


def _errors(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("E:", "W:"))] or lines
    return " / ".join(errors[-_APT_TAIL_LINES:]) or "apt gave no reason"

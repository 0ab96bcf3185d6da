"""The Python interpreters on this machine a PyPI server's virtualenv can be built on."""

from __future__ import annotations

import asyncio
import glob
import logging
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from mcp_console.backend.deploy.probe import program_output
from mcp_console.backend.deploy.pypi_release import python_fits
from mcp_console.settings import PypiSettings

logger = logging.getLogger(__name__)

_PROBE = "import sys; print('.'.join(map(str, sys.version_info[:3])), sys.executable)"
_PROBE_TIMEOUT = 15.0
_MINORS = range(8, 21)


@dataclass(frozen=True, slots=True)
class Interpreter:
    """One CPython on this machine."""

    path: Path
    version: str

    @property
    def minor(self) -> str:
        """``3.13``."""
        return ".".join(self.version.split(".")[:2])


class Interpreters:
    """The console's own Python, the configured ones and (unless told not to) the ones found
    on this machine: ``python3.X`` on PATH, pyenv's versions, uv's managed Pythons.

    Each candidate is asked its version once (a pyenv shim for a version that is not
    selected fails and is skipped; the real executable it reports is what venvs are built on).
    """

    def __init__(self, settings: PypiSettings) -> None:
        self.settings = settings
        self._found: list[Interpreter] | None = None
        self._lock = asyncio.Lock()

    async def available(self) -> list[Interpreter]:
        """Every usable interpreter, the console's own first, each real executable once."""
        async with self._lock:
            if self._found is None:
                candidates = [Path(sys.executable), *self.settings.interpreters]
                if self.settings.discover_interpreters:
                    candidates += await asyncio.to_thread(_discover)
                probed = await asyncio.gather(*(_probe(path) for path in candidates))
                self._found = await asyncio.to_thread(_distinct, probed)
        return list(self._found)

    async def pick(self, requires_python: str | None) -> Interpreter | None:
        """The interpreter for a release requiring ``requires_python``: the console's own when
        it fits, else the oldest that fits (nearest to what the release was made with)."""
        found = await self.available()
        fitting = [i for i in found if python_fits(requires_python, i.version)]
        if not fitting:
            return None
        if fitting[0] is found[0]:
            return fitting[0]
        return min(fitting, key=lambda i: Version(i.version))


def _distinct(probed: list[Interpreter | None]) -> list[Interpreter]:
    """Each real executable once, in the order found (a few ``realpath`` calls)."""
    found: dict[str, Interpreter] = {}
    for interpreter in probed:
        if interpreter is not None:
            found.setdefault(os.path.realpath(interpreter.path), interpreter)
    return list(found.values())


def _discover() -> list[Path]:
    """Candidate executables (a few ``stat`` and ``glob`` calls)."""
    paths: list[Path] = []
    for minor in _MINORS:
        found = shutil.which(f"python3.{minor}")
        if found:
            paths.append(Path(found))
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    uv_home = os.environ.get("UV_PYTHON_INSTALL_DIR") or str(
        Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "uv" / "python"
    )
    for pattern in (f"{pyenv}/versions/*/bin/python3", f"{uv_home}/cpython-*/bin/python3"):
        paths += [Path(p) for p in sorted(glob.glob(pattern))]
    return paths


async def _probe(path: Path) -> Interpreter | None:
    output = await program_output(str(path), "-I", "-c", _PROBE, timeout=_PROBE_TIMEOUT)
    if output is None:
        return None
    version, _, executable = output.decode().strip().partition(" ")
    if not version.startswith("3.") or not executable:
        return None
    # The console's own venv stays as it is (its packages are not inherited); a shim or a
    # symlink becomes the real interpreter it reports.
    return Interpreter(path if path == Path(sys.executable) else Path(executable), version)

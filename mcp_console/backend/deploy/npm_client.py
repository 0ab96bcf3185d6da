"""The npm client run as a subprocess: registry look-ups and installs, failures named by cause."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from mcp_console.schemas.errors import ConsoleError, Invalid, Unavailable

logger = logging.getLogger(__name__)

# Codes npm reports when the registry cannot be reached at all: worth retrying later.
NETWORK_CODES = frozenset(
    {
        "EAI_AGAIN",
        "ECONNREFUSED",
        "ECONNRESET",
        "EHOSTUNREACH",
        "ENETUNREACH",
        "ENOTFOUND",
        "ETIMEDOUT",
        "ERR_SOCKET_TIMEOUT",
        "FETCH_ERROR",
        "EPROXY",
    }
)
# An install of a large tree over a slow link still ends well inside this.
INSTALL_TIMEOUT = 600.0
VIEW_TIMEOUT = 120.0
_TAIL_LINES = 8
# What every install and look-up passes: no prompts, no audit or funding calls, no ads.
_QUIET = ("--no-audit", "--no-fund", "--no-update-notifier", "--yes")


class NpmError(Exception):
    """npm failed: its error code (``E404``, ``ETARGET``, ``ECONNREFUSED``...) and summary."""

    def __init__(self, code: str, summary: str, detail: str = "") -> None:
        super().__init__(code, summary)
        self.code = code
        self.summary = summary
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.summary}" if self.code else self.summary

    @property
    def unreachable(self) -> bool:
        """Whether the registry could not be reached (rather than refusing the request)."""
        return self.code in NETWORK_CODES or "network" in self.summary.lower()

    def as_console_error(self, doing: str) -> ConsoleError:
        """The failure as the console reports it: ``Unavailable`` when the registry is away
        (a retry may succeed), else ``Invalid`` naming what was being done."""
        if self.unreachable:
            return Unavailable(f"the npm registry could not be reached while {doing}: {self}")
        return Invalid(f"{doing} failed: {self}", field="package")


class NpmClient:
    """Runs the configured npm with the user's own npm configuration (registry, CA, cache).

    Args:
        program: the npm client, a name on PATH or a path.
    """

    def __init__(self, program: str = "npm") -> None:
        self.program = program

    def executable(self) -> str:
        """Where npm is.

        Raises:
            Invalid: npm is not installed (the message says how to get it).
        """
        found = shutil.which(self.program)
        if found is None:
            raise Invalid(
                f"npm (the Node.js package manager) was not found as {self.program!r} on this "
                "machine; install Node.js and npm (e.g. apt-get install npm) or set "
                "MCP_CONSOLE_NODE__NPM to its path",
                field="runtime",
            )
        return found

    async def view(self, spec: str, *fields: str) -> Any:
        """``npm view <spec> <fields> --json``: the registry's metadata, parsed.

        Raises:
            NpmError: npm failed (``E404`` for an unknown package or version).
            Invalid: npm is not installed.
        """
        output = await self._run([spec, *fields], command="view", limit=VIEW_TIMEOUT)
        text = output.strip()
        return json.loads(text) if text else None

    async def install(self, prefix: Path, *, before: str | None) -> None:
        """Install ``prefix``'s package.json into ``prefix/node_modules`` (and lock the tree
        in ``prefix/package-lock.json``).

        Lifecycle scripts never run: an install executes no code of the package on this
        machine. ``before``: resolve dependencies as they were at that time.

        Raises:
            NpmError: npm failed (the code and summary say why).
            Invalid: npm is not installed.
        """
        argv = ["--prefix", str(prefix), "--ignore-scripts", "--omit=dev"]
        argv += ["--before", before] if before else []
        await self._run(argv, command="install", limit=INSTALL_TIMEOUT, cwd=prefix)

    async def _run(
        self, args: list[str], *, command: str, limit: float, cwd: Path | None = None
    ) -> str:
        program = self.executable()
        proc = await asyncio.create_subprocess_exec(
            program,
            command,
            *args,
            *_QUIET,
            "--json",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=os.environ.copy(),
        )
        try:
            async with asyncio.timeout(limit):
                out, err = await proc.communicate()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise NpmError("ETIMEDOUT", f"npm {command} took longer than {limit:.0f} s") from None
        output = out.decode("utf-8", "replace")
        if proc.returncode != 0:
            raise _failure(output, err.decode("utf-8", "replace"), proc.returncode)
        return output


def _failure(stdout: str, stderr: str, code: int | None) -> NpmError:
    """npm's ``--json`` error object, or the last lines it wrote when there is none."""
    with contextlib.suppress(ValueError):
        found = _last_json_object(stdout)
        error = found.get("error") if isinstance(found, dict) else None
        if isinstance(error, dict):
            return NpmError(
                str(error.get("code") or ""),
                str(error.get("summary") or "").strip() or f"npm exited with code {code}",
                str(error.get("detail") or "").strip(),
            )
    lines = [line.removeprefix("npm error ").strip() for line in stderr.splitlines()]
    lines = [line for line in lines if line and not line.startswith("A complete log")]
    return NpmError("", " / ".join(lines[-_TAIL_LINES:]) or f"npm exited with code {code}")


def _last_json_object(text: str) -> Any:
    """The JSON value npm printed (some versions print the error after other output)."""
    text = text.strip()
    start = text.rfind("\n{")
    return json.loads(text if start < 0 else text[start + 1 :])

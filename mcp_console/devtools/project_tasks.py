"""What the ``dev`` commands do to a project: install, test, build, and run its server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

from mcp import Client

from mcp_console.backend.deploy.health import describe
from mcp_console.backend.deploy.local_packages import sha256_of
from mcp_console.backend.deploy.uv_runner import uv_binary
from mcp_console.devtools.project import PACKAGE_JSON, PYPROJECT, Project
from mcp_console.devtools.targets import ServerTarget, command_target, connect, url_target
from mcp_console.schemas.errors import Invalid, Unavailable

# The package index's URL, asked for only when something is installed.
IndexUrl = Callable[[], Awaitable[str]]
# Beside the installed dependencies: the digest of the manifest they were installed from.
INSTALLED_STAMP = ".mcp-console-installed"
VENV = ".venv"
DIST = "dist"
_TAIL_LINES = 20
# How long a server serving HTTP may take to answer its first request.
HTTP_START_TIMEOUT = 30.0
_HTTP_POLL_SECONDS = 0.2


async def _run(argv: Sequence[str], cwd: Path, *, show: bool, doing: str) -> str:
    """Run ``argv`` in ``cwd``: its output on the terminal (``show``) or kept, and returned.

    Raises:
        Invalid: it failed (with its last lines when they were kept) or its program is
            missing.
    """
    if shutil.which(argv[0]) is None:
        raise Invalid(f"{doing} needs {argv[0]!r}, which is not installed here", field="dir")
    out = None if show else asyncio.subprocess.PIPE
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=out,
        stderr=None if show else asyncio.subprocess.STDOUT,
    )
    output, _ = await proc.communicate()
    text = output.decode("utf-8", "replace") if output else ""
    if proc.returncode != 0:
        lines = [line for line in text.strip().splitlines() if line.strip()]
        tail = (": " + " / ".join(lines[-_TAIL_LINES:])) if lines else ""
        raise Invalid(f"{doing} failed (exit {proc.returncode}){tail}", field="dir")
    return text


def _venv_python(project: Project) -> Path:
    return project.root / VENV / "bin" / "python"


async def prepare(project: Project, *, index_url: IndexUrl, show: bool = False) -> None:
    """Install what the project needs to test and run: a venv with the package (editable)
    and its test extras, or its npm dependencies; skipped while the manifest is unchanged."""
    manifest = project.root / (PYPROJECT if project.kind == "python" else PACKAGE_JSON)
    stamp_dir = project.root / (VENV if project.kind == "python" else "node_modules")
    stamp = stamp_dir / INSTALLED_STAMP
    digest = await asyncio.to_thread(sha256_of, manifest)
    if await asyncio.to_thread(_stamped, stamp, digest):
        return
    if project.kind == "python":
        uv = uv_binary()
        if not await asyncio.to_thread(_venv_python(project).exists):
            await _run(
                [uv, "venv", "--no-config", "--quiet", "--python", sys.executable, VENV],
                project.root,
                show=show,
                doing="creating the project's virtualenv",
            )
        argv = [uv, "pip", "install", "--no-config", "--quiet", "--default-index"]
        argv += [await index_url(), "--python", str(_venv_python(project))]
        await _cache_first([*argv, "--editable", ".[test]"], project.root, doing="installing")
    else:
        # What npm's cache holds is taken without asking the registry again: a new project
        # of a template installs in seconds once one has.
        argv = ["npm", "install", "--prefer-offline", "--no-audit", "--no-fund"]
        await _run([*argv, "--no-update-notifier"], project.root, show=show, doing="npm install")
    await asyncio.to_thread(stamp.write_text, digest + "\n")


async def _cache_first(argv: list[str], cwd: Path, *, doing: str) -> None:
    """Run a uv command from uv's cache alone (``--offline``), else asking the index: a new
    project of a template then installs without waiting on the index once one has."""
    try:
        await _run([*argv, "--offline"], cwd, show=False, doing=doing)
    except Invalid:
        await _run(argv, cwd, show=False, doing=doing)


def _stamped(stamp: Path, digest: str) -> bool:
    try:
        return stamp.read_text().strip() == digest
    except OSError:
        return False


async def run_tests(project: Project, *, index_url: IndexUrl) -> int:
    """Install, then run the project's tests with their output on the terminal; returns
    their exit status."""
    await prepare(project, index_url=index_url)
    if project.kind == "python":
        argv = [str(_venv_python(project)), "-m", "pytest", "-q"]
    else:
        argv = ["npm", "test", "--no-update-notifier"]
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=project.root, stdin=asyncio.subprocess.DEVNULL
    )
    return await proc.wait()


async def build(project: Project, *, index_url: IndexUrl) -> Path:
    """The project's package, built into ``dist/``: a wheel, or an ``npm pack`` tarball.

    Raises:
        Invalid: the build failed (its last lines say why).
    """
    dist = project.root / DIST
    dist.mkdir(exist_ok=True)
    suffix = ".whl" if project.kind == "python" else ".tgz"
    with tempfile.TemporaryDirectory(prefix="mcp-console-build-") as work:
        if project.kind == "python":
            argv = [uv_binary(), "build", "--no-config", "--quiet", "--wheel"]
            argv += ["--default-index", await index_url(), "--out-dir", work]
            await _cache_first(argv, project.root, doing="building the wheel")
        else:
            argv = ["npm", "pack", "--json", "--pack-destination", work, "--no-update-notifier"]
            await _run(argv, project.root, show=False, doing="npm pack")
        built = [p for p in await asyncio.to_thread(_listed, Path(work)) if p.suffix == suffix]
        if len(built) != 1:
            raise Invalid(f"the build made {len(built)} {suffix} files, not one", field="dir")
        artifact = dist / built[0].name
        await asyncio.to_thread(shutil.move, built[0], artifact)
    return artifact


def _listed(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


def server_command(project: Project) -> list[str]:
    """The command that starts the project's server here (once ``prepare`` has run).

    Raises:
        Invalid: the program is missing (prepare first), or package.json names none.
    """
    if project.kind == "python":
        program = project.root / VENV / "bin" / project.name
        if not program.exists():
            raise Invalid(
                f"{program} is missing: the project declares no script named {project.name}",
                field="dir",
            )
        return [str(program)]
    manifest = json.loads((project.root / PACKAGE_JSON).read_text(encoding="utf-8"))
    bins = manifest.get("bin")
    script = bins if isinstance(bins, str) else (bins or {}).get(project.name)
    if not isinstance(script, str):
        raise Invalid(f"{PACKAGE_JSON} has no bin named {project.name}", field="dir")
    node = shutil.which("node")
    if node is None:
        raise Invalid("Node.js (node) is not installed here", field="dir")
    return [node, str((project.root / script).resolve())]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@asynccontextmanager
async def started(project: Project) -> AsyncIterator[ServerTarget]:
    """The project's server as the inspector reaches it: its stdio command (the session
    starts it), or its URL once the HTTP server it starts on a free loopback port listens;
    that server stops afterwards.

    Raises:
        Unavailable: the HTTP server exited or did not listen in time (with what it wrote).
    """
    command = server_command(project)
    if project.transport == "stdio":
        yield command_target(command)
        return
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1"}
    with tempfile.TemporaryFile() as log:
        proc = await asyncio.create_subprocess_exec(
            *command,
            cwd=project.root,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        try:
            await _listening(proc, port, log)
            yield url_target(f"http://127.0.0.1:{port}/mcp")
        finally:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                proc.kill()
                await proc.wait()


@asynccontextmanager
async def serving(project: Project, *, timeout: float = 30.0) -> AsyncIterator[Client]:  # noqa: ASYNC109
    """An SDK client session with the project's server, started here for as long as it lasts.

    Raises:
        Unavailable: it did not start or answer in time (with why).
    """
    async with started(project) as target, contextlib.AsyncExitStack() as stack:
        try:
            client = await stack.enter_async_context(connect(target, timeout=timeout))
        except Exception as exc:
            raise Unavailable(
                f"{project.name} did not answer as an MCP server ({target.label}): {describe(exc)}"
            ) from None
        yield client


async def _listening(proc: asyncio.subprocess.Process, port: int, log: IO[bytes]) -> None:
    """Wait until ``proc`` accepts connections on ``port`` (it has started serving).

    Raises:
        Unavailable: it exited, or did not listen in time (with what it wrote).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HTTP_START_TIMEOUT
    while True:
        if proc.returncode is not None:
            raise Unavailable(f"the server exited ({proc.returncode}): {_tail(log)}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if loop.time() > deadline:
                raise Unavailable(
                    f"the server did not listen on port {port} within "
                    f"{HTTP_START_TIMEOUT:.0f} s: {_tail(log)}"
                ) from None
            await asyncio.sleep(_HTTP_POLL_SECONDS)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return


def _tail(log: IO[bytes]) -> str:
    """The last lines a server wrote (to show why it did not start)."""
    log.seek(0)
    lines = log.read().decode("utf-8", "replace").strip().splitlines()
    return " / ".join(lines[-_TAIL_LINES:]) or "it wrote nothing"

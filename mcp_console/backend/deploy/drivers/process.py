"""ProcessManager: MCP servers as local subprocesses: an argv, a cached PyPI venv or npm install."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mcp_console.backend.deploy.drivers.base import (
    LOOPBACK,
    EventKind,
    InstanceHandle,
    InstanceSpec,
    ManagedInstance,
    RuntimeEvent,
    http_url,
    substitute_port,
)
from mcp_console.backend.deploy.drivers.engine_events import DriverEventFanout
from mcp_console.backend.deploy.drivers.venvs import VenvCache
from mcp_console.backend.deploy.node import NodeToolchain
from mcp_console.backend.ports import LogSink, line_hook
from mcp_console.backend.stdio.channel import StderrBuffer, StdioChannel
from mcp_console.backend.stdio.pumps import pump_stderr, pump_stdout
from mcp_console.schemas.errors import Conflict, Invalid, NotFound, Unavailable
from mcp_console.schemas.version_source import PYTHON_PLACEHOLDER
from mcp_console.settings import NodeSettings

logger = logging.getLogger(__name__)

# What a child inherits from us; everything else it gets comes from its spec.
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "LOGNAME", "SHELL", "TERM")
STDIN_GRACE = 2.0
_POLL_INTERVAL = 0.05


@dataclass
class _Process:
    spec: InstanceSpec
    process: asyncio.subprocess.Process
    stderr: StderrBuffer
    workdir: Path
    channel: StdioChannel | None = None
    port: int | None = None
    exit_code: int | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    exited: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def running(self) -> bool:
        return not self.exited.is_set()


class ProcessManager:
    """Runs instances as child processes of the backend, each in its own process group.

    stdio servers talk over pipes; HTTP servers get a free loopback port through ``{port}``
    in their argv and ``PORT`` in their environment. Secrets reach the child only through
    its environment. Exit codes follow Docker's convention: death by signal N is 128 + N.

    Processes do not survive the backend: ``list_managed`` returns only what this manager
    started, and ``close`` stops them all.

    Args:
        data_dir: holds the venv cache (``venvs/``) and each instance's working directory.
        venvs: the package venv cache (defaults to one under ``data_dir``).
        node: installs npm packages and finds the Node.js that runs them (by default with
            the default ``NodeSettings``).
        log_sink: told every line the instances write to stderr (and HTTP servers' stdout).
    """

    name = "process"

    def __init__(
        self,
        data_dir: Path,
        *,
        venvs: VenvCache | None = None,
        node: NodeToolchain | None = None,
        log_sink: LogSink | None = None,
    ) -> None:
        self.data_dir = data_dir
        self._log_sink = log_sink
        self.venvs = venvs or VenvCache(data_dir / "venvs")
        self.node = node or NodeToolchain(NodeSettings())
        self._processes: dict[str, _Process] = {}
        self._fanout = DriverEventFanout()

    async def start(self, spec: InstanceSpec) -> InstanceHandle:
        """Install the package if needed, then spawn the server.

        Raises:
            Invalid: the spec is wrong, names nothing to run, or the package cannot be installed.
            Conflict: this instance already exists (remove it first).
            Unavailable: the package registry could not be reached to install the package.
        """
        spec.validate()
        if spec.name in self._processes:
            raise Conflict(f"instance {spec.name} already exists; remove it first", field="ref")
        argv, path_prefix = await self._argv(spec)
        port = _free_port() if spec.transport == "streamable-http" else None
        if port is not None:
            argv = substitute_port(tuple(argv), port)
        env = {key: os.environ[key] for key in INHERITED_ENV if key in os.environ}
        if path_prefix is not None:
            env["PATH"] = os.pathsep.join(filter(None, [str(path_prefix), env.get("PATH")]))
        env.update(spec.child_env(port))
        workdir = self.data_dir / "instances" / spec.name
        await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True, mode=0o700)
        stdio = spec.transport == "stdio"
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE if stdio else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                cwd=workdir,
                start_new_session=True,  # its own process group: we signal the whole tree
            )
        except OSError as exc:
            await asyncio.to_thread(shutil.rmtree, workdir, True)
            raise Invalid(
                f"cannot run {argv[0]!r}: {exc.strerror or exc}", field="command"
            ) from None
        assert process.stdout is not None
        assert process.stderr is not None
        hook = line_hook(self._log_sink, spec.deployment_id, spec.instance_id)
        entry = _Process(
            spec=spec, process=process, stderr=StderrBuffer(on_line=hook), workdir=workdir
        )
        entry.port = port
        entry.tasks.append(asyncio.create_task(pump_stderr(process.stderr, entry.stderr)))
        if stdio:
            assert process.stdin is not None
            entry.channel = StdioChannel(process.stdin, entry.stderr)
            entry.channel.run_reader(pump_stdout(process.stdout, entry.channel))
        else:
            # HTTP servers may log to stdout (uvicorn's access log does): keep it with stderr.
            entry.tasks.append(
                asyncio.create_task(pump_stderr(process.stdout, entry.stderr, "stdout"))
            )
        entry.tasks.append(asyncio.create_task(self._watch(entry)))
        self._processes[spec.name] = entry
        self._publish("start", entry)
        logger.info("started process %s (pid %d)", spec.name, process.pid)
        return InstanceHandle(
            driver=self.name,
            ref=spec.name,
            name=spec.name,
            transport=spec.transport,
            port=port,
            url=http_url(LOOPBACK, port, spec.mcp_path) if port else None,
        )

    async def _argv(self, spec: InstanceSpec) -> tuple[list[str], Path | None]:
        if spec.package is not None:
            venv = await self.venvs.ensure(spec.package)
            entry = self.venvs.entry(venv, spec.package)
            return [*entry, *spec.command, *spec.args], venv / "bin"
        if spec.npm is not None:
            installed, node = await self.node.for_process(spec.npm)
            script = installed.root / installed.script(spec.npm.bin)
            # The server's own children (``node``, npm's scripts) find the same Node.js.
            argv = [str(node.path), *spec.npm.node_args, str(script), *spec.args]
            return argv, node.path.parent
        if spec.command:
            program, *rest = spec.command
            # "{python}" is the interpreter this backend runs on: catalog entries (the starter
            # catalog's example server) name it without knowing where it is installed.
            program = sys.executable if program == PYTHON_PLACEHOLDER else program
            return [program, *rest, *spec.args], None
        raise Invalid(
            "a process instance needs a command or a package (PyPI or npm)"
            + (" (an image runs only on Docker)" if spec.image else ""),
            field="command",
        )

    async def _watch(self, entry: _Process) -> None:
        # Polled rather than process.wait(): that also waits for pipe EOF, which a
        # grandchild holding our pipes would delay past the server's own death.
        while (code := entry.process.returncode) is None:  # noqa: ASYNC110
            await asyncio.sleep(_POLL_INTERVAL)
        entry.exit_code = 128 - code if code < 0 else code
        entry.stderr.note(f"process exited with code {entry.exit_code}")
        entry.exited.set()
        self._publish("die", entry)

    def _publish(self, kind: EventKind, entry: _Process) -> None:
        self._fanout.publish(
            RuntimeEvent(
                kind=kind,
                driver=self.name,
                ref=entry.spec.name,
                deployment_id=entry.spec.deployment_id,
                instance_id=entry.spec.instance_id,
                version=entry.spec.version,
                at=datetime.now(UTC),
                exit_code=entry.exit_code if kind == "die" else None,
            )
        )

    def _get(self, ref: str) -> _Process:
        entry = self._processes.get(ref)
        if entry is None:
            raise NotFound(f"no managed process {ref!r}", field="ref")
        return entry

    async def stop(self, ref: str, timeout: float = 10.0) -> int | None:  # noqa: ASYNC109
        """Close stdin, then SIGTERM the group, then SIGKILL it; returns the exit code.

        A stdio server gets up to 2 s (or half the timeout) to exit on end of input; the
        rest of ``timeout`` goes to SIGTERM before SIGKILL.
        """
        entry = self._get(ref)
        if entry.running and entry.channel is not None:
            stdin_grace = min(STDIN_GRACE, timeout / 2)
            await entry.channel.close_stdin()
            await _wait(entry, stdin_grace)
            timeout -= stdin_grace
        if entry.running:
            _signal_group(entry, signal.SIGTERM)
            await _wait(entry, timeout)
        if entry.running:
            _signal_group(entry, signal.SIGKILL)
            await entry.exited.wait()
        logger.info("stopped process %s (exit %s)", ref, entry.exit_code)
        return entry.exit_code

    async def remove(self, ref: str) -> None:
        """Kill the process group if needed, then forget the instance and its directory."""
        entry = self._get(ref)
        if entry.running:
            _signal_group(entry, signal.SIGKILL)
            await entry.exited.wait()
        else:
            # Leftover children of an exited server die with it.
            _signal_group(entry, signal.SIGKILL)
        del self._processes[ref]
        if entry.channel is not None:
            await entry.channel.aclose()
        for task in entry.tasks:
            task.cancel()
        for task in entry.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await asyncio.to_thread(shutil.rmtree, entry.workdir, True)
        logger.info("removed process %s", ref)

    async def list_managed(self) -> list[ManagedInstance]:
        """The instances this manager started and has not removed."""
        return [
            ManagedInstance(
                driver=self.name,
                ref=name,
                name=name,
                deployment_id=entry.spec.deployment_id,
                instance_id=entry.spec.instance_id,
                version=entry.spec.version,
                transport=entry.spec.transport,
                running=entry.running,
                exit_code=entry.exit_code,
                port=entry.port if entry.running else None,
                url=http_url(LOOPBACK, entry.port, entry.spec.mcp_path)
                if entry.port and entry.running
                else None,
                labels=entry.spec.managed_labels(),
            )
            for name, entry in self._processes.items()
        ]

    async def is_running(self, ref: str) -> bool:
        """Whether the process is alive."""
        return self._get(ref).running

    def pid(self, ref: str) -> int | None:
        """The process id of a running instance (its process group's leader), else ``None``."""
        entry = self._processes.get(ref)
        return entry.process.pid if entry is not None and entry.running else None

    async def open_stdio(self, ref: str) -> StdioChannel:
        """The pipe channel of a stdio process.

        Raises:
            Invalid: the instance speaks HTTP.
            Unavailable: the process has exited.
        """
        entry = self._get(ref)
        if entry.channel is None:
            raise Invalid(f"{ref} serves Streamable HTTP, not stdio", field="ref")
        if not entry.running and entry.channel.at_eof:
            raise Unavailable(f"{ref} has exited (code {entry.exit_code})")
        return entry.channel

    async def logs(self, ref: str, tail: int = 100) -> list[str]:
        """The last lines the process wrote to stderr (and, for HTTP servers, stdout)."""
        return self._get(ref).stderr.tail(tail)

    def events(self) -> DriverEventFanout.Subscription:
        """Start and die events from this moment on."""
        return self._fanout.subscribe()

    async def close(self) -> None:
        """Stop and remove every process (they cannot outlive the backend usefully)."""
        refs = list(self._processes)
        await asyncio.gather(*(self.stop(ref, timeout=5.0) for ref in refs), return_exceptions=True)
        for ref in refs:
            with contextlib.suppress(NotFound):
                await self.remove(ref)
        await self._fanout.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _signal_group(entry: _Process, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(entry.process.pid, sig)


async def _wait(entry: _Process, timeout: float) -> None:  # noqa: ASYNC109
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(entry.exited.wait(), max(timeout, 0))

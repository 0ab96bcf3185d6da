"""MCP-level health checks: an era-aware probe, hysteresis, one watcher per instance."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio

from mcp_console.backend.deploy.drivers.base import RuntimeDriver
from mcp_console.backend.ports import ProbeResult
from mcp_console.backend.stdio.channel import StdioChannel
from mcp_console.backend.stdio.sdk_transport import stdio_transport
from mcp_console.schemas.deploy import HealthState
from mcp_console.settings import DeploySettings

logger = logging.getLogger(__name__)

# Until an instance is first healthy it is probed this often, so it turns green quickly.
STARTING_PROBE_INTERVAL = 0.25
_MAX_ERROR_CHARS = 500
# How long closing waits for cancelled probes to end.
CLOSE_TIMEOUT = 5.0


def describe(exc: BaseException) -> str:
    """A one-line reason from an exception, looking inside task-group exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return reason[:_MAX_ERROR_CHARS]


async def probe(target: Any, timeout: float) -> ProbeResult:  # noqa: ASYNC109
    """Open an MCP session on ``target`` and list its tools, within ``timeout`` seconds.

    ``target`` is a Streamable HTTP URL or a transport such as ``stdio_transport(channel)``.
    The SDK client's ``auto`` mode tries the modern ``server/discover`` first and falls back
    to the legacy ``initialize`` handshake, so ``ping`` is never sent to a modern server.
    """
    # The SDK loads with the first probe, not with the backend.
    from mcp import Client

    started = time.monotonic()
    try:
        with anyio.fail_after(timeout):
            async with Client(target, mode="auto", read_timeout_seconds=timeout) as client:
                tools = await client.list_tools()
                return ProbeResult(
                    ok=True,
                    protocol=client.protocol_version,
                    tools=len(tools.tools),
                    seconds=time.monotonic() - started,
                )
    except TimeoutError:
        raise_if_cancelled()
        error = f"no MCP answer within {timeout:g} s"
    except Exception as exc:
        raise_if_cancelled()
        error = describe(exc)
    return ProbeResult(ok=False, error=error, seconds=time.monotonic() - started)


def raise_if_cancelled() -> None:
    """Re-raise a cancellation of this task that a library turned into another error.

    A task cancelled while the SDK's cancel scope hits its own deadline can see only the
    TimeoutError; its cancellation is still pending (``cancelling()``) and must win, or
    whoever cancelled it waits for ever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class StdioLeases:
    """One user at a time on a stdio instance's channel: the health probe, a test, the gateway.

    A stdio server has one stdin and one stdout; two sessions reading it at once would take
    each other's answers.
    """

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    def busy(self, ref: str) -> bool:
        """Whether someone holds the channel now."""
        lock = self._locks.get(ref)
        return lock is not None and lock.locked()

    @asynccontextmanager
    async def lease(self, driver: RuntimeDriver, ref: str) -> AsyncIterator[StdioChannel]:
        """The channel of ``ref``, held exclusively for the block."""
        lock = self._locks.setdefault(ref, asyncio.Lock())
        async with lock:
            yield await driver.open_stdio(ref)

    def forget(self, ref: str) -> None:
        """Drop the lock of an instance that is gone."""
        lock = self._locks.get(ref)
        if lock is not None and not lock.locked():
            del self._locks[ref]


async def probe_instance(
    driver: RuntimeDriver,
    ref: str,
    url: str | None,
    leases: StdioLeases,
    timeout: float,  # noqa: ASYNC109
) -> ProbeResult:
    """Probe one instance: over HTTP at ``url``, or over its leased stdio channel."""
    if url is not None:
        return await probe(url, timeout)
    if leases.busy(ref):
        # In use by a session: that traffic is the MCP check; the process must still live.
        alive = await driver.is_running(ref)
        return ProbeResult(ok=alive, error=None if alive else "the process has exited")
    try:
        async with leases.lease(driver, ref) as channel:
            return await probe(stdio_transport(channel), timeout)
    except Exception as exc:
        return ProbeResult(ok=False, error=describe(exc))


class Hysteresis:
    """``healthy_after`` successes in a row make an instance HEALTHY, ``unhealthy_after``
    failures in a row make it UNHEALTHY; anything in between keeps the state it had."""

    def __init__(self, healthy_after: int, unhealthy_after: int) -> None:
        self.healthy_after = healthy_after
        self.unhealthy_after = unhealthy_after
        self.state = HealthState.UNKNOWN
        self.successes = 0
        self.failures = 0

    def record(self, ok: bool) -> bool:
        """Count one probe; returns whether the state changed."""
        before = self.state
        if ok:
            self.successes += 1
            self.failures = 0
            if self.successes >= self.healthy_after:
                self.state = HealthState.HEALTHY
        else:
            self.failures += 1
            self.successes = 0
            if self.failures >= self.unhealthy_after:
                self.state = HealthState.UNHEALTHY
        return self.state != before


Prober = Callable[[str], Awaitable[ProbeResult]]
# (ref, result, state, changed, counted): a failure within the start grace is not counted.
Reporter = Callable[[str, ProbeResult, HealthState, bool, bool], Awaitable[None]]


class HealthMonitor:
    """Probes every watched instance on its own task and reports each result.

    A new instance's failures count only after ``start_grace`` (servers take a while to
    load); until it is first healthy it is probed every 0.25 s, then every ``interval``.
    """

    def __init__(self, settings: DeploySettings, prober: Prober, reporter: Reporter) -> None:
        self.settings = settings
        self._prober = prober
        self._reporter = reporter
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def watch(self, ref: str) -> None:
        """Start probing ``ref`` (again from UNKNOWN if it was watched before)."""
        self.unwatch(ref)
        self._tasks[ref] = asyncio.create_task(self._run(ref), name=f"health {ref}")

    def unwatch(self, ref: str) -> None:
        """Stop probing ``ref``."""
        task = self._tasks.pop(ref, None)
        if task is not None:
            task.cancel()

    def watching(self, ref: str) -> bool:
        """Whether ``ref`` is being probed."""
        return ref in self._tasks

    def is_current(self, ref: str) -> bool:
        """Whether the running task is ``ref``'s current watcher (not one replaced since)."""
        task = self._tasks.get(ref)
        return task is not None and task is asyncio.current_task()

    async def _run(self, ref: str) -> None:
        settings = self.settings
        state = Hysteresis(settings.healthy_threshold, settings.unhealthy_threshold)
        started = time.monotonic()
        ever_healthy = False
        while True:
            result = await self._prober(ref)
            raise_if_cancelled()
            in_grace = not ever_healthy and time.monotonic() - started < settings.start_grace
            counted = result.ok or not in_grace
            changed = state.record(result.ok) if counted else False
            ever_healthy = ever_healthy or state.state is HealthState.HEALTHY
            try:
                await self._reporter(ref, result, state.state, changed, counted)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("recording the health of %s failed", ref)
            interval = settings.health_interval
            if not ever_healthy:
                interval = min(interval, STARTING_PROBE_INTERVAL)
            await asyncio.sleep(max(interval - result.seconds, 0.0) if ever_healthy else interval)

    async def close(self) -> None:
        """Stop every probe (waiting a bounded time for them to end)."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=CLOSE_TIMEOUT)
            for task in stuck:
                logger.warning("health check %s did not stop when cancelled", task.get_name())
